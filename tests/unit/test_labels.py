"""Label sources: the classifier, a labels.csv and a WD14 tagger (a tiny ONNX model built here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from training.labels import (
    ClassifierSource,
    CsvSource,
    LabelError,
    MissingLabelError,
    Wd14Tagger,
    hard_labels,
    open_label_source,
)
from training.synth.dataset import FolderFaces
from training.synth.schema import ATTRIBUTE_BY_NAME

BLUE = (40, 60, 220)  # RGB
RED = (220, 40, 30)
GREY = (128, 128, 128)
TAGS = ["1girl", "blue_hair", "red_hair", "long_hair", "blush", "hair_bow"]


def picture(rgb: tuple[int, int, int], h: int = 32, w: int = 32) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3)).copy()


def write_tagger(
    folder,
    *,
    tags: list[str] = TAGS,
    outputs: int | None = None,
    input_shape: tuple = ("batch", 32, 32, 3),
) -> None:
    """A WD14-style folder: mean colour over the picture (B, G, R order) -> linear -> sigmoid.

    blue_hair lights up when blue exceeds red, red_hair the other way; long_hair never does;
    blush is always 0.88 and hair_bow 0.05.
    """
    onnx = pytest.importorskip("onnx")  # a dev dependency; the CSV tests run without it
    from onnx import TensorProto, helper, numpy_helper

    n = len(TAGS) if outputs is None else outputs
    weight = np.zeros((3, n), np.float32)
    bias = np.full(n, -3.0, np.float32)
    weight[:, 1] = [0.05, 0.0, -0.05]  # blue_hair: (B - R) / 20 - 1
    weight[:, 2] = [-0.05, 0.0, 0.05]  # red_hair:  (R - B) / 20 - 1
    bias[[1, 2]] = -1.0
    bias[4] = 2.0  # blush
    axes = [1, 2] if input_shape[-1] == 3 else [2, 3]
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input_1:0"], ["mean"], axes=axes, keepdims=0),
            helper.make_node("MatMul", ["mean", "weight"], ["scaled"]),
            helper.make_node("Add", ["scaled", "bias"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["predictions_sigmoid"]),
        ],
        "tiny_tagger",
        [helper.make_tensor_value_info("input_1:0", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("predictions_sigmoid", TensorProto.FLOAT, ["batch", n])],
        initializer=[
            numpy_helper.from_array(weight, "weight"),
            numpy_helper.from_array(bias, "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    rows = [f"{i},{tag},0,{1000 - i}" for i, tag in enumerate(tags)]
    (folder / "selected_tags.csv").write_text("tag_id,name,category,count\n" + "\n".join(rows))


@pytest.fixture(scope="module")
def tagger(tmp_path_factory) -> Wd14Tagger:
    folder = tmp_path_factory.mktemp("wd14")
    write_tagger(folder)
    return Wd14Tagger(folder)


# --- WD14 tagger ----------------------------------------------------------------------


def test_tagger_reads_hair_colour_from_the_pixels(tagger):
    images = np.stack([picture(BLUE), picture(RED), picture(GREY)])
    labels = tagger.label(images)
    assert set(tagger.attributes) == {"hair_color", "hair_length", "blush", "accessory"}
    colours = tagger.attributes["hair_color"]
    hair = labels["hair_color"]
    assert hair.shape == (3, len(colours)) and hair.dtype == np.float32
    assert colours[hair[0].argmax()] == "blue"
    assert colours[hair[1].argmax()] == "red"
    np.testing.assert_allclose(hair[:2].sum(axis=1), 1.0, atol=1e-5)
    # grey: neither tag reaches the threshold, so the tagger cannot tell
    assert np.isnan(hair[2]).all()
    assert hard_labels(hair).tolist() == [colours.index("blue"), colours.index("red"), -1]


def test_tagger_unknown_and_negative_classes(tagger):
    labels = tagger.label(np.stack([picture(BLUE), picture(RED)]))
    # no length tag is ever above the threshold
    assert np.isnan(labels["hair_length"]).all()
    # blush has only a "true" tag: p(false) = 1 - p(true), always known
    np.testing.assert_allclose(labels["blush"], [[0.12, 0.88]] * 2, atol=0.01)
    # accessory: no tag above the threshold -> none = 1 - max(tags)
    accessory = labels["accessory"]
    assert not np.isnan(accessory).any()
    np.testing.assert_allclose(accessory.sum(axis=1), 1.0, atol=1e-5)
    assert (accessory.argmax(axis=1) == tagger.attributes["accessory"].index("none")).all()


def test_tagger_pads_non_square_pictures_with_white_and_resizes(tagger):
    tall, wide = picture(BLUE, 40, 20), picture(RED, 50, 120)
    labels = tagger.label(tall[None]), tagger.label(wide[None])
    colours = tagger.attributes["hair_color"]
    assert colours[labels[0]["hair_color"][0].argmax()] == "blue"
    assert colours[labels[1]["hair_color"][0].argmax()] == "red"
    # white padding pulls the mean towards grey: less sure than for a square picture
    square = tagger.tag_probabilities(picture(BLUE)[None])[0, 1]
    padded = tagger.tag_probabilities(tall[None])[0, 1]
    assert 0.35 < padded < square


def test_tagger_with_a_fixed_batch_size(tmp_path):
    write_tagger(tmp_path, input_shape=(1, 32, 32, 3))
    tagger = Wd14Tagger(tmp_path)
    assert tagger.side == 32 and tagger.batch_size == 1
    hair = tagger.label(np.stack([picture(RED), picture(BLUE), picture(RED)]))["hair_color"]
    colours = tagger.attributes["hair_color"]
    assert [colours[i] for i in hair.argmax(axis=1)] == ["red", "blue", "red"]


def test_tagger_refuses_a_broken_folder(tmp_path):
    with pytest.raises(LabelError, match="not a folder"):
        Wd14Tagger(tmp_path / "nowhere")
    write_tagger(tmp_path / "a")
    (tmp_path / "a" / "model.onnx").unlink()
    with pytest.raises(LabelError, match=r"no model\.onnx"):
        Wd14Tagger(tmp_path / "a")
    write_tagger(tmp_path / "b")
    (tmp_path / "b" / "selected_tags.csv").unlink()
    with pytest.raises(LabelError, match=r"no selected_tags\.csv"):
        Wd14Tagger(tmp_path / "b")
    write_tagger(tmp_path / "c", outputs=len(TAGS) + 1)
    with pytest.raises(LabelError, match=r"lists 6 tags but model\.onnx has 7 outputs"):
        Wd14Tagger(tmp_path / "c")
    write_tagger(tmp_path / "d", input_shape=("batch", 3, 32, 32))
    with pytest.raises(
        LabelError, match=r"expected one float image input \(batch, side, side, 3\)"
    ):
        Wd14Tagger(tmp_path / "d")
    write_tagger(tmp_path / "e")
    (tmp_path / "e" / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(LabelError, match="not a model onnxruntime can run"):
        Wd14Tagger(tmp_path / "e")
    write_tagger(tmp_path / "f", tags=["1girl", "smile", "solo", "cat", "dog", "sky"])
    with pytest.raises(LabelError, match="none of the mapped tags"):
        Wd14Tagger(tmp_path / "f")


def test_tagger_refuses_a_mapping_to_unknown_classes(tmp_path):
    write_tagger(tmp_path)
    with pytest.raises(LabelError, match="unknown hair_color 'plaid'"):
        Wd14Tagger(tmp_path, mapping={"blue_hair": ("hair_color", "plaid")})
    with pytest.raises(LabelError, match="unknown attribute 'hat'"):
        Wd14Tagger(tmp_path, mapping={"blue_hair": ("hat", "blue")})


# --- labels.csv -----------------------------------------------------------------------

GOOD_CSV = """file,hair_color,hair_length,hair_length_value
000000.png,blue,long,0.9000
000001.png,,short,0.1000
sub/face,red,,
"""


def test_csv_source_gives_one_hot_rows_and_nan_where_empty(tmp_path):
    (tmp_path / "labels.csv").write_text(GOOD_CSV)
    source = CsvSource(tmp_path / "labels.csv")
    assert list(source.attributes) == ["hair_color", "hair_length"]
    names = ["000001.png", "sub/face.png", str(tmp_path / "000000.png")]
    labels = source.label(np.zeros((3, 4, 4, 3), np.uint8), names)
    colours, lengths = source.attributes["hair_color"], source.attributes["hair_length"]
    assert hard_labels(labels["hair_color"]).tolist() == [
        -1,
        colours.index("red"),
        colours.index("blue"),
    ]
    assert hard_labels(labels["hair_length"]).tolist() == [
        lengths.index("short"),
        -1,
        lengths.index("long"),
    ]
    assert np.isnan(labels["hair_color"][0]).all()
    assert labels["hair_color"].dtype == np.float32
    assert labels["hair_color"][1].sum() == 1.0


def test_csv_source_names_a_missing_picture(tmp_path):
    (tmp_path / "labels.csv").write_text(GOOD_CSV)
    source = CsvSource(tmp_path / "labels.csv")
    images = np.zeros((1, 4, 4, 3), np.uint8)
    with pytest.raises(MissingLabelError, match=r"no row for 000009\.png") as info:
        source.label(images, ["000009.png"])
    assert isinstance(info.value, KeyError)
    with pytest.raises(ValueError, match="file names"):
        source.label(images)
    with pytest.raises(ValueError, match="1 images but 2 names"):
        source.label(images, ["000000.png", "000001.png"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file,hair_color\na.png,blue\nb.png,plaid\n", r"line 3: unknown hair_color 'plaid'"),
        ("name,hair_color\na.png,blue\n", r"line 1: needs a 'file' column"),
        ("file,hair_colour\na.png,blue\n", r"line 1: unknown column 'hair_colour'"),
        ("file,hair_color\na.png,blue\na.png,red\n", r"line 3: a.png is listed again \(first"),
        ("file,hair_color\n,blue\n", r"line 2: no file name"),
        ("file,hair_length_value\na.png,long\n", r"line 2: hair_length_value of a.png"),
        ("", r"empty"),
        ("file\na.png\n", r"no attribute columns"),
    ],
)
def test_csv_source_refuses_a_broken_table(tmp_path, text, message):
    (tmp_path / "labels.csv").write_text(text)
    with pytest.raises(LabelError, match=message):
        CsvSource(tmp_path / "labels.csv")


def test_folder_dataset_reads_its_labels_through_the_same_table(tmp_path):
    Image.new("RGB", (32, 32), BLUE).save(tmp_path / "face.png")
    (tmp_path / "labels.csv").write_text("file,hair_color\nface,blue\n")
    labels = FolderFaces(tmp_path, 32)[0]["labels"].tolist()
    assert labels[0] == ATTRIBUTE_BY_NAME["hair_color"].index("blue")  # hair_color comes first
    assert labels[1:] == [-1] * (len(labels) - 1)
    (tmp_path / "labels.csv").write_text("file,hair_color\nface.png,plaid\n")
    with pytest.raises(ValueError, match="unknown hair_color 'plaid'"):
        FolderFaces(tmp_path, 32)


# --- the classifier -------------------------------------------------------------------


def tiny_classifier() -> AttributeClassifier:
    torch.manual_seed(0)
    attributes = (("hair_color", ("a", "b")),)
    return AttributeClassifier(
        ClassifierConfig(resolution=16, attributes=attributes, width=4, depth=2)
    )


def test_classifier_source_returns_probabilities_per_picture():
    source = ClassifierSource(tiny_classifier(), device="cpu", batch_size=2)
    assert source.attributes == {"hair_color": ("a", "b")}
    images = np.random.default_rng(0).integers(0, 256, (5, 20, 24, 3), dtype=np.uint8)
    probs = source.label(images)["hair_color"]
    assert probs.shape == (5, 2) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="uint8"):
        source.label(images.astype(np.float32))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        source.label(images[..., :2])


# --- helpers --------------------------------------------------------------------------


def test_hard_labels_drops_unknown_and_unsure_rows():
    probs = np.array([[0.9, 0.1], [np.nan, np.nan], [0.55, 0.45], [0.2, 0.8]], np.float32)
    assert hard_labels(probs).tolist() == [0, -1, 0, 1]
    assert hard_labels(probs, min_confidence=0.6).tolist() == [0, -1, -1, 1]
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        hard_labels(probs[0])


def test_open_label_source_parses_command_line_specs(tmp_path):
    classifier = tiny_classifier()
    assert isinstance(open_label_source("classifier", classifier=classifier), ClassifierSource)
    (tmp_path / "labels.csv").write_text(GOOD_CSV)
    assert isinstance(open_label_source(f"csv:{tmp_path / 'labels.csv'}"), CsvSource)
    write_tagger(tmp_path / "wd14")
    tagger = open_label_source(f"wd14:{tmp_path / 'wd14'}", threshold=0.5)
    assert isinstance(tagger, Wd14Tagger) and tagger.threshold == 0.5
    with pytest.raises(LabelError, match="no classifier"):
        open_label_source("classifier")
    with pytest.raises(LabelError, match="needs a path"):
        open_label_source("csv:")
    with pytest.raises(LabelError, match="not a classifier run folder"):
        open_label_source(f"classifier:{tmp_path}")
    with pytest.raises(LabelError, match="expected classifier, classifier:RUN_DIR, csv:FILE"):
        open_label_source("clip:model")

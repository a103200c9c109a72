"""The attribute classifier: network shapes, config round trip, training run, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from training.classifier.train import (
    ClassifierOptions,
    augment,
    classification_loss,
    evaluate,
    load_classifier,
    render_cache,
    train_classifier,
    twin_agreement,
    twin_consistency,
)
from training.cli import main as train_main
from training.synth.dataset import SyntheticFaces, TwinFaces
from training.synth.params import face_rng, sample_face
from training.synth.schema import ATTRIBUTES

ATTRS = (("hair", ("black", "blonde", "red")), ("glasses", ("false", "true")))


def tiny(**overrides: object) -> ClassifierConfig:
    return ClassifierConfig(
        **{"resolution": 32, "attributes": ATTRS, "width": 4, "depth": 2, **overrides}
    )


@pytest.mark.parametrize("norm", ["batch", "group"])
@pytest.mark.parametrize("stem_stride", [1, 2])
def test_shapes(norm: str, stem_stride: int) -> None:
    config = tiny(norm=norm, stem_stride=stem_stride)
    model = AttributeClassifier(config)
    x = torch.rand(5, 3, 32, 32) * 2 - 1
    logits = model(x)
    assert list(logits) == ["hair", "glasses"]
    assert logits["hair"].shape == (5, 3) and logits["glasses"].shape == (5, 2)
    assert model.features(x).shape == (5, config.feature_dim) == (5, 16)
    probs = model.predict(x)
    for name, p in probs.items():
        assert p.shape == logits[name].shape
        torch.testing.assert_close(p.sum(dim=1), torch.ones(5))


def test_predict_resizes_and_keeps_mode() -> None:
    model = AttributeClassifier(tiny()).eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    small = torch.nn.functional.interpolate(
        x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True
    )
    model.train()
    big = model.predict(x)
    assert model.training
    model.eval()
    torch.testing.assert_close(big["hair"], torch.softmax(model(small)["hair"], dim=1))
    with pytest.raises(ValueError, match="32x32"):
        model(x)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        model.predict(torch.zeros(3, 32, 32))


def test_config_round_trip_through_json() -> None:
    config = tiny(norm="group", max_channels=8)
    data = json.loads(json.dumps(config.to_dict()))
    assert data["attributes"] == [
        ["hair", ["black", "blonde", "red"]],
        ["glasses", ["false", "true"]],
    ]
    again = ClassifierConfig.from_dict(data)
    assert again == config and hash(again) == hash(config)
    assert again.classes["hair"] == ("black", "blonde", "red")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resolution": 48}, "power of two"),
        ({"resolution": 8}, "power of two"),
        ({"attributes": ()}, "non-empty"),
        ({"attributes": (("Hair", ("a", "b")),)}, "lowercase identifier"),
        ({"attributes": (("hair", ("a",)),)}, "at least two class names"),
        ({"attributes": (("hair", ("a", "a")),)}, "repeats"),
        ({"attributes": (("x", ("a", "b")), ("x", ("c", "d")))}, "appears twice"),
        ({"width": 0}, "width must be a positive integer"),
        ({"depth": True}, "depth must be a positive integer"),
        ({"depth": 5}, "below 1 px"),
        ({"max_channels": 2}, "at least width"),
        ({"norm": "layer"}, "norm must be one of"),
        ({"stem_stride": 3}, "stem_stride"),
    ],
)
def test_config_validation(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tiny(**change)


def test_from_dict_rejects_unknown_and_missing_keys() -> None:
    data = tiny().to_dict()
    with pytest.raises(ValueError, match="unknown keys"):
        ClassifierConfig.from_dict({**data, "colour": 1})
    del data["attributes"]
    with pytest.raises(ValueError, match="missing keys"):
        ClassifierConfig.from_dict(data)
    with pytest.raises(ValueError, match="JSON object"):
        ClassifierConfig.from_dict([1])


class FakeModel(nn.Module):
    """Predicts, for image i, class ``answers[name][i]`` (stored in pixel [0, 0, 0])."""

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        index = ((images[:, 0, 0, 0] + 1) * 127.5).round().long()  # the face's position
        return {
            "hair": nn.functional.one_hot(index % 3, 3).float(),
            "glasses": nn.functional.one_hot(torch.zeros_like(index), 2).float(),
        }


def test_evaluate_counts_right_answers() -> None:
    images = torch.zeros(10, 3, 4, 4, dtype=torch.uint8)
    images[:, 0, 0, 0] = torch.arange(10, dtype=torch.uint8)
    hair = torch.arange(10) % 3
    hair[:4] = (hair[:4] + 1) % 3  # 4 of 10 wrong
    glasses = torch.tensor([0, 0, 0, 1, 1, -1, -1, -1, -1, -1])  # 3 of 5 known right
    labels = torch.stack([hair, glasses], dim=1)
    accuracy = evaluate(FakeModel(), images, labels, ("hair", "glasses"), batch_size=3)
    assert accuracy == {"hair": pytest.approx(0.6), "glasses": pytest.approx(0.6)}
    unknown = evaluate(
        FakeModel(), images, torch.full((10, 2), -1), ("hair", "glasses"), batch_size=4
    )
    assert math.isnan(unknown["hair"])
    with pytest.raises(ValueError, match="expected labels"):
        evaluate(FakeModel(), images, labels[:, :1], ("hair", "glasses"))


def test_loss_sums_attributes_and_skips_unknown() -> None:
    logits = {"hair": torch.zeros(2, 3), "glasses": torch.zeros(2, 2)}
    labels = torch.tensor([[0, 1], [2, -1]])
    loss = classification_loss(logits, labels, ("hair", "glasses"))
    assert loss.item() == pytest.approx(math.log(3) + math.log(2))


def test_augment_keeps_shape_and_colours_and_is_seeded() -> None:
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    a = augment(images, torch.Generator().manual_seed(1), 0.06, 0.06)
    b = augment(images, torch.Generator().manual_seed(1), 0.06, 0.06)
    assert a.shape == images.shape
    torch.testing.assert_close(a, b)
    flat = torch.full((2, 3, 8, 8), 0.25)
    torch.testing.assert_close(augment(flat, torch.Generator(), 0.1, 0.1), flat)
    same = augment(images, torch.Generator(), 0.0, 0.0)  # no shift or zoom: identity or flip
    for i in range(4):
        assert torch.allclose(same[i], images[i], atol=1e-5) or torch.allclose(
            same[i], images[i].flip(-1), atol=1e-5
        )


def test_render_cache_matches_dataset() -> None:
    data = SyntheticFaces(3, 32, seed=5)
    images, labels = render_cache(data, workers=0)
    assert images.dtype == torch.uint8 and images.shape == (3, 3, 32, 32)
    item = data[2]
    torch.testing.assert_close(images[2].float() / 127.5 - 1, item["image"], atol=1e-5, rtol=0)
    assert torch.equal(labels[2], item["labels"])


def test_twins_differ_in_one_attribute_only() -> None:
    twins, faces = TwinFaces(12, 32, seed=3), SyntheticFaces(12, 32, seed=3)
    moved = set()
    for i in range(len(twins)):
        item, plain = twins[i], faces[i]
        torch.testing.assert_close(item["image"], plain["image"])  # the same faces
        assert torch.equal(item["labels"], plain["labels"])
        differ = (item["labels"] != item["twin_labels"]).nonzero().flatten().tolist()
        assert len(differ) == 1
        name = ATTRIBUTES[differ[0]].name
        moved.add(name)
        face, twin = sample_face(face_rng(3, i)), twins.twin_params(i)
        derived = {"hair_color": "hair_rgb", "eye_color": "eye_rgb"}
        derived["hair_length"] = "hair_length_value"
        for field in face.__dataclass_fields__:
            if field not in (name, derived.get(name)):
                assert getattr(face, field) == getattr(twin, field), (name, field)
        assert not torch.equal(item["image"], item["twin_image"])
    assert len(moved) > 2  # the changed attribute is drawn, not always the same
    images, labels = render_cache(TwinFaces(3, 32, seed=3), workers=0)
    assert images.shape == (3, 2, 3, 32, 32) and labels.shape == (3, 2, len(ATTRIBUTES))
    torch.testing.assert_close(
        images[1, 1].float() / 127.5 - 1, twins[1]["twin_image"], atol=1e-5, rtol=0
    )


def test_twin_consistency_counts_only_the_shared_attributes() -> None:
    names = ("hair", "glasses")
    labels = torch.tensor([[[0, 1], [2, 1]]])  # the pair differs in hair only
    same = {
        "hair": torch.tensor([[3.0, 0, 0], [0, 0, 3]]),
        "glasses": torch.tensor([[1.0, 2], [1, 2]]),
    }
    assert twin_consistency(same, labels, names).item() == pytest.approx(0)  # hair may part
    parted = same | {"glasses": torch.tensor([[2.0, 0], [0, 2]])}
    loss = twin_consistency(parted, labels, names)
    p, q = torch.tensor([0.8808, 0.1192]), torch.tensor([0.1192, 0.8808])
    assert loss.item() == pytest.approx(
        0.5 * float(((p - q) * (p.log() - q.log())).sum()), rel=1e-3
    )
    assert twin_consistency(parted, torch.tensor([[[0, -1], [2, -1]]]), names).item() == 0


class _Brightness(nn.Module):
    """Reads every attribute from the whole image's brightness: any change anywhere moves it."""

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        level = x.mean(dim=(1, 2, 3))
        return {
            a.name: torch.stack([(level * 50 + k).sin() for k in range(len(a.classes))], dim=1)
            for a in ATTRIBUTES
        }


def test_twin_agreement_finds_a_classifier_that_reads_other_pixels() -> None:
    images, labels = render_cache(TwinFaces(24, 32, seed=1), workers=0)
    names = tuple(a.name for a in ATTRIBUTES)
    looser = twin_agreement(_Brightness(), images, labels, names)
    assert min(looser.values()) < 0.9
    model = AttributeClassifier(
        ClassifierConfig(
            resolution=32,
            attributes=tuple((a.name, a.classes) for a in ATTRIBUTES),
            width=4,
            depth=2,
        )
    )
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()  # reads nothing: every reading the same
    assert all(v == 1 for v in twin_agreement(model, images, labels, names).values())


def test_options_seeds_and_validation() -> None:
    annotator = ClassifierOptions(size=32, out=Path("x"))
    judge = ClassifierOptions(size=32, out=Path("x"), role="judge")
    seeds = set(annotator.render_seeds()) | set(judge.render_seeds())
    assert len(seeds) == 4  # train and held-out faces differ, and differ between roles
    assert annotator.network_config() != judge.network_config()
    with pytest.raises(ValueError, match="role must be one of"):
        ClassifierOptions(size=32, out=Path("x"), role="critic")
    with pytest.raises(ValueError, match="epochs"):
        ClassifierOptions(size=32, out=Path("x"), epochs=0)
    with pytest.raises(ValueError, match="consistency"):
        ClassifierOptions(size=32, out=Path("x"), consistency=-1)


def test_training_lowers_the_loss_and_writes_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    options = ClassifierOptions(
        size=32, out=out, train_count=48, test_count=16, epochs=6, batch_size=16, workers=0
    )
    steps: list[tuple[int, int]] = []
    result = train_classifier(options, train_progress=lambda s, t: steps.append((s, t)))
    assert steps[-1] == (18, 18)
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    assert sorted(p.name for p in out.iterdir()) == [
        "classifier.json",
        "classifier.safetensors",
        "metrics.json",
        "options.json",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    names = [a.name for a in ATTRIBUTES]
    assert list(metrics["held_out_accuracy"]) == names
    assert all(0 <= v <= 1 for v in metrics["held_out_accuracy"].values())
    record = json.loads((out / "options.json").read_text())
    assert (
        record["role"] == "annotator" and record["train_render_seed"] != record["test_render_seed"]
    )
    model = load_classifier(out)
    assert model.config.names == tuple(names)
    assert model.predict(torch.zeros(1, 3, 64, 64))["eye_color"].shape == (1, 8)
    with pytest.raises(ValueError, match="not an empty folder"):
        train_classifier(options)


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert train_main(["classifier", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--role {annotator,judge}" in out and "--train-count" in out


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        train_main(["classifier", "--size", "64", "--out", str(tmp_path / "a"), "--epochs", "0"])
        == 2
    )
    assert capsys.readouterr().err.startswith("error:")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    code = train_main(["classifier", "--size", "64", "--out", str(tmp_path / "full"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "not an empty folder" in err


def test_cli_trains_a_tiny_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "judge"
    argv = ["classifier", "--size", "32", "--out", str(out), "--role", "judge"]
    argv += ["--train-count", "16", "--test-count", "8", "--epochs", "1", "--quiet"]
    assert train_main(argv) == 0
    assert "trained the judge" in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["held_out_twin_agreement"]) == {a.name for a in ATTRIBUTES}
    config = json.loads((out / "classifier.json").read_text())
    assert config["norm"] == "group"


def test_training_with_twins(tmp_path: Path) -> None:
    out = tmp_path / "twins"
    options = ClassifierOptions(
        size=32,
        out=out,
        train_count=32,
        test_count=8,
        epochs=4,
        batch_size=16,
        workers=0,
        consistency=1.0,
    )
    steps: list[tuple[int, int]] = []
    result = train_classifier(options, train_progress=lambda s, t: steps.append((s, t)))
    assert steps[-1] == (8, 8)  # a batch is 16 faces with their twins
    assert result.epoch_losses[-1] < result.epoch_losses[0]
    assert all(0 <= v <= 1 for v in result.twin_agreement.values())
    assert json.loads((out / "options.json").read_text())["consistency"] == 1.0

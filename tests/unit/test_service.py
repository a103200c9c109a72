"""The desktop's model API: load, generate, invert, render, compose, tags, batch - plain values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nfe_core.bundle import BundleError
from nfe_core.editing import EditError, apply
from nfe_core.facebox import FaceBox
from nfe_core.imageio import load_image
from nfe_core.jobs import Cancelled
from nfe_core.pipeline import land_edits
from nfe_core.service import (
    EditorModel,
    ModelNotReadyError,
    attribute_specs,
    available_devices,
    compose,
)
from nfe_core.session import EditState
from tests.tiny import save_editing_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> EditorModel:
    root = save_editing_bundle(tmp_path_factory.mktemp("m") / "tiny")
    return EditorModel.load(root, "cpu")


@pytest.fixture
def picture_path(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "art.png"
    Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8)).save(path)
    return path


def test_info_describes_the_model_and_its_sliders(model: EditorModel):
    info = model.info
    assert info.resolution == 32 and info.device == "cpu" and len(info.fingerprint) > 8
    assert info.latent_shape == (model.bundle.generator.num_ws, 32)
    assert info.cannot_invert is None and info.cannot_edit is None
    hair, glasses = info.attributes
    assert (hair.name, hair.group, hair.classes) == (
        "hair_color",
        "Hair",
        ("black", "blue", "pink"),
    )
    assert hair.class_directions and hair.direction is None
    assert glasses.direction == ("false", "true") and not glasses.class_directions
    assert info.record() == {"name": "tiny", "fingerprint": info.fingerprint}
    assert available_devices()[-1] == "cpu"


def test_the_sliders_carry_what_the_models_report_measured(model: EditorModel):
    boundaries = model.bundle.boundaries
    report = {
        "edit_success": {"hair_color": 0.97, "glasses": 0.2},
        "edit_success_by_class": {"hair_color": {"blue": 0.95, "pink": 1.0, "black": "n/a"}},
        "inversion": {"edit_success_inverted": {"hair_color": 0.7, "glasses": 1.5}},
    }
    hair, glasses = attribute_specs(boundaries, report)
    assert (hair.success, hair.success_inverted, hair.unreliable) == (0.97, 0.7, False)
    assert hair.success_by_class == (("blue", 0.95), ("pink", 1.0))  # the model's class order
    assert hair.class_success("pink") == 1.0 and hair.class_success("black") is None
    assert glasses.unreliable and glasses.success_inverted is None  # 1.5 is not a fraction
    for odd in (None, {}, {"edit_success": [0.5]}, {"inversion": "none"}):
        assert all(spec.success is None and not spec.unreliable
                   for spec in attribute_specs(boundaries, odd))  # fmt: skip
    assert model.info.attributes == attribute_specs(boundaries, model.bundle.report)
    # the classes its segmenter draws whole on a picture (those the model has)
    drawn = attribute_specs(boundaries, report, {"glasses": ("true", "bow"), "nose": ("x",)})
    assert drawn[1].drawn_whole == ("true",) and drawn[0].drawn_whole == ()
    assert all(spec.drawn_whole == () for spec in model.info.attributes)  # no figures


def test_a_model_without_encoder_says_it_cannot_invert(tmp_path: Path, picture_path: Path):
    model = EditorModel.load(save_editing_bundle(tmp_path / "m", encoder=False), "cpu")
    assert "nfe-train encoder" in (model.info.cannot_invert or "")
    with pytest.raises(ModelNotReadyError):
        model.invert(load_image(picture_path))


def test_a_wrong_folder_is_a_bundle_error(tmp_path: Path):
    with pytest.raises(BundleError):
        EditorModel.load(tmp_path, "cpu")


def test_generate_is_deterministic_and_renders_edits(model: EditorModel):
    face = model.generate(7, 0.5)
    again = model.generate(7, 0.5)
    assert face.kind == "generated" and face.seed == 7 and face.box is None
    assert face.latent.shape == (model.bundle.generator.num_ws, 32)
    assert np.array_equal(face.latent, again.latent)
    assert np.array_equal(face.reconstruction, again.reconstruction)
    assert not np.array_equal(face.reconstruction, model.generate(8, 0.5).reconstruction)
    state = EditState().with_target("hair_color", "blue").with_keep("glasses", True)
    rendered = model.render(face, state, serial=4)
    latent = torch.from_numpy(face.latent)
    landed = land_edits(model.bundle, latent, state.resolved())  # as the model's classifier sees
    expected = apply(latent, landed, model.bundle.boundaries)
    assert np.allclose(rendered.latent, expected.numpy(), atol=1e-6)
    assert rendered.serial == 4 and rendered.image.shape == (32, 32, 3)
    assert not np.array_equal(rendered.image, face.reconstruction)
    unedited = model.render(face, EditState())
    assert unedited.image is face.reconstruction
    with pytest.raises(EditError, match="no attribute"):
        model.render(face, EditState().with_target("eye_color", "red"))
    with pytest.raises(ValueError, match="truncation"):
        model.generate(1, 1.5)


def test_invert_then_compose_puts_only_the_edit_back(model: EditorModel, picture_path: Path):
    picture = load_image(picture_path)
    steps: list[tuple[int, int]] = []
    face = model.invert(
        picture, FaceBox(10, 5, 40, 40), steps=3, progress=lambda *a: steps.append(a),
        tune_steps=2,
    )  # fmt: skip
    assert face.kind == "picture" and face.box == FaceBox(10, 5, 40, 40) and face.steps == 3
    assert steps[-1] == (5, 5) and face.tune_steps == 2
    # the face is drawn and edited by its own tuned generator, kept while it is edited
    assert face.tuned is not None and all(v.dtype == np.float32 for v in face.tuned.values())
    assert "tuned 2" in face.describe()
    unchanged = compose(picture, face, model.render(face, EditState()).image)
    assert np.array_equal(np.asarray(unchanged.rgb), np.asarray(picture.rgb))
    edited = compose(
        picture, face, model.render(face, EditState().with_strength("glasses", 3)).image
    )
    before, after = np.asarray(picture.rgb), np.asarray(edited.rgb)
    assert edited.size == picture.size
    assert np.array_equal(before[:, :10], after[:, :10])  # outside the box: untouched
    assert not np.array_equal(before[5:45, 10:50], after[5:45, 10:50])
    with pytest.raises(ValueError, match="generated"):
        compose(picture, model.generate(1), face.reconstruction)


def test_a_cancelled_inversion_raises_cancelled(model: EditorModel, picture_path: Path):
    with pytest.raises(Cancelled):
        model.invert(load_image(picture_path), steps=5, tune_steps=2, should_stop=lambda: True)


def test_tags_read_a_render(model: EditorModel):
    seen = model.tags(model.generate(3).reconstruction)
    assert set(seen) == {"hair_color", "glasses"}
    label, probability = seen["glasses"]
    assert label in ("false", "true") and 0.5 <= probability <= 1.0


def test_export_batch_goes_on_past_a_bad_file(
    model: EditorModel, picture_path: Path, tmp_path: Path
):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a picture")
    edits = EditState().with_strength("glasses", 2).resolved()
    summary = model.export_batch(
        [picture_path, bad], edits, tmp_path / "out", steps=1, tune_steps=1
    )
    assert [source.name for source, _ in summary.done] == ["art.png"]
    assert [source.name for source, _ in summary.failed] == ["broken.png"]
    with pytest.raises(EditError):
        model.export_batch([picture_path], EditState().with_target("x", "y").resolved(), tmp_path)

"""nfe_core.pipeline: a user's picture -> inverted face -> edit -> only the edit pasted back.

``save_editing_bundle`` (a tiny model with sliders, a classifier and an encoder) is shared
with the preset, batch and ``nfe invert`` tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nfe_core.bundle import Bundle, load_bundle
from nfe_core.editing import EditError, parse_edits
from nfe_core.facebox import BoxError, FaceBox
from nfe_core.imageio import Picture, load_image, save_picture
from nfe_core.pipeline import (
    ModelNotReadyError,
    edit_inverted,
    face_crop,
    face_generator,
    invert_picture,
    model_record,
    paste,
    render,
)
from tests.icc import srgb_profile
from tests.tiny import save_editing_bundle

STRONG = parse_edits(["hair_color:blue=+3", "glasses=+3"])


def noise_picture(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return load_bundle(save_editing_bundle(tmp_path_factory.mktemp("model") / "m"), "cpu")


@pytest.fixture(scope="module")
def art(tmp_path_factory: pytest.TempPathFactory) -> Picture:
    """A 70 x 45 RGBA picture with an ICC profile, loaded as from disk."""
    folder = tmp_path_factory.mktemp("art")
    rgba = np.dstack([noise_picture(70, 45, 1), np.tile(np.arange(70, dtype=np.uint8), (45, 1))])
    Image.fromarray(rgba).save(folder / "art.png", icc_profile=srgb_profile())
    return load_image(folder / "art.png")


def test_inverted_face_has_the_models_shapes(bundle: Bundle, art: Picture) -> None:
    seen: list[tuple[int, int]] = []
    inverted = invert_picture(
        bundle, art, FaceBox(10, 5, 40, 40), steps=3, progress=lambda *a: seen.append(a),
        tune_steps=2,
    )  # fmt: skip
    assert inverted.size == (70, 45) and inverted.box == FaceBox(10, 5, 40, 40)
    assert inverted.crop.shape == (32, 32, 3) and inverted.crop.dtype == np.uint8
    assert inverted.reconstruction.shape == (32, 32, 3)
    assert inverted.latent.shape == (bundle.generator.num_ws, 32)
    assert inverted.latent.device.type == "cpu"
    assert inverted.steps == 3 and inverted.steps_done == 3 and not inverted.cancelled
    assert inverted.tune_steps == 2 and inverted.tune_steps_done == 2
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # the latent's steps, then tuning's
    # the reconstruction is the tuned generator's render; the model's own is another
    assert inverted.tuned is not None
    tuned = face_generator(bundle, inverted.tuned)
    assert np.array_equal(inverted.reconstruction, render(bundle, inverted.latent, tuned))
    assert not np.array_equal(inverted.reconstruction, render(bundle, inverted.latent))
    record = inverted.source_record("art.png")
    assert record["kind"] == "inversion" and record["box"] == [10, 5, 40, 40]
    assert record["steps"] == 3 and record["tune_steps_done"] == 2 and record["seconds"] >= 0
    # tuned faces are edited from one w in every row; untuned ones from the refined W+
    assert torch.equal(inverted.latent, inverted.latent[:1].expand_as(inverted.latent))
    plain = invert_picture(bundle, art, FaceBox(10, 5, 40, 40), steps=3, tune_steps=0)
    assert plain.tuned is None
    assert not torch.equal(plain.latent, plain.latent[:1].expand_as(plain.latent))
    assert np.array_equal(plain.reconstruction, render(bundle, plain.latent))


def test_a_tuned_face_is_edited_by_its_own_generator(bundle: Bundle, art: Picture) -> None:
    inverted = invert_picture(bundle, art, steps=1, tune_steps=3)
    edited = edit_inverted(bundle, inverted, STRONG)
    tuned = face_generator(bundle, inverted.tuned)
    assert np.array_equal(edited.render, render(bundle, edited.latent, tuned))
    assert not np.array_equal(edited.render, render(bundle, edited.latent))


def test_zero_strength_edit_returns_the_original_pixels(
    bundle: Bundle, art: Picture, tmp_path: Path
) -> None:
    inverted = invert_picture(bundle, art, steps=2, tune_steps=2)
    for edits in ([], parse_edits(["glasses=+0", "hair_color:pink=-0"])):
        edited = edit_inverted(bundle, inverted, edits)
        assert torch.equal(edited.latent, inverted.latent)
        result = paste(art, inverted, edited.render)
        assert result.size == art.size
        assert np.array_equal(np.asarray(result.rgb), np.asarray(art.rgb))
        save_picture(result, tmp_path / "same.png")
        again = load_image(tmp_path / "same.png")
        assert np.array_equal(np.asarray(again.rgb), np.asarray(art.rgb))
        assert again.alpha is not None
        assert np.array_equal(np.asarray(again.alpha), np.asarray(art.alpha))
        assert again.icc_profile == art.icc_profile


def test_a_strong_edit_changes_only_the_box(bundle: Bundle, art: Picture) -> None:
    box = FaceBox(30, 10, 30, 30)
    inverted = invert_picture(bundle, art, box, steps=2, tune_steps=2)
    edited = edit_inverted(bundle, inverted, STRONG)
    assert not np.array_equal(edited.render, inverted.reconstruction)
    result = paste(art, inverted, edited.render)
    before, after = np.asarray(art.rgb), np.asarray(result.rgb)
    inside = np.zeros(before.shape[:2], bool)
    inside[box.y : box.bottom, box.x : box.right] = True
    assert np.array_equal(before[~inside], after[~inside])
    assert not np.array_equal(before[inside], after[inside])
    assert result.alpha is art.alpha and result.icc_profile == art.icc_profile


def test_layers_limit_the_edit_to_those_rows(bundle: Bundle, art: Picture) -> None:
    inverted = invert_picture(bundle, art, steps=0, tune_steps=1)
    edited = edit_inverted(bundle, inverted, STRONG, layers=(2, 5))
    changed = (edited.latent != inverted.latent).any(dim=1)
    assert changed.tolist() == [i in range(2, 5) for i in range(bundle.generator.num_ws)]


@pytest.mark.parametrize(("width", "height"), [(20, 14), (300, 40), (32, 32)])
def test_tiny_and_wide_pictures_work(bundle: Bundle, width: int, height: int) -> None:
    picture = Picture(rgb=Image.fromarray(noise_picture(width, height, width)))
    inverted = invert_picture(bundle, picture, steps=1, tune_steps=1)
    side = min(width, height)
    assert inverted.box == FaceBox((width - side) // 2, (height - side) // 2, side, side)
    result = paste(picture, inverted, edit_inverted(bundle, inverted, STRONG).render)
    assert result.size == (width, height)


def test_boxes_are_clamped_and_empty_ones_refused(bundle: Bundle) -> None:
    picture = Picture(rgb=Image.fromarray(noise_picture(40, 30)))
    inverted = invert_picture(bundle, picture, FaceBox(-10, 20, 30, 30), steps=0, tune_steps=1)
    # reaching out by at most a quarter of its side: 6 of the 26 columns, 3 of the 13 rows
    assert inverted.box == FaceBox(-6, 20, 26, 13)
    reaching = FaceBox(-5, -3, 20, 20)  # within a quarter: kept as it is
    assert invert_picture(bundle, picture, reaching, steps=0, tune_steps=1).box == reaching
    with pytest.raises(BoxError, match="empty"):
        invert_picture(bundle, picture, FaceBox(0, 0, 0, 10), steps=0, tune_steps=1)
    with pytest.raises(BoxError, match="entirely outside"):
        invert_picture(bundle, picture, FaceBox(50, 0, 10, 10), steps=0, tune_steps=1)


def test_transparent_areas_are_seen_on_white() -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)  # black and fully transparent
    picture = Picture(rgb=Image.fromarray(rgba[..., :3]), alpha=Image.fromarray(rgba[..., 3]))
    box, crop = face_crop(picture, None, 4)
    assert box == FaceBox(0, 0, 8, 8) and (crop == 255).all()


def test_cancelling_returns_the_best_so_far(bundle: Bundle, art: Picture) -> None:
    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    inverted = invert_picture(bundle, art, steps=20, tune_steps=2, should_stop=stop)
    assert inverted.cancelled and inverted.steps_done == 2
    assert torch.isfinite(inverted.latent).all()


def test_paste_refuses_another_picture(bundle: Bundle, art: Picture) -> None:
    inverted = invert_picture(bundle, art, steps=0, tune_steps=1)
    other = Picture(rgb=Image.fromarray(noise_picture(20, 20)))
    with pytest.raises(ValueError, match="70 x 45 picture"):
        paste(other, inverted, inverted.reconstruction)


def test_edits_the_model_cannot_make_are_refused(bundle: Bundle, art: Picture) -> None:
    inverted = invert_picture(bundle, art, steps=0, tune_steps=1)
    with pytest.raises(EditError, match="no attribute 'hat'"):
        edit_inverted(bundle, inverted, parse_edits(["hat=true"]))


def test_a_model_without_encoder_says_how_to_get_one(tmp_path: Path, art: Picture) -> None:
    plain = load_bundle(save_editing_bundle(tmp_path / "plain", encoder=False), "cpu")
    with pytest.raises(ModelNotReadyError, match="nfe-train encoder --model") as caught:
        invert_picture(plain, art)
    assert isinstance(caught.value, ValueError)
    record = model_record(plain)
    assert record["name"] == "tiny" and len(record["fingerprint"]) == 16

"""nfe_core.facebox: parsing and clamping boxes, cropping the face, pasting only the edit back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nfe_core.facebox import (
    DEFAULT_FEATHER,
    FIGURES,
    OUTSIDE,
    BoxError,
    FaceBox,
    Figure,
    Line,
    Recolour,
    Reshape,
    box_pixels,
    check_box,
    clamp_box,
    crop_face,
    default_box,
    edges_outside,
    fit_box,
    follow_edges,
    largest_side,
    parse_box,
    paste_back,
    paste_back_picture,
    paste_back_region,
)
from nfe_core.imageio import Picture, load_image, save_picture, to_array
from tests.icc import srgb_profile


def coordinates(width: int = 200, height: int = 150) -> np.ndarray:
    """A picture whose red is the column and green the row (modulo 256), blue constant."""
    x = np.arange(width)[None, :].repeat(height, 0) % 256
    y = np.arange(height)[:, None].repeat(width, 1) % 256
    return np.stack([x, y, np.full_like(x, 90)], axis=2).astype(np.uint8)


def noise(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def outside(array: np.ndarray, box: FaceBox) -> np.ndarray:
    """The pixels of ``array`` outside ``box``, flattened."""
    keep = np.ones(array.shape[:2], dtype=bool)
    keep[box.y : box.bottom, box.x : box.right] = False
    return array[keep]


# --------------------------------------------------------------------------------------------
# FaceBox and parse_box


def test_facebox_text_round_trip_and_edges() -> None:
    box = FaceBox(np.int64(-5), 7, 30, 20)
    assert type(box.x) is int
    assert str(box) == "-5,7,30,20"
    assert parse_box(str(box)) == box
    assert (box.right, box.bottom, box.is_square) == (25, 27, False)
    with pytest.raises(BoxError, match="whole number"):
        FaceBox(1.5, 0, 10, 10)  # type: ignore[arg-type]
    with pytest.raises(BoxError, match="whole number"):
        FaceBox(True, 0, 10, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120,80,256,256", FaceBox(120, 80, 256, 256)),
        (" 1, 2 ,3,4 ", FaceBox(1, 2, 3, 4)),
        ("-10,-20,64,32", FaceBox(-10, -20, 64, 32)),
        ("+3,0,1,1", FaceBox(3, 0, 1, 1)),
    ],
)
def test_parse_box_reads_good_boxes(text: str, expected: FaceBox) -> None:
    assert parse_box(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not four numbers.*1 part$"),
        ("1,2,3", "not four numbers.*3 parts"),
        ("1,2,3,4,5", "not four numbers.*5 parts"),
        ("1 2 3 4", "not four numbers"),
        ("1,,3,4", "has no y"),
        ("1,2,3.5,4", "the width '3.5' is not a whole number"),
        ("a,2,3,4", "the x 'a' is not a whole number"),
        ("1,2,3,1e2", "the height '1e2' is not a whole number"),
        ("10,10,0,5", "^the face box 10,10,0,5 is empty: its width is 0 pixels$"),
        ("10,10,5,-3", "is empty: its height is -3 pixels"),
    ],
)
def test_parse_box_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BoxError, match=message):
        parse_box(text)


def test_box_error_is_a_value_error() -> None:
    assert issubclass(BoxError, ValueError)
    with pytest.raises(BoxError, match="text"):
        parse_box(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# default_box and clamp_box


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (400, 300, FaceBox(50, 0, 300, 300)),  # wide
        (300, 400, FaceBox(0, 50, 300, 300)),  # tall
        (256, 256, FaceBox(0, 0, 256, 256)),  # square
        (5, 2, FaceBox(1, 0, 2, 2)),  # odd leftover: the extra pixel to the right
        (1, 1, FaceBox(0, 0, 1, 1)),
    ],
)
def test_default_box_is_the_largest_centred_square(
    width: int, height: int, expected: FaceBox
) -> None:
    box = default_box(width, height)
    assert box == expected
    assert clamp_box(box, width, height) == box


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, -1), (1.5, 10)])
def test_default_box_refuses_bad_sizes(width: int, height: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        default_box(width, height)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (FaceBox(10, 20, 50, 60), FaceBox(10, 20, 50, 60)),  # inside: unchanged
        (FaceBox(-10, -5, 50, 40), FaceBox(0, 0, 40, 35)),  # over the top-left corner
        (FaceBox(180, 130, 50, 50), FaceBox(180, 130, 20, 20)),  # over the bottom-right
        (FaceBox(-50, -50, 400, 400), FaceBox(0, 0, 200, 150)),  # larger than the picture
        (FaceBox(199, 149, 10, 10), FaceBox(199, 149, 1, 1)),  # one pixel left
    ],
)
def test_clamp_box_keeps_the_part_inside(box: FaceBox, expected: FaceBox) -> None:
    assert clamp_box(box, 200, 150) == expected


@pytest.mark.parametrize(
    ("box", "message"),
    [
        (FaceBox(10, 10, 0, 5), "^the face box 10,10,0,5 is empty: its width is 0 pixels$"),
        (FaceBox(10, 10, 5, -1), "^the face box 10,10,5,-1 is empty: its height is -1 pixels$"),
        (
            FaceBox(200, 10, 50, 50),
            "^the face box 200,10,50,50 lies entirely outside the 200 x 150 picture$",
        ),
        (FaceBox(-60, 10, 60, 50), "lies entirely outside"),
        (FaceBox(10, -80, 20, 30), "lies entirely outside"),
    ],
)
def test_clamp_box_refuses_empty_and_outside_boxes(box: FaceBox, message: str) -> None:
    with pytest.raises(BoxError, match=message):
        clamp_box(box, 200, 150)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (FaceBox(10, 20, 50, 60), FaceBox(10, 20, 50, 60)),  # inside: unchanged
        (FaceBox(-12, 120, 48, 40), FaceBox(-12, 120, 48, 40)),  # a quarter out: unchanged
        (FaceBox(-20, 20, 40, 40), FaceBox(-6, 20, 26, 40)),  # 20 inside: 6 out at most
        (FaceBox(-50, -50, 400, 400), FaceBox(-16, -10, 265, 200)),  # both ends cut alike
    ],
)
def test_clamp_box_lets_a_box_reach_out_by_a_quarter(box: FaceBox, expected: FaceBox) -> None:
    clamped = clamp_box(box, 200, 150, outside=OUTSIDE)
    assert clamped == expected
    check_box(clamped, 200, 150)  # what crop_face and paste_back take
    with pytest.raises(ValueError, match=r"outside: expected a number from 0 to 0\.25"):
        clamp_box(box, 200, 150, outside=0.5)


@pytest.mark.parametrize(
    "box",
    [FaceBox(-30, 0, 100, 100), FaceBox(150, 100, 100, 100), FaceBox(-10, -10, 300, 300)],
)
def test_fit_box_moves_a_box_to_reach_out_by_a_quarter_at_most(box: FaceBox) -> None:
    fitted = fit_box(box, 200, 150)
    check_box(fitted, 200, 150)
    assert fitted.w == fitted.h  # a square stays square
    assert fitted.w == min(box.w, largest_side(150)) == min(box.w, 200)
    assert fit_box(fitted, 200, 150) == fitted
    with pytest.raises(BoxError, match=r"by more than 25% of its side"):
        check_box(box, 200, 150)


def test_box_pixels_carry_on_the_picture_edge_beyond_it() -> None:
    picture = coordinates()
    inside = box_pixels(picture, FaceBox(10, 20, 30, 40))
    np.testing.assert_array_equal(inside, picture[20:60, 10:40])
    box = FaceBox(-4, -6, 24, 24)
    pixels = box_pixels(picture, box)
    assert pixels.shape == (24, 24, 3)
    np.testing.assert_array_equal(pixels[6:, 4:], picture[:18, :20])
    assert pixels[0, 10].tolist() == picture[0, 6].tolist()  # row -6 shows row 0
    assert pixels[10, 0].tolist() == picture[4, 0].tolist()  # column -4 shows column 0
    assert edges_outside(box, 200, 150) == (True, True, False, False)
    assert box_pixels(picture[:, :, 0], box).shape == (24, 24)  # any channels


# --------------------------------------------------------------------------------------------
# crop_face


def test_crop_of_the_model_size_is_the_box_exactly() -> None:
    picture = coordinates()
    box = FaceBox(40, 20, 64, 64)
    crop = crop_face(picture, box, 64)
    assert crop.shape == (64, 64, 3)
    assert crop.dtype == np.uint8
    np.testing.assert_array_equal(crop, picture[20:84, 40:104])


def test_crop_shrinks_the_box_content_into_the_square() -> None:
    picture = coordinates()
    box = FaceBox(30, 10, 128, 128)
    crop = crop_face(picture, box, 32).astype(int)
    assert crop.shape == (32, 32, 3)
    # Each crop pixel covers 4 x 4 box pixels: column j averages x = 30 + 4j .. 30 + 4j + 3.
    expected_red = 30 + 4 * np.arange(32) + 1.5
    expected_green = 10 + 4 * np.arange(32) + 1.5
    assert np.abs(crop[16, 1:-1, 0] - expected_red[1:-1]).max() <= 1
    assert np.abs(crop[1:-1, 16, 1] - expected_green[1:-1]).max() <= 1
    assert (crop[:, :, 2] == 90).all()


def test_crop_upscales_a_tiny_box() -> None:
    picture = np.zeros((16, 24, 3), np.uint8)
    picture[:, 8:16, 0] = 30 * np.arange(8) + 20  # red: 20, 50, ..., 230 across the box
    picture[4:12, :, 1] = 200  # green: only the box's rows
    box = FaceBox(8, 4, 8, 8)
    crop = crop_face(picture, box, 64).astype(int)
    assert crop.shape == (64, 64, 3)
    # Only the box's pixels: no black from the columns and rows around it comes in ...
    assert (crop[:, :, 1] == 200).all()
    assert crop[:, :, 0].min() >= 14 and crop[:, :, 0].max() <= 236  # (a little overshoot)
    # ... and a smooth ramp, not 8 blocks of 8 pixels.
    row = crop[32, :, 0]
    assert abs(row[32] - 125) <= 4
    assert (np.diff(row[4:-4]) >= 0).all()
    assert len(np.unique(row)) > 32


def test_crop_stretches_a_non_square_box() -> None:
    picture = coordinates()
    box = FaceBox(20, 30, 100, 50)
    crop = crop_face(picture, box, 50).astype(int)
    assert crop.shape == (50, 50, 3)
    assert abs(crop[25, 0, 0] - 20.5) <= 1.5 and abs(crop[25, -1, 0] - 118.5) <= 1.5
    assert abs(crop[0, 25, 1] - 30) <= 1 and abs(crop[-1, 25, 1] - 79) <= 1


def test_crop_of_a_box_reaching_out_shows_the_picture_edge_carried_on() -> None:
    picture = coordinates()
    box = FaceBox(-10, 100, 40, 40)  # off the left edge by a quarter
    crop = crop_face(picture, box, 40).astype(int)
    np.testing.assert_array_equal(crop, box_pixels(picture, box))
    assert crop[20, 5, 0] == 0 and crop[20, 15, 0] == 5  # column -5 shows column 0


def test_crop_refuses_bad_input() -> None:
    picture = coordinates()
    with pytest.raises(BoxError, match="reaches outside the 200 x 150 picture"):
        crop_face(picture, FaceBox(170, 10, 64, 64), 64)
    with pytest.raises(BoxError, match="is empty"):
        crop_face(picture, FaceBox(0, 0, 0, 64), 64)
    with pytest.raises(ValueError, match="size"):
        crop_face(picture, FaceBox(0, 0, 64, 64), 0)
    with pytest.raises(ValueError, match="uint8"):
        crop_face(picture.astype(np.float32), FaceBox(0, 0, 64, 64), 64)
    with pytest.raises(ValueError, match="HxWx3"):
        crop_face(picture[:, :, 0], FaceBox(0, 0, 64, 64), 64)


# --------------------------------------------------------------------------------------------
# paste_back


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_zero_edit_returns_the_original_bit_for_bit(dtype: type) -> None:
    original = noise((150, 200, 3))
    box = FaceBox(37, 21, 90, 70)
    # The reconstruction need not match the crop at all: only the edit's difference counts.
    reconstruction = np.random.default_rng(1).uniform(0, 255, (64, 64, 3)).astype(dtype)
    result = paste_back(original, box, reconstruction, reconstruction.copy())
    assert result.dtype == np.uint8
    assert result.tobytes() == original.tobytes()
    assert result is not original


def test_pixels_outside_the_box_are_never_touched() -> None:
    original = noise((150, 200, 3))
    before = original.copy()
    box = FaceBox(50, 40, 80, 60)
    reconstruction = np.zeros((32, 32, 3), np.uint8)
    edited = np.full((32, 32, 3), 255, np.uint8)
    edited[::2] = 0  # a strong, high-frequency edit: Lanczos rings near the box's edges
    for feather in (0.0, DEFAULT_FEATHER, 0.5):
        result = paste_back(original, box, reconstruction, edited, feather=feather)
        assert result.shape == original.shape and result.dtype == np.uint8
        np.testing.assert_array_equal(outside(result, box), outside(original, box))
        assert not np.array_equal(result, original)
    np.testing.assert_array_equal(original, before)  # the input is not modified


def test_uniform_red_edit_raises_red_inside_and_feathers_to_the_edges() -> None:
    original = np.full((120, 160, 3), 100, np.uint8)
    box = FaceBox(30, 20, 100, 80)
    reconstruction = noise((64, 64, 3), seed=3).astype(np.float32)
    edited = reconstruction + np.array([40.0, 0.0, 0.0], np.float32)
    result = paste_back(original, box, reconstruction, edited)
    change = result.astype(int) - original.astype(int)
    centre_y, centre_x = box.y + box.h // 2, box.x + box.w // 2
    assert change[centre_y, centre_x].tolist() == [40, 0, 0]
    assert (change[:, :, 1:] == 0).all()  # green and blue untouched
    # Fully applied away from the edges (the ramp is 0.08 * 80 = 6.4 pixels wide) ...
    assert (change[box.y + 7 : box.bottom - 7, box.x + 7 : box.right - 7, 0] == 40).all()
    # ... feathered to about 0 at the box's edges, rising smoothly inwards ...
    row = change[centre_y, box.x : box.right, 0]
    assert row[0] <= 2 and row[-1] <= 2
    assert change[box.y, centre_x, 0] <= 2 and change[box.bottom - 1, centre_x, 0] <= 2
    assert change[box.y, box.x, 0] <= 1  # a corner fades on both sides
    assert (np.diff(row[:8]) >= 0).all() and (np.diff(row[-8:]) <= 0).all()
    assert 0 < row[3] < 40
    # ... and nothing outside.
    np.testing.assert_array_equal(outside(change, box), 0)


def test_hard_edge_without_feather() -> None:
    original = np.full((60, 60, 3), 100, np.uint8)
    box = FaceBox(10, 10, 40, 40)
    reconstruction = np.zeros((40, 40, 3), np.uint8)
    edited = np.full((40, 40, 3), 30, np.uint8)
    result = paste_back(original, box, reconstruction, edited, feather=0)
    np.testing.assert_array_equal(result[10:50, 10:50], 130)
    np.testing.assert_array_equal(outside(result, box), 100)


def test_the_difference_is_signed_and_clipped() -> None:
    original = np.full((40, 40, 3), 200, np.uint8)
    original[:, :, 2] = 10
    box = FaceBox(0, 0, 40, 40)
    reconstruction = np.full((16, 16, 3), 128.0)
    edited = reconstruction + np.array([-50.0, 100.0, -100.0])
    result = paste_back(original, box, reconstruction, edited, feather=0)
    assert result[20, 20].tolist() == [150, 255, 0]


def test_crop_edit_paste_round_trip_on_a_stretched_box() -> None:
    """A non-square box: what the edit changes in the crop lands where that crop came from."""
    picture = np.full((100, 160, 3), 120, np.uint8)
    box = FaceBox(20, 10, 120, 60)  # stretched 1 : 2 into the square
    crop = crop_face(picture, box, 64)
    edited = crop.astype(np.float32)
    edited[:, :32, 0] += 50  # the left half of the crop
    result = paste_back(picture, box, crop, edited, feather=0).astype(int) - 120
    assert (result[10:70, 20:75, 0] == 50).all()  # the left half of the box, away from the seam
    assert (result[10:70, 85:140, 0] == 0).all()  # the right half
    assert result.shape == (100, 160, 3)


def test_a_box_reaching_out_pastes_its_inside_unfaded_at_the_picture_edge() -> None:
    original = np.full((120, 160, 3), 100, np.uint8)
    box = FaceBox(80, -20, 80, 80)  # a quarter off the top, touching the right edge
    reconstruction = noise((64, 64, 3), seed=3).astype(np.float32)
    edited = reconstruction + np.array([40.0, 0.0, 0.0], np.float32)
    result = paste_back(original, box, reconstruction, edited)
    change = result.astype(int) - original.astype(int)
    assert result.shape == original.shape
    assert (change[0, 90:150, 0] == 40).all()  # the top edge is the picture's: no fade
    assert change[0, 80, 0] <= 2  # the box's left edge, inside the picture: faded
    assert (change[60:, :, :] == 0).all() and (change[:, :80] == 0).all()
    assert (change[:, :, 1:] == 0).all()
    region = paste_back_region(
        box_pixels(original, box),
        reconstruction,
        edited,
        outside=edges_outside(box, 160, 120),
    )
    np.testing.assert_array_equal(region[20:], result[:60, 80:])  # the same, for the app


def test_result_has_the_original_size_for_any_render_size() -> None:
    original = noise((90, 130, 3))
    box = FaceBox(5, 6, 70, 80)
    for side in (8, 70, 256):
        reconstruction = noise((side, side, 3), seed=side)
        edited = noise((side, side, 3), seed=side + 1)
        result = paste_back(original, box, reconstruction, edited)
        assert result.shape == (90, 130, 3) and result.dtype == np.uint8


def test_paste_back_refuses_bad_input() -> None:
    original = noise((50, 50, 3))
    box = FaceBox(0, 0, 40, 40)
    render = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(BoxError, match="reaches outside"):
        paste_back(original, FaceBox(25, 25, 40, 40), render, render)
    with pytest.raises(ValueError, match="shape of reconstruction"):
        paste_back(original, box, render, np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="square"):
        paste_back(original, box, np.zeros((16, 8, 3)), np.zeros((16, 8, 3)))
    with pytest.raises(ValueError, match="uint8 or float"):
        paste_back(original, box, render.astype(np.int32), render.astype(np.int32))
    nan = np.zeros((16, 16, 3))
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        paste_back(original, box, render, nan)
    with pytest.raises(ValueError, match="original: expected dtype uint8"):
        paste_back(original.astype(np.float32), box, render, render)
    for feather in (-0.1, 0.6, float("nan"), "0.1"):
        with pytest.raises(ValueError, match="feather"):
            paste_back(original, box, render, render, feather=feather)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# paste_back_picture


def test_picture_keeps_alpha_and_icc_through_paste_and_save(tmp_path: Path) -> None:
    rgba = np.dstack([noise((48, 64, 3), seed=5), np.tile(np.arange(64, dtype=np.uint8), (48, 1))])
    profile = srgb_profile()
    Image.fromarray(rgba).save(tmp_path / "art.png", icc_profile=profile)
    picture = load_image(tmp_path / "art.png")
    assert picture.alpha is not None and picture.icc_profile == profile

    box = FaceBox(8, 4, 40, 40)
    reconstruction = np.full((32, 32, 3), 60, np.uint8)
    edited = reconstruction + np.array([0, 0, 45], np.uint8)
    pasted = paste_back_picture(picture, box, reconstruction, edited)
    assert isinstance(pasted, Picture)
    assert pasted.size == picture.size
    assert pasted.icc_profile == profile
    assert pasted.alpha is not None and pasted.alpha.tobytes() == picture.alpha.tobytes()
    assert (pasted.path, pasted.source_format) == (picture.path, picture.source_format)
    expected = paste_back(to_array(picture), box, reconstruction, edited)
    np.testing.assert_array_equal(to_array(pasted), expected)
    assert not np.array_equal(expected, to_array(picture))

    saved = load_image(save_picture(pasted, tmp_path / "edited.png"))
    assert saved.icc_profile == profile
    assert saved.alpha is not None and saved.alpha.tobytes() == picture.alpha.tobytes()
    np.testing.assert_array_equal(to_array(saved), expected)


def test_picture_zero_edit_saves_the_same_pixels(tmp_path: Path) -> None:
    Image.fromarray(noise((30, 40, 3), seed=9)).save(tmp_path / "flat.png")
    picture = load_image(tmp_path / "flat.png")
    render = noise((16, 16, 3), seed=2)
    pasted = paste_back_picture(picture, default_box(*picture.size), render, render)
    assert pasted.alpha is None and pasted.icc_profile is None
    assert to_array(pasted).tobytes() == to_array(picture).tobytes()
    with pytest.raises(ValueError, match="Picture"):
        paste_back_picture(to_array(picture), FaceBox(0, 0, 4, 4), render, render)  # type: ignore[arg-type]


def _soft_recolour(width: int, height: int, side: int) -> tuple[np.ndarray, ...]:
    """A picture with a sharp edge (brown "hair" left of x = width // 2, a pink page right of
    it), its render at ``side`` px (soft edge) and an edit of that render recolouring the
    hair blue - as a GAN recolours it, over the render's soft edge."""
    hair, page, blue = np.array([110, 70, 50]), np.array([200, 170, 190]), np.array([60, 90, 220])
    picture = np.empty((height, width, 3), np.uint8)
    picture[:, : width // 2], picture[:, width // 2 :] = hair, page
    render = crop_face(picture, FaceBox(0, 0, width, height), side).astype(np.float32)
    share = np.clip((render - page) @ (hair - page) / float((hair - page) @ (hair - page)), 0, 1)
    edited = render + share[:, :, None] * (blue - hair)
    return picture, render, edited, blue - hair


@pytest.mark.parametrize("size", [(256, 256), (700, 600)])
def test_the_edit_follows_the_pictures_own_edges(size: tuple[int, int]) -> None:
    """No glow: the page beside the recoloured hair keeps its pixels, though the render's
    edge spreads the recolouring over several of them; the hair takes it up to its edge."""
    width, height = size
    picture, render, edited, shift = _soft_recolour(width, height, 32)
    change = paste_back(picture, FaceBox(0, 0, width, height), render, edited, feather=0)
    change = change.astype(int) - picture.astype(int)
    edge, rows = width // 2, slice(height // 4, 3 * height // 4)
    step = width // 32  # one render pixel
    page_side = np.abs(change[rows, edge + 2 : edge + step]).max()
    hair_side = change[rows, edge - step : edge - 2].reshape(-1, 3).mean(axis=0)
    assert page_side <= 12, page_side  # a plain resize: about a third of the shift
    np.testing.assert_allclose(hair_side, shift, atol=0.1 * np.abs(shift).max())
    # a weighted mean of the render's differences: never beyond them (no ringing)
    found = follow_edges(picture, render, edited - render)
    assert np.abs(found).max() <= np.abs(edited - render).max() + 1e-3


def test_paste_back_region_is_paste_back_inside_the_box():
    rng = np.random.default_rng(7)
    original = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    reconstruction = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    edited = np.clip(reconstruction.astype(int) + 40, 0, 255).astype(np.uint8)
    box = FaceBox(12, 5, 40, 40)
    whole = paste_back(original, box, reconstruction, edited)
    region = paste_back_region(original[5:45, 12:52], reconstruction, edited)
    assert np.array_equal(region, whole[5:45, 12:52])
    unchanged = paste_back_region(original[5:45, 12:52], reconstruction, reconstruction)
    assert np.array_equal(unchanged, original[5:45, 12:52])
    with pytest.raises(ValueError, match="feather"):
        paste_back_region(original, reconstruction, edited, feather=0.9)
    with pytest.raises(ValueError, match="work_side"):
        paste_back_region(original, reconstruction, edited, work_side=0)


def test_follow_edges_refuses_bad_input() -> None:
    region, render = noise((40, 40, 3)), np.zeros((16, 16, 3), np.float32)
    with pytest.raises(ValueError, match="difference: expected the shape"):
        follow_edges(region, render, np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="difference: holds NaN"):
        follow_edges(region, render, np.full((16, 16, 3), np.nan, np.float32))
    with pytest.raises(ValueError, match="region"):
        follow_edges(region[:, :, 0], render, render)
    with pytest.raises(ValueError, match="work_side"):
        follow_edges(region, render, render, work_side=2.5)  # type: ignore[arg-type]


def test_a_smaller_working_size_gives_nearly_the_same_edit() -> None:
    """Live previews follow the edges at a smaller size: quicker, the same edit, softer."""
    picture, render, edited, _ = _soft_recolour(400, 400, 32)
    full = paste_back_region(picture, render, edited, feather=0).astype(int)
    quick = paste_back_region(picture, render, edited, feather=0, work_side=100).astype(int)
    assert quick.shape == full.shape
    assert np.abs(quick - full).mean() < 2
    np.testing.assert_array_equal(quick[:, :150], full[:, :150])  # away from the edge: equal
    np.testing.assert_array_equal(quick[:, 250:], full[:, 250:])


def _hair_over_stripes(side: int = 256, render_side: int = 32) -> tuple[np.ndarray, ...]:
    """A page of stripes, its render (the stripes too fine for the model: one flat colour),
    and an edit that draws a block of brown "hair" over the middle of it, with the map that
    says where (1 in the block)."""
    ys, xs = np.mgrid[:side, :side]
    light, dark = np.array([215, 180, 200]), np.array([150, 130, 160])
    picture = np.where((((xs + ys) // 16) % 2 == 0)[:, :, None], light, dark).astype(np.uint8)
    render = np.empty((render_side, render_side, 3), np.float32)
    render[:] = (light + dark) / 2
    block = slice(render_side // 4, 3 * render_side // 4)
    edited = render.copy()
    edited[block, block] = (110, 70, 50)
    redrawn = np.zeros((render_side, render_side), np.float32)
    redrawn[block, block] = 1.0
    return picture, render, edited, redrawn


@pytest.mark.parametrize("side", [256, 1024])
def test_new_content_covers_the_picture_where_redrawn(side: int) -> None:
    """Adding the difference alone lets the page's stripes show through hair drawn over it;
    where the map says the edit drew a new region, the edited render covers them (also when
    the box is worked on smaller and enlarged: 1024 px)."""
    picture, render, edited, redrawn = _hair_over_stripes(side)
    box = FaceBox(0, 0, side, side)
    k = side // 256
    inside = (slice(80 * k, 176 * k), slice(80 * k, 176 * k))  # well inside the block
    ghost = paste_back(picture, box, render, edited, feather=0)[inside].astype(float)
    opaque = paste_back(picture, box, render, edited, feather=0, redrawn=redrawn)[inside]
    stripes = picture[inside].astype(float).std(axis=(0, 1)).max()
    assert ghost.std(axis=(0, 1)).max() > 0.8 * stripes  # the stripes show through
    assert opaque.astype(float).std(axis=(0, 1)).max() < 2.0  # one flat brown
    np.testing.assert_allclose(opaque.reshape(-1, 3).mean(axis=0), (110, 70, 50), atol=2)
    # away from the block the map changes nothing; a map of zeros is no map
    away = (slice(0, 40 * k), slice(0, side))
    plain = paste_back(picture, box, render, edited, feather=0)
    covered = paste_back(picture, box, render, edited, feather=0, redrawn=redrawn)
    assert np.array_equal(covered[away], plain[away])
    zeros = paste_back(picture, box, render, edited, redrawn=np.zeros_like(redrawn))
    assert np.array_equal(zeros, paste_back(picture, box, render, edited))
    # an edit that changes nothing returns the original, whatever the map says
    same = paste_back(picture, box, render, render, redrawn=redrawn)
    assert np.array_equal(same, picture)
    # the region form takes the map too
    region = paste_back_region(picture, render, edited, feather=0, redrawn=redrawn)
    assert np.array_equal(region, covered)


@pytest.mark.parametrize(
    ("redrawn", "message"),
    [
        (np.zeros((16, 16), np.float32), "size"),
        (np.zeros((32, 32, 1), np.float32), "size"),
        (np.zeros((32, 32), np.uint8), "float"),
        (np.full((32, 32), 1.5, np.float32), "0 to 1"),
        (np.full((32, 32), np.nan, np.float32), "0 to 1"),
        ([[0.0]], "size"),
    ],
)
def test_paste_back_refuses_a_bad_redrawn_map(redrawn: object, message: str) -> None:
    picture, render, edited, _ = _hair_over_stripes(64)
    with pytest.raises(ValueError, match=message):
        paste_back(picture, FaceBox(0, 0, 64, 64), render, edited, redrawn=redrawn)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        paste_back_region(picture, render, edited, redrawn=redrawn)  # type: ignore[arg-type]


BROWN, LINE, SHIRT, PAGE = (120, 80, 50), (80, 50, 30), (40, 50, 90), (200, 200, 220)
PINK = np.array([[1.2, 60.0], [0.8, -10.0], [1.5, 80.0]], np.float32)  # (gain, offset) per channel
PINK_MAP = np.concatenate([np.diag(PINK[:, 0]), PINK[:, 1:]], axis=1)  # as a Recolour's map


def _strands(side: int = 256, render_side: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A page with a block of brown hair (a darker line across it) and, below it, two strands
    half a render pixel wide over a dark shirt; and the hair's share of each render pixel (what
    a segmenter that saw the crop perfectly would say)."""
    k = side // 256
    picture = np.empty((side, side, 3), np.uint8)
    picture[:] = PAGE
    picture[160 * k :] = SHIRT
    hair = np.zeros((side, side), bool)
    hair[40 * k : 120 * k, 60 * k : 196 * k] = True
    for x in (72, 180):  # the strands: 4 px at 256, half of a 32 px render's pixel
        hair[120 * k : 240 * k, x * k : (x + 4) * k] = True
    picture[hair] = BROWN
    picture[80 * k : 84 * k, 60 * k : 196 * k] = LINE
    cell = side // render_side
    shares = hair.reshape(render_side, cell, render_side, cell).mean(axis=(1, 3))
    return picture, shares.astype(np.float32)[:, :, None]


def test_a_recolour_is_made_on_the_pictures_own_pixels() -> None:
    """Every strand the artist drew takes the colour map, even where the render's pixel is
    mostly shirt; the shirt beside a strand and everything outside the hair keep their pixels;
    the line across the hair stays darker than the hair (its shade is mapped, not painted)."""
    picture, shares = _strands()
    recolour = Recolour(regions=shares, maps=PINK_MAP[None])
    render = crop_face(picture, FaceBox(0, 0, 256, 256), 32)
    edited = render.copy()
    edited[0, 0] += 1  # any change: a recolour is made from its maps, not from the renders
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, recolour=recolour).astype(int)
    pink = np.clip(np.rint(np.array(BROWN) * PINK[:, 0] + PINK[:, 1]), 0, 255)
    line = np.clip(np.rint(np.array(LINE) * PINK[:, 0] + PINK[:, 1]), 0, 255)
    np.testing.assert_allclose(pasted[130:230, 73:75].reshape(-1, 3).mean(axis=0), pink, atol=8)
    np.testing.assert_allclose(pasted[50:75, 80:180].reshape(-1, 3).mean(axis=0), pink, atol=2)
    np.testing.assert_allclose(pasted[81:83, 80:180].reshape(-1, 3).mean(axis=0), line, atol=6)
    # the shirt three pixels from a strand, and the page away from the hair, as they were
    beside = pasted[170:230, 79:86] - picture[170:230, 79:86]
    assert np.abs(beside).max() <= 3, np.abs(beside).max()
    assert np.array_equal(pasted[:30], picture[:30].astype(int))
    # the difference of a render that recolours its hair leaves the strands brown
    plain = render.astype(np.float32)
    plain[shares[:, :, 0] > 0.9] = plain[shares[:, :, 0] > 0.9] * PINK[:, 0] + PINK[:, 1]
    strands = paste_back(picture, box, render, np.clip(plain, 0, 255), feather=0)[130:230, 73:75]
    assert (
        np.abs(strands.astype(int) - pink).mean() > 3 * np.abs(pasted[130:230, 73:75] - pink).mean()
    )
    # the box alone gives the same; a render unchanged, the original
    region = paste_back_region(picture, render, edited, feather=0, recolour=recolour)
    assert np.array_equal(region, pasted.astype(np.uint8))
    same = paste_back(picture, box, render, render, recolour=recolour)
    assert np.array_equal(same, picture)


def test_a_recolour_leaves_the_page_and_the_shade_beside_the_hair() -> None:
    """Black hair made blonde (a map adding about 190 levels) on shares as soft as a
    segmenter's, a few hundredths to a tenth beyond the hair: the page beside the hair and the
    skin's shade below it (darker skin: between skin and black) keep their pixels; the hair is
    blonde, and its anti-aliased edge half blonde."""
    black, page, skin, shade = (39, 38, 49), (182, 136, 199), (253, 226, 204), (218, 182, 167)
    picture = np.empty((256, 256, 3), np.uint8)
    picture[:] = page
    picture[120:] = skin
    hair = np.zeros((256, 256), np.float32)
    hair[40:120, 60:180] = 1.0
    hair[40:120, 180] = 0.5  # an anti-aliased edge
    picture[120:132, 60:180] = shade  # the hair's shadow on the skin, 12 px
    picture[:] = np.rint(hair[:, :, None] * black + (1 - hair[:, :, None]) * picture)
    cells = hair.reshape(32, 8, 32, 8).mean(axis=(1, 3))
    padded = np.pad(cells, 1, mode="edge")  # a segmenter's soft shares: blurred a pixel
    soft = sum(padded[dy : dy + 32, dx : dx + 32] for dy in range(3) for dx in range(3)) / 9
    shares = np.maximum(cells, soft).astype(np.float32)[:, :, None]
    blonde = np.concatenate([np.eye(3), [[185.0], [163.0], [79.0]]], axis=1).astype(np.float32)
    box = FaceBox(0, 0, 256, 256)
    render = crop_face(picture, box, 32)
    pasted = paste_back(picture, box, render, render + 1, feather=0,
                        recolour=Recolour(shares, blonde[None])).astype(int)  # fmt: skip
    change = np.abs(pasted - picture.astype(int)).max(axis=2)
    assert change[20:38, 40:200].max() <= 1  # the page above the hair
    assert change[40:120, 183:200].max() <= 1  # and beside it
    assert change[122:132, 60:180].max() <= 1  # the shade below it
    np.testing.assert_allclose(pasted[50:110, 70:170].mean(axis=(0, 1)), (224, 201, 128), atol=2)
    assert 0.3 * 185 < pasted[50:110, 180, 0].mean() - picture[50:110, 180, 0].mean() < 0.7 * 185


def test_the_anti_aliased_edge_of_recoloured_hair_is_a_mix_of_the_new_hair_and_the_page() -> None:
    """Brown hair over a blue page, its edge pixels half of each, made pink by a map that
    turns the brown's hue (as the app's hair maps do): the edge is half pink and half the
    page, as if the hair had been drawn pink. It was a line of grey dots: a half-blue pixel
    has almost none of the brown's hue, so the gate left it brown, darker than both sides;
    and a map made for the hair's colours, given the half-blue pixel, did not take it half
    way to pink either."""
    page, brown = np.array((133, 153, 203)), np.array((115, 67, 49))
    hair = np.zeros((256, 256), np.float32)
    hair[40:220, 60:130] = 1.0
    hair[40:220, 130] = 0.5  # the anti-aliased edge: one pixel of half of each
    picture = np.rint(hair[:, :, None] * brown + (1 - hair[:, :, None]) * page).astype(np.uint8)
    cells = hair.reshape(32, 8, 32, 8).mean(axis=(1, 3))
    padded = np.pad(cells, 1, mode="edge")  # a segmenter's soft shares: blurred a pixel
    soft = sum(padded[dy : dy + 32, dx : dx + 32] for dy in range(3) for dx in range(3)) / 9
    shares = np.maximum(cells, soft).astype(np.float32)[:, :, None]
    pink = np.array((231.0, 151.0, 184.0))
    matrix = np.array([[1.09, 0.25, -0.55], [-0.27, 0.80, 0.27], [0.62, -0.65, 0.83]])
    offset = pink - matrix @ brown  # brown to pink; blue to far off it (255 and beyond)
    hair_map = np.concatenate([matrix, offset[:, None]], axis=1).astype(np.float32)[None]
    recolour = Recolour(shares, hair_map, hues=brown[None].astype(np.float32))
    box = FaceBox(0, 0, 256, 256)
    render = crop_face(picture, box, 32)
    pasted = paste_back(picture, box, render, render + 1, feather=0, recolour=recolour)
    pasted = pasted.astype(int)
    np.testing.assert_allclose(pasted[60:200, 80:120].reshape(-1, 3).mean(0), pink, atol=2)
    edge = pasted[60:200, 130].mean(0)
    along = (edge - page) @ (pink - page) / ((pink - page) ** 2).sum()
    assert 0.4 < along < 0.7  # about half way from the page to the pink (the shares' fit)
    assert np.linalg.norm(edge - page - along * (pink - page)) < 25  # and near their line
    assert edge.sum() > min(pink.sum(), page.sum())  # no darker than either
    assert np.abs(pasted[60:200, 133:160] - page).max() <= 1  # the page keeps its colour


def test_a_recolour_leaves_what_it_holds_whole_though_it_has_the_hairs_colour() -> None:
    """A brown iris in an eye beside brown hair: the guided fit cannot tell them apart by
    colour, and gave the iris's rim near the hair the hair's share (pink hair tinted it).
    Held (the eye's shares at the crop's size), the eye keeps every pixel; the hair beside
    it is recoloured as before."""
    brown, white, skin = (115, 67, 49), (235, 238, 250), (240, 205, 180)
    picture = np.empty((256, 256, 3), np.uint8)
    picture[:] = skin
    picture[:, :96] = brown  # the hair, down the left side
    ys, xs = np.mgrid[:256, :256]
    eye = ((ys - 128) / 40.0) ** 2 + ((xs - 140) / 36.0) ** 2 <= 1
    iris = eye & ((ys - 128) ** 2 + (xs - 136) ** 2 <= 28**2)
    picture[eye] = white
    picture[iris] = brown
    hair = np.zeros((256, 256), np.float32)
    hair[:, :96] = 1.0
    cells = hair.reshape(32, 8, 32, 8).mean(axis=(1, 3))
    padded = np.pad(cells, 1, mode="edge")  # a segmenter's soft shares: blurred a pixel
    soft = sum(padded[dy : dy + 32, dx : dx + 32] for dy in range(3) for dx in range(3)) / 9
    shares = np.maximum(cells, soft).astype(np.float32)[:, :, None]
    held = eye.astype(np.float32).reshape(32, 8, 32, 8).mean(axis=(1, 3))
    hue = np.array([brown], np.float32)
    box = FaceBox(0, 0, 256, 256)
    render = crop_face(picture, box, 32)

    def pasted(recolour: Recolour) -> np.ndarray:
        return paste_back(picture, box, render, render + 1, feather=0, recolour=recolour)

    free = pasted(Recolour(shares, PINK_MAP[None], hues=hue)).astype(int)
    kept = pasted(Recolour(shares, PINK_MAP[None], hues=hue, held=held)).astype(int)
    assert np.abs(free[iris] - picture[iris]).max() > 30  # the rim took pink
    assert np.abs(kept[eye] - picture[eye]).max() <= 1  # held: the eye is as drawn
    pink = np.clip(np.rint(np.array(brown) * PINK[:, 0] + PINK[:, 1]), 0, 255)
    np.testing.assert_allclose(kept[20:236, 8:88].reshape(-1, 3).mean(0), pink, atol=3)
    np.testing.assert_array_equal(kept[:, :90], free[:, :90])
    with pytest.raises(ValueError, match="held must be"):
        Recolour(shares, PINK_MAP[None], held=np.zeros((16, 16), np.float32))
    with pytest.raises(ValueError, match="held must be"):
        Recolour(shares, PINK_MAP[None], held=np.full((32, 32), 1.5, np.float32))


def test_a_recolour_leaves_a_colour_that_is_the_rests_where_the_shares_misread_it() -> None:
    """Dark skin beside brown hair, read by the segmenter as part hair for a few crop pixels
    (as under the bangs of the drawn pictures): the guided fit cannot part colours that close
    and gave the skin a share of the hair's new colour in blocks. The skin's colour is on
    many pixels surely not hair and on none surely hair, so there it stays the skin's; and
    the hair's brown, on many pixels surely hair and none surely not, is hair wherever the
    shares say it is part hair (it took part of the new colour: duller patches in the hair
    where the segmenter was unsure)."""
    skin, brown = (150, 100, 75), (105, 65, 44)
    picture = np.empty((256, 256, 3), np.uint8)
    picture[:] = skin
    picture[:, 128:] = brown
    shares = np.zeros((32, 32, 1), np.float32)
    shares[:, 16:] = 1.0
    shares[8:16, 12:16] = 0.6  # skin misread as part hair
    shares[20:28, 16:18] = 0.6  # hair read as part hair
    hue = np.array([brown], np.float32)
    box = FaceBox(0, 0, 256, 256)
    render = crop_face(picture, box, 32)
    recolour = Recolour(shares, PINK_MAP[None], hues=hue)
    pasted = paste_back(picture, box, render, render + 1, feather=0, recolour=recolour)
    pasted = pasted.astype(int)
    assert np.abs(pasted[:, :124] - picture[:, :124]).max() <= 1  # the skin as drawn
    pink = np.clip(np.rint(np.array(brown) * PINK[:, 0] + PINK[:, 1]), 0, 255)
    np.testing.assert_allclose(pasted[:, 132:].reshape(-1, 3).mean(0), pink, atol=2)
    part = pasted[168:216, 132:144].reshape(-1, 3)  # where the shares said 0.6
    assert np.abs(part - pink).max() <= 2  # all of it: brown is the hair's own colour


def test_a_clip_in_the_hair_keeps_its_colours_and_the_hair_around_it_takes_the_new_one() -> None:
    """A pink clip in brown hair, the segmenter's shares of it soft by two crop pixels, given
    as ``kept`` (the hair's shares being of what is not the clip): what the clip draws is
    taken out at the box's size by its colours, and near it whatever is not the hair's
    colour (its outline). Every hair pixel around it is pink; the clip keeps its pixels. (On
    the drawn pictures, taken out at the crop's size, the hair around a clip kept part of
    its brown, and the clip's outline took part of the hair's map.) Where the outline is
    anti-aliased against the hair, the pixels between take their part of the new colour."""
    brown, clip, outline = (104, 64, 41), (250, 140, 180), (162, 91, 117)
    picture = np.empty((256, 256, 3), np.uint8)
    picture[:] = brown
    picture[92:164, 100:156] = outline
    picture[96:160, 104:152] = clip
    drawn = np.zeros((256, 256), np.float32)
    drawn[92:164, 100:156] = 1.0
    cells = drawn.reshape(32, 8, 32, 8).mean(axis=(1, 3))
    padded = np.pad(cells, 2, mode="edge")  # a segmenter's soft shares: blurred two pixels
    kept = sum(padded[dy : dy + 32, dx : dx + 32] for dy in range(5) for dx in range(5)) / 25
    kept = np.maximum(cells, kept).astype(np.float32)
    hair = np.ones((32, 32, 1), np.float32)  # all that is not the clip is hair
    box = FaceBox(0, 0, 256, 256)
    render = crop_face(picture, box, 32)
    hue = np.array([brown], np.float32)

    def pasted(recolour: Recolour) -> np.ndarray:
        return paste_back(picture, box, render, render + 1, feather=0, recolour=recolour)

    pink = np.clip(np.rint(np.array(brown) * PINK[:, 0] + PINK[:, 1]), 0, 255)
    ring = (np.abs(np.arange(256)[:, None] - 128) < 52) & (np.abs(np.arange(256) - 128) < 46)
    ring &= drawn == 0  # the hair up to 20 px around the clip
    after = pasted(Recolour(hair, PINK_MAP[None], hues=hue, kept=kept)).astype(int)
    assert np.abs(after[ring] - pink).max() <= 2
    changed = np.abs(after - picture.astype(int)).max(axis=2) > 1
    assert not changed[96:160, 104:152].any()  # the clip
    assert changed[drawn > 0].sum() <= 16  # its outline, but for its four corners' pixels
    # drawn anti-aliased, a ring of pixels half hair and half outline: half pink and half
    # outline (kept as the clip's, it was a dark rim between the outline and the new hair)
    soft = picture.copy()
    soft[91, 100:156] = soft[164, 100:156] = np.add(brown, outline) // 2
    soft[92:164, 99] = soft[92:164, 156] = np.add(brown, outline) // 2
    render = crop_face(soft, box, 32)
    edged = paste_back(soft, box, render, render + 1, feather=0,
                       recolour=Recolour(hair, PINK_MAP[None], hues=hue, kept=kept))  # fmt: skip
    half = (pink + np.array(outline)) / 2
    np.testing.assert_allclose(edged[96:160, 99].astype(float).mean(0), half, atol=8)
    np.testing.assert_allclose(edged[91, 104:152].astype(float).mean(0), half, atol=8)
    moved = np.abs(edged[92:164, 100:156].astype(int) - after[92:164, 100:156]).max(axis=2)
    assert (moved > 1).sum() <= 16  # the clip as before, but for its outline's corners
    with pytest.raises(ValueError, match="kept must be"):
        Recolour(hair, PINK_MAP[None], kept=kept[:16, :16])


def test_a_recolour_follows_the_edges_of_a_large_picture() -> None:
    """Worked on at a smaller size and enlarged (a 1024 px box): the strands still change."""
    picture, shares = _strands(1024)
    render = crop_face(picture, FaceBox(0, 0, 1024, 1024), 32)
    recolour = Recolour(regions=shares, maps=PINK_MAP[None])
    pasted = paste_back(picture, FaceBox(0, 0, 1024, 1024), render, render + 1, feather=0,
                        recolour=recolour).astype(int)  # fmt: skip
    pink = np.clip(np.rint(np.array(BROWN) * PINK[:, 0] + PINK[:, 1]), 0, 255)
    np.testing.assert_allclose(pasted[520:920, 292:300].reshape(-1, 3).mean(0), pink, atol=10)
    assert np.array_equal(pasted[:120], picture[:120].astype(int))


@pytest.mark.parametrize(
    ("regions", "maps", "message"),
    [
        (np.zeros((32, 32), np.float32), np.zeros((1, 3, 4), np.float32), "r x r x K"),
        (np.zeros((32, 16, 1), np.float32), np.zeros((1, 3, 4), np.float32), "r x r x K"),
        (np.zeros((32, 32, 1), np.uint8), np.zeros((1, 3, 4), np.float32), "finite floats"),
        (np.full((32, 32, 2), 0.6, np.float32), np.zeros((2, 3, 4), np.float32), "0 to 1"),
        (np.full((32, 32, 1), -0.1, np.float32), np.zeros((1, 3, 4), np.float32), "0 to 1"),
        (np.zeros((32, 32, 2), np.float32), np.zeros((1, 3, 4), np.float32), "2 x 3 x 4"),
        (np.zeros((32, 32, 1), np.float32), np.zeros((1, 3, 2), np.float32), "1 x 3 x 4"),
        (np.zeros((32, 32, 1), np.float32), np.full((1, 3, 4), np.inf, np.float32), "finite"),
    ],
)
def test_a_bad_recolour_is_refused(regions: np.ndarray, maps: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Recolour(regions=regions, maps=maps)


def test_paste_back_refuses_a_recolour_of_another_size() -> None:
    picture, render, edited, _ = _hair_over_stripes(64)
    other = Recolour(np.zeros((16, 16, 1), np.float32), np.ones((1, 3, 4), np.float32))
    with pytest.raises(ValueError, match="16 px"):
        paste_back(picture, FaceBox(0, 0, 64, 64), render, edited, recolour=other)
    with pytest.raises(ValueError, match="Recolour"):
        paste_back_region(picture, render, edited, recolour="pink")  # type: ignore[arg-type]


def _reshape_case(side: int = 256) -> tuple[np.ndarray, ...]:
    """Stripes with an edit that draws a brown block over them (cover 1 there), changes the
    top left corner (inside ``kept``) and the bottom right one (outside it)."""
    picture, render, edited, block = _hair_over_stripes(side)
    edited[:4, :4] += 30  # inside kept: pasted as the difference
    edited[-4:, -4:] -= 30  # outside kept and the cover: dropped
    kept = np.zeros((32, 32), np.float32)
    kept[:8, :8] = 1.0
    drawn = np.empty((32, 32, 3), np.float32)
    drawn[:] = (110, 70, 50)
    return picture, render, edited, Reshape(cover=block, drawn=drawn, kept=kept)


@pytest.mark.parametrize("side", [256, 1024])
def test_a_reshape_covers_its_cover_crisply_and_keeps_the_rest(side: int) -> None:
    """Hair drawn over the page covers it in the drawn colours, with an edge of a pixel or
    two (not the 8 of the enlarged render); the renders' difference is pasted only where
    ``kept`` says; every other pixel keeps its exact value."""
    picture, render, edited, reshape = _reshape_case(side)
    box = FaceBox(0, 0, side, side)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape)
    k = side // 256
    inside = pasted[66 * k : 190 * k, 66 * k : 190 * k].reshape(-1, 3)
    assert np.abs(inside.astype(int) - (110, 70, 50)).max() <= 1  # opaque, one flat brown
    # the block's edge (at 64 px of 256): the picture up to a pixel or two before it
    row = 128 * k
    edge = 64 * k
    np.testing.assert_array_equal(pasted[row, : edge - 2 * k], picture[row, : edge - 2 * k])
    assert np.abs(pasted[row, edge + 2 * k].astype(int) - (110, 70, 50)).max() <= 1
    changed = np.any(pasted != picture, axis=2)
    assert changed[: 16 * k, : 16 * k].all()  # kept: the difference pasted
    assert not changed[-48 * k :, -48 * k :].any()  # not kept: dropped
    assert not changed[: 40 * k, 48 * k :].any()  # nothing else touched
    # the region form is the same; an edit that changes nothing gives the picture back
    region = paste_back_region(picture, render, edited, feather=0, reshape=reshape)
    np.testing.assert_array_equal(region, pasted)
    same = paste_back(picture, box, render, render, reshape=reshape)
    np.testing.assert_array_equal(same, picture)
    # feathered at the box's edges like every paste-back
    feathered = paste_back(picture, box, render, edited, reshape=reshape)
    assert np.array_equal(feathered[0, 0], picture[0, 0])


def test_a_reshape_without_a_cover_pastes_only_what_it_keeps() -> None:
    picture, render, edited, reshape = _reshape_case(256)
    bare = Reshape(np.zeros_like(reshape.cover), reshape.drawn, reshape.kept)
    pasted = paste_back(picture, FaceBox(0, 0, 256, 256), render, edited, reshape=bare)
    changed = np.any(pasted != picture, axis=2)
    assert changed[20:30, 20:30].all() and not changed[72:, :].any()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cover", np.zeros((32, 16), np.float32), "r x r"),
        ("cover", np.zeros((32, 32), np.uint8), "finite floats"),
        ("cover", np.full((32, 32), 1.5, np.float32), "0 to 1"),
        ("drawn", np.zeros((32, 32), np.float32), r"\(32, 32, 3\)"),
        ("drawn", np.full((32, 32, 3), 300.0, np.float32), "0 to 255"),
        ("drawn", np.full((32, 32, 3), np.nan, np.float32), "finite"),
        ("kept", np.zeros((16, 16), np.float32), r"\(32, 32\)"),
        ("kept", np.full((32, 32), -0.5, np.float32), "0 to 1"),
        ("kept", [[0.0]], r"\(32, 32\)"),
        ("closed", np.zeros((16, 16), np.float32), r"\(32, 32\)"),
        ("closed", np.full((32, 32), 2.0, np.float32), "0 to 1"),
        ("erased", np.zeros((32, 31), np.float32), r"\(32, 32\)"),
        ("opened", np.full((32, 32), -1.0, np.float32), "0 to 1"),
    ],
)
def test_a_bad_reshape_is_refused(field: str, value: object, message: str) -> None:
    fields = {
        "cover": np.zeros((32, 32), np.float32),
        "drawn": np.zeros((32, 32, 3), np.float32),
        "kept": np.zeros((32, 32), np.float32),
    }
    fields[field] = value  # type: ignore[assignment]
    with pytest.raises(ValueError, match=message):
        Reshape(**fields)


def test_paste_back_refuses_a_reshape_of_another_size() -> None:
    picture, render, edited, _ = _hair_over_stripes(64)
    small = Reshape(
        np.zeros((16, 16), np.float32),
        np.zeros((16, 16, 3), np.float32),
        np.zeros((16, 16), np.float32),
    )
    with pytest.raises(ValueError, match="16 px"):
        paste_back(picture, FaceBox(0, 0, 64, 64), render, edited, reshape=small)
    with pytest.raises(ValueError, match="Reshape"):
        paste_back_region(picture, render, edited, reshape="longer")  # type: ignore[arg-type]


def _page_with_hair(page: np.ndarray) -> tuple[np.ndarray, np.ndarray, Reshape, np.ndarray]:
    """``page`` (256 px) with a block of brown hair over its middle, its render, the reshape
    of an edit that removes the hair (the block covered, drawn grey, marked as uncovered
    page) and the edited render."""
    picture = page.copy()
    picture[64:192, 96:160] = (110, 70, 50)
    render = crop_face(picture, FaceBox(0, 0, 256, 256), 32).astype(np.float32)
    block = np.zeros((32, 32), np.float32)
    block[8:24, 12:20] = 1.0
    reshape = Reshape(
        cover=block,
        drawn=np.full((32, 32, 3), 128.0, np.float32),
        kept=np.zeros((32, 32), np.float32),
        page=1.0 - block,
        uncovered=block,
    )
    edited = render.copy()
    edited[8:24, 12:20] = 128.0
    return picture, render, reshape, edited


@pytest.mark.parametrize("kind", ["stripes", "gradient", "plain"])
def test_shorter_hair_uncovers_the_pictures_own_page(kind: str) -> None:
    """Where the edit removes hair from a page that repeats itself (stripes, a gradient, one
    colour), the page is continued into the hole from the picture, not drawn in the render's
    flat colour."""
    ys, xs = np.mgrid[:256, :256]
    if kind == "stripes":
        stripes = (((xs + ys) // 12) % 2 == 0)[:, :, None]
        page = np.where(stripes, (215, 180, 200), (150, 130, 160)).astype(np.uint8)
    elif kind == "gradient":
        page = np.stack([ys * 0.5 + 60, ys * 0.3 + 100, 200 + 0 * ys], axis=2).astype(np.uint8)
    else:
        page = np.full((256, 256, 3), (167, 187, 181), np.uint8)
    picture, render, reshape, edited = _page_with_hair(page)
    pasted = paste_back(
        picture, FaceBox(0, 0, 256, 256), render, edited, feather=0, reshape=reshape
    )
    hole = (slice(72, 184), slice(104, 152))  # inside the block, away from its cut edge
    assert np.abs(pasted[hole].astype(int) - page[hole]).max() <= 1
    # without the page maps, the drawn grey
    bare = Reshape(reshape.cover, reshape.drawn, reshape.kept)
    grey = paste_back(picture, FaceBox(0, 0, 256, 256), render, edited, feather=0, reshape=bare)
    assert np.abs(grey[hole].astype(int) - 128).max() <= 1


def test_a_hole_no_repeat_of_the_page_reaches_takes_the_page_spread_in() -> None:
    """Removed hair whose lower part has no page on its rows (skin out to the box's edges,
    as beside a neck with the head above): the page continued into the top of the hole, the
    rest takes the page's colours spread in from around, not the render's flat colour."""
    ys, _ = np.mgrid[:256, :256]
    page = np.stack([ys * 0.5 + 60, ys * 0.3 + 100, 200 + 0 * ys], axis=2).astype(np.uint8)
    page[96:192, :96] = page[96:192, 160:] = (220, 180, 150)  # skin out to the edges
    picture, render, reshape, edited = _page_with_hair(page)
    skin = np.zeros((32, 32), np.float32)
    skin[12:24, :12] = skin[12:24, 20:] = 1.0
    moved = dataclasses.replace(reshape, page=np.clip(reshape.page - skin, 0.0, 1.0))
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=moved).astype(int)
    assert np.abs(pasted[72:92, 104:152] - page[72:92, 104:152]).max() <= 1  # continued
    spread = pasted[100:184, 104:152]
    assert (spread[:, :, 2] >= 190).all()  # the page's blue, not the drawn grey's 128
    assert (np.abs(spread[:, :, 0] - page[100:184, 104:152, 0]) <= 30).all()
    np.testing.assert_array_equal(pasted[96:192, :88], page[96:192, :88])  # the skin stays


def test_a_page_that_does_not_repeat_is_not_copied() -> None:
    page = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    picture, render, reshape, edited = _page_with_hair(page)
    pasted = paste_back(
        picture, FaceBox(0, 0, 256, 256), render, edited, feather=0, reshape=reshape
    )
    assert np.abs(pasted[72:184, 104:152].astype(int) - 128).max() <= 1


def test_beside_the_continued_page_the_cover_shows_what_lies_beside_it() -> None:
    """Removed hair over a page above a shirt: the page is continued into the top of the
    hole and the shirt below takes the shirt's colour up to the page's cut, not the render's
    blend of shirt and page in the render pixel between."""
    ys, xs = np.mgrid[:256, :256]
    stripes = (((xs + ys) // 12) % 2 == 0)[:, :, None]
    page = np.where(stripes, (215, 180, 200), (150, 130, 160)).astype(np.uint8)
    page[128:] = (40, 50, 110)  # the shirt
    picture, render, reshape, edited = _page_with_hair(page)
    drawn = np.zeros((32, 32, 3), np.float32)
    drawn[:16], drawn[16:] = (180, 155, 180), (40, 50, 110)
    drawn[15] = (110, 100, 145)  # the render's pixels between page and shirt: a blend
    uncovered = reshape.cover.copy()
    uncovered[16:] = 0.0
    uncovered[15] *= 0.5  # half page
    moved = dataclasses.replace(reshape, drawn=drawn, uncovered=uncovered)
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=moved).astype(int)
    hole = (slice(72, 184), slice(104, 152))
    shirt = pasted[hole][np.asarray(page[hole][:, :, 2] == 110)]
    assert np.abs(pasted[72:120, 104:152] - page[72:120, 104:152]).max() <= 1  # the page
    blended = np.abs(pasted[hole] - (110, 100, 145)).max(axis=2) <= 20
    assert not blended.any()  # no band of the render's blend
    assert (np.abs(shirt - (40, 50, 110)).max(axis=1) <= 6).mean() > 0.97


def test_the_cut_of_hair_that_stays_takes_no_colour_from_far_below() -> None:
    """Hair hanging over a page down onto a shirt, made shorter: along the cut of the hair
    that stays, the page is continued up to the hair, not drawn in the shirt's colour taken
    from ten render pixels below (a line of it along the cut); beside the shirt, the shirt's
    colour still reaches up to the page's cut."""
    page = np.full((256, 256, 3), (167, 187, 181), np.uint8)
    page[208:] = (40, 50, 110)  # the shirt
    picture = page.copy()
    picture[64:240, 96:160] = (110, 70, 50)  # long hair over both
    render = crop_face(picture, FaceBox(0, 0, 256, 256), 32).astype(np.float32)
    cover = np.zeros((32, 32), np.float32)
    cover[16:30, 12:20] = 1.0  # its lower part removed
    uncovered = cover.copy()
    uncovered[26:] = 0.0  # the page above the shirt
    hair = np.zeros((32, 32), np.float32)
    hair[8:30, 12:20] = 1.0
    drawn = np.zeros((32, 32, 3), np.float32)
    drawn[:26], drawn[26:] = (167, 187, 181), (40, 50, 110)
    reshape = Reshape(cover, drawn, np.zeros_like(cover), 1.0 - hair, uncovered)
    edited = render.copy()
    edited[16:30, 12:20] = drawn[16:30, 12:20]
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape).astype(int)
    navy = np.abs(pasted - (40, 50, 110)).max(axis=2) <= 40
    assert not navy[112:150, 96:160].any()  # the cut at row 128 and the page below it
    assert np.abs(pasted[136:200, 104:152] - page[136:200, 104:152]).max() <= 1
    assert navy[212:236, 104:152].all()  # the shirt where the hair was


def test_longer_hair_continues_the_pictures_strands() -> None:
    """New hair below the picture's hair takes, column by column, the colours of the
    picture's strands just above it (not the drawn colour), also over the page between the
    old tips and the new hair; columns beside the picture's hair take the nearest strand's;
    the rest of the picture stays."""
    picture = np.full((256, 256, 3), (170, 190, 220), np.uint8)  # a plain page
    strands = np.where((np.arange(128) // 4 % 2 == 0)[:, None], (120, 72, 48), (90, 50, 30))
    picture[:96, 64:192] = strands.astype(np.uint8)  # hair in vertical strands, 4 px wide
    picture[96:104, 64:192] = (40, 20, 10)  # its tips' outline
    render = crop_face(picture, FaceBox(0, 0, 256, 256), 32).astype(np.float32)
    hair = np.zeros((32, 32), np.float32)
    hair[:12, 8:24] = 1.0
    grown = np.zeros((32, 32), np.float32)
    grown[14:26, 6:24] = 1.0  # below the hair (a render pixel of page between) and beside it
    drawn = np.full((32, 32, 3), (200, 0, 200), np.float32)
    page = np.clip(1.0 - hair - grown, 0.0, 1.0)
    reshape = Reshape(grown, drawn, np.zeros_like(grown), page, np.zeros_like(grown), hair, grown)
    edited = render.copy()
    edited[14:26, 6:24] = (200, 0, 200)
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape).astype(int)
    below = pasted[120:200, 72:184]  # the hair's edge columns are not surely hair
    np.testing.assert_array_equal(below, np.broadcast_to(strands[8:120], below.shape))
    # the outline and the page between the tips and the new hair are hair now
    assert (pasted[100:120, 72:184] == pasted[150, 72:184]).all()
    # beside the hair, the nearest strand's colour
    assert (pasted[120:200, 50:64] == pasted[150, 64]).all()
    assert tuple(pasted[150, 64]) in {tuple(strands[0]), tuple(strands[4])}
    untouched = np.ones((256, 256), bool)
    untouched[96:212, 44:196] = False  # the new hair and its cut edge
    np.testing.assert_array_equal(pasted[untouched], picture[untouched])
    # a gap that is not the page (the skin of a face between) stays
    skin = dataclasses.replace(reshape, page=np.zeros_like(grown))
    apart = paste_back(picture, box, render, edited, feather=0, reshape=skin)
    np.testing.assert_array_equal(apart[100:108, 72:184], picture[100:108, 72:184])
    np.testing.assert_array_equal(apart[120:200, 72:184], pasted[120:200, 72:184])
    # without the strands, the drawn colour
    bare = Reshape(grown, drawn, np.zeros_like(grown))
    flat = paste_back(picture, box, render, edited, feather=0, reshape=bare)
    assert (np.abs(flat[120:200, 64:192].astype(int) - (200, 0, 200)) <= 1).all()


def test_longer_hair_below_the_eyes_is_the_pictures_own_stretched() -> None:
    """Given where the eyes are, longer hair is the picture's own hair below them stretched
    down, on each side of the face, to where the render's new hair ends: its strands keep
    their colours, its pointed tips end pointed at the new length, and the page the render
    drew as hair beside the tips keeps its pixels; the picture above the eyes and between
    the locks stays, a strand of the fringe over the face too; hair grown beside a lock as
    long already is not drawn. No eyes: the strands continued as before."""
    picture = np.full((256, 256, 3), (170, 190, 220), np.uint8)  # a plain page
    picture[:, 80:176] = (240, 200, 170)  # the face and neck
    strands = np.where((np.arange(40) // 4 % 2 == 0)[:, None], (120, 72, 48), (90, 50, 30))
    hair = np.zeros((256, 256), bool)
    for x0 in (40, 176):  # a lock each side, ending at row 140 in a point from row 120
        picture[:120, x0 : x0 + 40] = strands.astype(np.uint8)
        hair[:120, x0 : x0 + 40] = True
        for y in range(120, 140):
            half = round(20 * (140 - y) / 20)
            picture[y, x0 + 20 - half : x0 + 20 + half] = strands[20 - half : 20 + half]
            hair[y, x0 + 20 - half : x0 + 20 + half] = True
    picture[:90, 112:120] = strands[:8]  # a strand of the fringe over the face
    hair[:90, 112:120] = True
    render = crop_face(picture, FaceBox(0, 0, 256, 256), 32).astype(np.float32)
    share = hair.reshape(32, 8, 32, 8).mean(axis=(1, 3)).astype(np.float32)
    grown = np.zeros((32, 32), np.float32)
    grown[17:28, 4:11] = grown[17:28, 21:28] = 1.0  # down to row 224, as wide as the locks
    drawn = np.full((32, 32, 3), (200, 0, 200), np.float32)
    page = np.clip(1.0 - share - grown, 0.0, 1.0)
    page[:, 10:22] = 0.0
    plain = Reshape(grown, drawn, np.zeros_like(grown), page, np.zeros_like(grown), share, grown)
    reshape = dataclasses.replace(plain, eyes=(16.0, 8.0))  # the line below them: row 64
    edited = render.copy()
    edited[grown > 0] = (200, 0, 200)
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape).astype(int)
    magenta = np.abs(pasted - (200, 0, 200)).max(axis=2) <= 60
    assert not magenta.any()
    np.testing.assert_array_equal(pasted[:64], picture[:64])  # above the eyes' line
    # the face and the neck, and the strand over the face (no hair grows below it)
    np.testing.assert_array_equal(pasted[:, 80:176], picture[:, 80:176])
    brown = np.abs(pasted - (105, 61, 39)).max(axis=2) <= 20
    for x0 in (40, 176):
        lock = brown[:, x0 - 8 : x0 + 48]
        # the lock's body (at least half its width: down to about row 130) reaches where
        # the new hair ends (row 223), stretched from the line below the eyes (row 64): its
        # point now runs from about row 196 to 240
        assert lock[64:194].sum(axis=1).min() >= 38
        widths = lock[194:244].sum(axis=1)
        assert widths[0] >= 38 and widths[-2:].max() == 0 and (np.diff(widths) <= 0).all()
        assert 10 <= widths[223 - 194] <= 30 and lock[234].any() and not lock[242:].any()
        # in the strands' own colours, column by column, the edge's too
        body = np.broadcast_to(strands, (194 - 64, 40, 3))
        np.testing.assert_array_equal(pasted[64:194, x0 : x0 + 40], body)
        np.testing.assert_array_equal(pasted[215, x0 + 14 : x0 + 26], strands[14:26])
        # beside the point, the page keeps its pixels
        beside = (slice(228, 248), slice(x0 - 8, x0 + 4))
        np.testing.assert_array_equal(pasted[beside], picture[beside])
    # without the eyes, the strands are continued column by column to the render's new hair
    continued = paste_back(picture, box, render, edited, feather=0, reshape=plain).astype(int)
    flat = continued[200:220, 44:76]
    assert (flat == flat[:1]).all()  # each column in one colour, as wide as the render's
    assert (np.abs(continued[220, 36:84] - (105, 61, 39)).max(axis=1) <= 20).all()
    # hair the render grows beside a lock that is as long already (the GAN's fuller hair)
    # is not drawn: the picture keeps its pixels (but for a trace of the cut's soft edge
    # over the lock's)
    beside = np.zeros((32, 32), np.float32)
    beside[10:16, 2:5] = 1.0
    fuller = Reshape(
        beside, drawn, np.zeros_like(beside), np.clip(page - beside, 0.0, 1.0),
        np.zeros_like(beside), share, beside, eyes=(16.0, 8.0),
    )  # fmt: skip
    widened = render.copy()
    widened[beside > 0] = (200, 0, 200)
    kept = paste_back(picture, box, render, widened, feather=0, reshape=fuller).astype(int)
    assert np.abs(kept - picture).max() <= 8
    drawn_beside = paste_back(
        picture, box, render, widened, feather=0, reshape=dataclasses.replace(fuller, eyes=None)
    )
    assert (drawn_beside[88:120, 20:36] != picture[88:120, 20:36]).any(axis=2).all()
    with pytest.raises(ValueError, match="eyes must be None or a point"):
        dataclasses.replace(plain, eyes=(1.0, float("nan")))


def test_page_and_uncovered_come_together() -> None:
    zeros = np.zeros((32, 32), np.float32)
    with pytest.raises(ValueError, match="together"):
        Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros, page=zeros)
    with pytest.raises(ValueError, match="strands and grown come together"):
        Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros, grown=zeros)
    with pytest.raises(ValueError, match=r"uncovered must be \(32, 32\)"):
        Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros, zeros, np.zeros((16, 16)))


def test_a_reshapes_lines_are_drawn_crisp_at_the_pictures_size() -> None:
    """Glasses' frames fitted at the render's size are drawn at the box's: antialiased
    lines of their width in their colour along their points; nothing else changes."""
    picture = np.full((512, 512, 3), (230, 190, 170), np.uint8)  # skin
    render = np.full((32, 32, 3), (230, 190, 170), np.float32)
    turn = np.linspace(0, 2 * np.pi, 49)
    ring = np.stack([16 + 6 * np.cos(turn), 16 + 4 * np.sin(turn)], axis=1).astype(np.float32)
    line = Line(ring, 0.5, (40.0, 30.0, 30.0))
    zeros = np.zeros((32, 32), np.float32)
    reshape = Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros, lines=(line,))
    edited = render.copy()
    edited[16, 22] = (40, 30, 30)  # the render's frame (not kept: drawn by the line alone)
    box = FaceBox(0, 0, 512, 512)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape).astype(int)
    # on the line (x = 16 + 6 render px at its middle row: box 16.5 * 16 + 96 = 360): dark
    row = int(16.5 * 16)
    assert (np.abs(pasted[row, 358:363] - (40, 30, 30)) <= 2).all()
    # its width is half a render pixel (8 box pixels), its edges antialiased
    dark = np.abs(pasted[row, 340:380] - (40, 30, 30)).max(axis=1) <= 2
    assert 5 <= dark.sum() <= 9
    assert ((pasted[row, 340:380, 0] > 45) & (pasted[row, 340:380, 0] < 225)).any()
    np.testing.assert_array_equal(pasted[row, 200:320], picture[row, 200:320])  # inside
    np.testing.assert_array_equal(pasted[:150], picture[:150])  # far away
    np.testing.assert_array_equal(pasted[:, 400:], picture[:, 400:])
    # at half its opacity (a slider part of the way), half as far from the skin
    half = Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros,
                   lines=(Line(ring, 0.5, (40.0, 30.0, 30.0), 0.5),))  # fmt: skip
    faded = paste_back(picture, box, render, edited, feather=0, reshape=half).astype(int)
    np.testing.assert_allclose(faded[row, 360], (135, 110, 100), atol=2)


@pytest.mark.parametrize("name", sorted(n for n in FIGURES if not FIGURES[n].pair))
def test_a_reshapes_figures_are_drawn_whole_at_the_pictures_size(name: str) -> None:
    """A figure (an accessory a class target asks for) is drawn at the box's size around its
    centre, in its colour, as large as its unit says and facing its side; with no other
    change the reshape still fills (renders that are the same change the picture); nothing
    far from it changes."""
    picture = np.full((512, 512, 3), (110, 64, 40), np.uint8)  # brown hair
    render = np.zeros((32, 32, 3), np.float32)
    zeros = np.zeros((32, 32), np.float32)
    box = FaceBox(0, 0, 512, 512)
    shape = FIGURES[name]
    drawn = {}
    for side in (-1, 1):
        figure = Figure(name, (15.5, 15.5), 10.0, side, (60.0, 110.0, 220.0))
        reshape = Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros, figures=(figure,))
        assert reshape.fills
        pasted = paste_back(picture, box, render, render, feather=0, reshape=reshape)
        changed = np.abs(pasted.astype(int) - picture).max(axis=2) > 0
        ys, xs = np.nonzero(changed)
        # around its centre (box pixel 256), within its parts' reach (10 render px = 160 box)
        reach = 160 * np.abs(np.concatenate([p for p, _ in shape.parts])).max()
        assert np.abs(xs - 256).max() <= reach + 2 and np.abs(ys - 256).max() <= reach + 2
        # its area: about the shape's, in units of 160 box pixels
        assert changed.sum() == pytest.approx(shape.area * 160**2, rel=0.15)
        blue = (np.abs(pasted.astype(int) - (60, 110, 220)).max(axis=2) <= 2).sum()
        assert blue > 0.3 * changed.sum()  # mostly its colour (a shade, a flower's middle)
        np.testing.assert_array_equal(pasted[:60], picture[:60])  # far away
        drawn[side] = changed
    # mirror images (but for a few antialiased edge pixels)
    assert (drawn[-1] != drawn[1][:, ::-1]).sum() < 0.02 * drawn[1].sum()


def test_a_blush_tints_the_skin_under_it_and_not_the_hair_over_it() -> None:
    """A see-through figure (a blush, worn on both cheeks): over skin, its oval mixes the
    blush colour in at 0.37 and its three hatches, darker, at 0.63; a lock of hair across it
    keeps its pixels; the figure on the other side is its mirror image."""
    skin, hair, pink = np.array((240, 200, 170)), (110, 64, 40), np.array((255.0, 105.0, 125.0))
    picture = np.full((512, 512, 3), skin, np.uint8)
    picture[:, 150:170] = hair  # a lock across the oval's outer end (x 256 - 0.234 * 480)
    render = np.zeros((32, 32, 3), np.float32)
    zeros = np.zeros((32, 32), np.float32)
    box = FaceBox(0, 0, 512, 512)
    figure = Figure("blush", (15.5, 15.5), 30.0, -1, tuple(pink))  # a unit of 480 box pixels
    reshape = Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros, figures=(figure,))
    pasted = paste_back(picture, box, render, render, feather=0, reshape=reshape).astype(float)
    oval = skin + 0.37 * (pink - skin)
    np.testing.assert_allclose(pasted[256 + 30, 256], oval, atol=2)  # below the hatches
    hatch = oval + 0.63 * (0.85 * pink - oval)
    np.testing.assert_allclose(pasted[256, 256], hatch, atol=2)  # the middle hatch
    np.testing.assert_array_equal(pasted[:, 150:170], picture[:, 150:170])  # the lock
    assert (np.abs(pasted - picture).max(axis=2) > 0).sum() == pytest.approx(
        FIGURES["blush"].area * 480**2 - 20 * 2 * 0.096 * 480, rel=0.1
    )
    np.testing.assert_array_equal(pasted[:150], picture[:150])  # above it
    other = Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros,
                    figures=(dataclasses.replace(figure, side=1),))  # fmt: skip
    mirrored = paste_back(picture[:, ::-1].copy(), box, render, render, feather=0, reshape=other)
    assert np.abs(mirrored[:, ::-1].astype(float) - pasted).max() <= 4  # antialiased edges
    # half of it (a slider part of the way): the oval half as far from the skin
    half = Reshape(zeros, np.zeros((32, 32, 3), np.float32), zeros,
                   figures=(dataclasses.replace(figure, opacity=0.5),))  # fmt: skip
    halved = paste_back(picture, box, render, render, feather=0, reshape=half).astype(float)
    np.testing.assert_allclose(halved[256 + 30, 256], skin + 0.5 * (oval - skin), atol=2)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "hat"}, "name must be one of"),
        ({"centre": (1.0,)}, "centre"),
        ({"centre": (1.0, float("nan"))}, "centre"),
        ({"size": 0.0}, "size"),
        ({"size": True}, "size"),
        ({"side": 0}, "side"),
        ({"colour": (0.0, 0.0, 256.0)}, "colour"),
        ({"opacity": 0.0}, "opacity"),
        ({"opacity": 1.5}, "opacity"),
    ],
)
def test_a_bad_figure_is_refused(fields: dict, message: str) -> None:
    given = {"name": "bow", "centre": (4.0, 4.0), "size": 3.0, "side": 1, "colour": (0, 0, 0)}
    with pytest.raises(ValueError, match=message):
        Figure(**{**given, **fields})
    zeros = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="tuple of Figure"):
        Reshape(zeros, np.zeros((8, 8, 3), np.float32), zeros, figures=["bow"])  # type: ignore[arg-type]


def _open_mouth(side: int) -> tuple[np.ndarray, np.ndarray]:
    """A box of skin with an open mouth drawn in it (a dark red half-ellipse, flat on top,
    its middle (side / 2, 0.6 side), 0.25 side wide) and where it lies (bool)."""
    skin, red = (230, 190, 160), (120, 34, 44)
    picture = np.full((side, side, 3), skin, np.uint8)
    ys, xs = np.mgrid[0:side, 0:side] + 0.5
    top, half = 0.6 * side, 0.125 * side
    mouth = (((xs - side / 2) / half) ** 2 + ((ys - top) / (0.5 * half)) ** 2 <= 1) & (ys >= top)
    picture[mouth] = red
    return picture, mouth


@pytest.mark.parametrize("side", [256, 512])
def test_an_open_mouth_closes_to_a_line_in_its_own_colour(side: int) -> None:
    """A part the edit closes to a line (an open mouth closed) is filled with the skin around
    it and a tapered line is drawn along its top edge, three quarters of its width, in its
    darkest colour; everything else keeps its pixels."""
    picture, mouth = _open_mouth(side)
    r = 32
    shrunk = np.asarray(Image.fromarray(mouth.astype(np.uint8) * 255).resize((r, r), Image.BOX))
    closed = (shrunk / 255.0).astype(np.float32)
    zeros = np.zeros((r, r), np.float32)
    reshape = Reshape(zeros, np.zeros((r, r, 3), np.float32), zeros, closed=closed)
    render = np.full((r, r, 3), (230, 190, 160), np.float32)
    edited = render.copy()
    edited[19, 14:18] = (110, 40, 45)  # the render's closed mouth (not pasted: drawn anew)
    box = FaceBox(0, 0, side, side)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape).astype(int)
    skin = np.array((230, 190, 160))
    dark = np.abs(pasted - (120, 34, 44)).max(axis=2) <= 40
    lower = mouth & (np.mgrid[0:side, 0:side][0] > 0.6 * side + 0.03 * side)
    assert np.abs(pasted[lower] - skin).max() <= 3  # the inside is skin again
    rows, columns = np.nonzero(dark)
    assert len(rows), "no line"
    # along the top edge, about three quarters of the mouth's width, a few pixels thick
    assert abs(rows.mean() - 0.6 * side) <= 0.02 * side
    width = columns.max() - columns.min() + 1
    assert 0.6 * 0.25 * side <= width <= 0.8 * 0.25 * side
    assert abs(columns.mean() - side / 2) <= 2
    middle = dark[:, side // 2]
    assert 1 <= middle.sum() <= 0.02 * side + 2
    assert middle.sum() > dark[:, columns.min() + 1].sum()  # tapered towards the ends
    far = np.ones((side, side), bool)
    far[int(0.5 * side) : int(0.75 * side), int(0.3 * side) : int(0.7 * side)] = False
    np.testing.assert_array_equal(pasted[far], picture[far])


def test_an_erased_part_is_filled_with_the_colours_around_it() -> None:
    """A small part the edit removes whole (a hair clip across the edge of the hair and the
    skin) is filled from around it in the picture's own flat colours, without a line, even
    when the renders are the same (the render never drew it)."""
    side, r = 256, 32
    hair, skin, clip = (110, 70, 50), (230, 190, 160), (150, 60, 200)
    picture = np.full((side, side, 3), skin, np.uint8)
    picture[:128] = hair
    ys, xs = np.mgrid[0:side, 0:side]
    bar = (np.abs((xs - 128) - (ys - 128)) < 10) & (np.abs(xs - 128) < 24)
    picture[bar] = clip
    shrunk = np.asarray(Image.fromarray(bar.astype(np.uint8) * 255).resize((r, r), Image.BOX))
    zeros = np.zeros((r, r), np.float32)
    erased = (shrunk / 255.0).astype(np.float32)
    reshape = Reshape(zeros, np.zeros((r, r, 3), np.float32), zeros, erased=erased)
    assert reshape.fills
    render = np.full((r, r, 3), 128.0, np.float32)
    box = FaceBox(0, 0, side, side)
    pasted = paste_back(picture, box, render, render, feather=0, reshape=reshape).astype(int)
    near = np.abs(pasted[bar][:, None] - np.array([hair, skin])[None]).max(axis=2).min(axis=1)
    assert (near <= 2).mean() > 0.95  # hair or skin, not the clip nor a smear of them
    assert (pasted[:100, 128] == hair).all() and (pasted[156:, 128] == skin).all()
    far = ~np.asarray(Image.fromarray(bar.astype(np.uint8) * 255).resize((side, side)))
    far[96:160, 96:160] = False
    np.testing.assert_array_equal(pasted[far.astype(bool)], picture[far.astype(bool)])


def test_erased_frames_are_filled_from_the_skin_and_spare_the_eye() -> None:
    """Glasses' frames removed (``glasses=false``): a dark ring around an eye, 3 px from pink
    hair beside it, is filled with the skin on both its sides (not the hair's colour, which
    the fill's blend of skin and hair came nearer), and the eye it holds keeps its lash line,
    of the frames' colour, though it lies in what the render's 32 px map calls frames."""
    side, r = 256, 32
    hair, skin, dark, white = (230, 150, 180), (240, 205, 180), (40, 40, 50), (250, 250, 255)
    picture = np.full((side, side, 3), skin, np.uint8)
    picture[:, :43] = hair
    ys, xs = np.mgrid[0:side, 0:side]
    eye = (np.abs(xs - 96) <= 28) & (np.abs(ys - 128) <= 20)
    picture[eye] = white
    lashes = eye & (ys <= 111)
    picture[lashes] = dark
    outer = (np.abs(xs - 96) <= 50) & (np.abs(ys - 128) <= 36)
    inner = (np.abs(xs - 96) <= 44) & (np.abs(ys - 128) <= 30)
    ring = outer & ~inner  # the frame: 6 px wide, its left side 3 px from the hair
    picture[ring] = dark

    def shrunk(mask: np.ndarray) -> np.ndarray:
        small = Image.fromarray(mask.astype(np.uint8) * 255).resize((r, r), Image.BOX)
        return (np.asarray(small) / 255.0).astype(np.float32)

    frames = np.clip(shrunk(ring) * 2, 0, 1)  # a 32 px map: thick, over the eye's edge too
    zeros = np.zeros((r, r), np.float32)
    render = np.full((r, r, 3), 128.0, np.float32)
    box = FaceBox(0, 0, side, side)
    pasted = {}
    for spared in (None, shrunk(eye)):
        reshape = Reshape(zeros, np.zeros((r, r, 3), np.float32), zeros, erased=frames,
                          spared=spared)  # fmt: skip
        done = paste_back(picture, box, render, render, feather=0, reshape=reshape)
        pasted[spared is not None] = done.astype(int)
    lost, pasted = pasted[False][lashes], pasted[True]  # unspared, the lash line went too
    assert np.abs(pasted[ring] - skin).max(axis=1).mean() <= 3  # skin, not hair or dark
    assert (np.abs(pasted[ring] - skin).max(axis=1) <= 3).mean() > 0.95
    np.testing.assert_array_equal(pasted[lashes], picture[lashes])  # spared: as it was
    assert np.abs(lost - dark).max(axis=1).mean() > 40
    np.testing.assert_array_equal(pasted[:, :38], picture[:, :38])  # the hair


def test_an_erased_part_over_the_page_continues_its_pattern() -> None:
    """A part removed whole where the page shows around it (a bow over striped paper) is
    filled by continuing the page's stripes, not with a flat patch of their colours; the
    hair beside it is filled with the hair."""
    side, r = 256, 32
    hair, bow = (110, 70, 50), (220, 40, 60)
    ys, xs = np.mgrid[0:side, 0:side]
    light = ((xs + ys) // 16) % 2 == 0  # diagonal stripes 16 px wide
    picture = np.where(light[:, :, None], (200, 180, 210), (150, 140, 160)).astype(np.uint8)
    picture[160:] = hair
    part = (np.abs(xs - 128) < 40) & (np.abs(ys - 150) < 24)  # across the hair's edge
    expected = picture.copy()
    picture[part] = bow
    shrunk = np.asarray(Image.fromarray(part.astype(np.uint8) * 255).resize((r, r), Image.BOX))
    erased = (shrunk / 255.0).astype(np.float32)
    page = np.zeros((r, r), np.float32)
    page[: 160 * r // side] = 1.0
    zeros = np.zeros((r, r), np.float32)
    render = np.full((r, r, 3), 128.0, np.float32)
    box = FaceBox(0, 0, side, side)
    pasted = {}
    for given in (None, page):
        reshape = Reshape(
            zeros,
            np.zeros((r, r, 3), np.float32),
            zeros,
            page=given,
            uncovered=None if given is None else zeros,
            erased=erased,
        )
        pasted[given is None] = paste_back(picture, box, render, render, reshape=reshape)
    paper = part & (ys < 158)  # above the hair's edge (a straight edge across, no bump)
    wrong = np.abs(pasted[False][paper].astype(int) - expected[paper]).max(axis=1) > 8
    assert wrong.mean() < 0.05  # the stripes continued
    flat = np.abs(pasted[True][paper].astype(int) - expected[paper]).max(axis=1) > 8
    assert flat.mean() > 0.3  # without the page: a patch in one of their colours
    lower = part & (ys >= 166)
    assert (np.abs(pasted[False][lower].astype(int) - hair).max(axis=1) <= 2).mean() > 0.95


def test_a_cleared_tint_takes_the_main_colour_around_it() -> None:
    """A tint the edit takes away (blush, for blush=false) takes the main colour of the
    pixels around it, the skin, though hair runs beside it (filled as a part, the side
    towards the hair took the hair's colour); nothing far from it changes."""
    side, r = 256, 32
    skin, hair, blush = (200, 150, 120), (90, 60, 40), (235, 120, 130)
    picture = np.full((side, side, 3), skin, np.uint8)
    picture[:, 200:] = hair
    ys, xs = np.mgrid[0:side, 0:side]
    cheek = ((xs - 170) / 26) ** 2 + ((ys - 140) / 12) ** 2 <= 1  # reaches x = 196
    picture[cheek] = blush
    shrunk = np.asarray(Image.fromarray(cheek.astype(np.uint8) * 255).resize((r, r), Image.BOX))
    zeros = np.zeros((r, r), np.float32)
    cleared = (shrunk / 255.0 * 0.6).astype(np.float32)  # the segmenter unsure of it
    reshape = Reshape(zeros, np.zeros((r, r, 3), np.float32), zeros, cleared=cleared)
    assert reshape.fills
    render = np.full((r, r, 3), 128.0, np.float32)
    pasted = paste_back(picture, FaceBox(0, 0, side, side), render, render, reshape=reshape)
    assert (np.abs(pasted[cheek].astype(int) - skin).max(axis=1) <= 2).all()
    np.testing.assert_array_equal(pasted[:, 202:], picture[:, 202:])  # the hair as it was
    np.testing.assert_array_equal(pasted[:100], picture[:100])


@pytest.mark.parametrize("side", [256, 512])
def test_an_open_mouth_is_drawn_from_the_pictures_closed_one(side: int) -> None:
    """A part that opens from the picture's line work (a closed mouth's line, for
    mouth=open) is drawn below it as the procedural faces draw an open mouth: in the line's
    colour, wider than the line, with a lighter tongue low in it; the line itself and
    everything away from the mouth keep their pixels."""
    skin, dark = (230, 190, 160), (120, 34, 44)
    picture = np.full((side, side, 3), skin, np.uint8)
    ys, xs = np.mgrid[0:side, 0:side]
    row, reach = int(0.6 * side), int(0.09 * side)
    line = (np.abs(ys - row) <= max(1, side // 200)) & (np.abs(xs - side // 2) <= reach)
    picture[line] = dark
    r = 32
    shrunk = np.asarray(Image.fromarray(line.astype(np.uint8) * 255).resize((r, r), Image.BOX))
    zeros = np.zeros((r, r), np.float32)
    opened = (shrunk / 255.0 / max(shrunk.max() / 255.0, 1e-6)).astype(np.float32)
    reshape = Reshape(zeros, np.zeros((r, r, 3), np.float32), zeros, opened=opened)
    render = np.full((r, r, 3), skin, np.float32)
    edited = render.copy()
    edited[20, 15:17] = dark
    box = FaceBox(0, 0, side, side)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape).astype(int)
    below = pasted[row + int(0.02 * side), side // 2 - reach : side // 2 + reach + 1]
    assert (np.abs(below - dark).max(axis=1) <= 4).mean() > 0.8  # the mouth, in its colour
    wide = pasted[row + 2 : row + int(0.03 * side), :]
    drawn = np.abs(wide - dark).max(axis=2) <= 4
    columns = np.flatnonzero(drawn.any(axis=0))
    assert columns[-1] - columns[0] > 1.2 * 2 * reach  # wider than the line
    tongue = pasted[row + int(0.1 * side), side // 2]
    assert tongue[0] > dark[0] + 60 and tongue[1] > dark[1] + 40  # lighter, low in it
    np.testing.assert_array_equal(pasted[line], picture[line])  # the line kept
    far = np.ones((side, side), bool)
    far[int(0.5 * side) : int(0.8 * side), int(0.25 * side) : int(0.75 * side)] = False
    np.testing.assert_array_equal(pasted[far], picture[far])


def test_a_reshape_with_a_recolour_is_made_on_the_recoloured_picture() -> None:
    """Edits of both kinds at once (pink hair and a closed mouth): the recolour is made
    first, then the reshape on the recoloured picture, as two paste-backs one after the
    other."""
    picture, mouth = _open_mouth(256)
    picture[:, :40] = (90, 60, 40)  # hair down the left side
    r = 32
    hair = np.zeros((r, r, 1), np.float32)
    hair[:, :5] = 1.0
    maps = np.zeros((1, 3, 4), np.float32)
    maps[0, :, :3] = np.eye(3)
    maps[0, :, 3] = (120, 0, 60)  # the hair pinker
    recolour = Recolour(hair, maps)
    shrunk = np.asarray(Image.fromarray(mouth.astype(np.uint8) * 255).resize((r, r), Image.BOX))
    zeros = np.zeros((r, r), np.float32)
    reshape = Reshape(
        zeros, np.zeros((r, r, 3), np.float32), zeros, closed=(shrunk / 255.0).astype(np.float32)
    )
    render = np.full((r, r, 3), (230, 190, 160), np.float32)
    edited = render + 1.0
    box = FaceBox(0, 0, 256, 256)
    both = paste_back(picture, box, render, edited, recolour=recolour, reshape=reshape)
    first = paste_back(picture, box, render, edited, recolour=recolour)
    np.testing.assert_array_equal(both, paste_back(first, box, render, edited, reshape=reshape))
    assert both[128, 30, 0] > 190  # the hair pinker
    assert (both[mouth][:, 1] > 150).mean() > 0.8  # the mouth closed: skin but its line


@pytest.mark.parametrize(
    ("points", "width", "colour", "message"),
    [
        (np.zeros((1, 2), np.float32), 1.0, (0.0, 0.0, 0.0), "K x 2"),
        (np.zeros((3, 3), np.float32), 1.0, (0.0, 0.0, 0.0), "K x 2"),
        (np.zeros((3, 2), np.int64), 1.0, (0.0, 0.0, 0.0), "K x 2"),
        (np.full((3, 2), np.nan, np.float32), 1.0, (0.0, 0.0, 0.0), "K x 2"),
        (np.zeros((3, 2), np.float32), 0.0, (0.0, 0.0, 0.0), "width"),
        (np.zeros((3, 2), np.float32), True, (0.0, 0.0, 0.0), "width"),
        (np.zeros((3, 2), np.float32), 1.0, (0.0, 0.0), "colour"),
        (np.zeros((3, 2), np.float32), 1.0, (0.0, 0.0, 300.0), "colour"),
    ],
)
def test_a_bad_line_is_refused(points: object, width: object, colour: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Line(points, width, colour)  # type: ignore[arg-type]
    for opacity in (0.0, 1.5):
        with pytest.raises(ValueError, match="opacity"):
            Line(np.zeros((3, 2), np.float32), 1.0, (0.0, 0.0, 0.0), opacity)
    zeros = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="tuple of Line"):
        Reshape(zeros, np.zeros((8, 8, 3), np.float32), zeros, lines=["ring"])  # type: ignore[arg-type]


def test_a_turned_hue_takes_only_the_pixels_that_have_it() -> None:
    """A recolour with a hue (an iris's) changes each pixel by how much its chroma lies along
    that hue's: the brown iris turns, the bluish white of the eye beside it and the grey
    pupil in it keep their colours."""
    picture = np.full((64, 64, 3), (225, 232, 245), np.uint8)  # the eye's bluish white
    picture[16:48, 16:48] = (130, 80, 45)  # a brown iris
    picture[28:36, 28:36] = (40, 40, 40)  # its pupil
    shares = np.ones((8, 8, 1), np.float32)  # the whole crop shown as the iris (at worst)
    swap = np.zeros((1, 3, 4), np.float32)
    swap[0, :, :3] = np.eye(3)[[2, 1, 0]]  # red and blue swapped: brown to a blue
    render = crop_face(picture, FaceBox(0, 0, 64, 64), 8).astype(np.float32)
    edited = render + 1
    box = FaceBox(0, 0, 64, 64)
    hue = np.array([[130.0, 80.0, 45.0]], np.float32)
    gated = Recolour(shares, swap, hues=hue)
    pasted = paste_back(picture, box, render, edited, feather=0, recolour=gated).astype(int)
    np.testing.assert_array_equal(pasted[20, 20], (45, 80, 130))  # the iris turned
    np.testing.assert_array_equal(pasted[4, 4], picture[4, 4])  # the white kept
    np.testing.assert_array_equal(pasted[32, 32], picture[32, 32])  # the pupil kept
    # without its hue, the map takes every pixel it is given
    whole = paste_back(picture, box, render, edited, feather=0, recolour=Recolour(shares, swap))
    np.testing.assert_array_equal(whole[4, 4], (245, 232, 225))
    # a grey hue (none) gates nothing
    grey = Recolour(shares, swap, hues=np.full((1, 3), 128.0, np.float32))
    np.testing.assert_array_equal(
        paste_back(picture, box, render, edited, feather=0, recolour=grey), whole
    )
    with pytest.raises(ValueError, match="hues must be"):
        Recolour(shares, swap, hues=np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="hues must be"):
        Recolour(shares, swap, hues=np.full((1, 3), 300.0, np.float32))


def test_removed_hair_is_cut_along_the_pictures_own_edge_of_it() -> None:
    """The cover of removed hair, a render pixel wider than the hair, leaves the picture's
    pixels beside the hair that its page does not fill (the skin of a neck) as they were,
    instead of drawing them from the render's mixed colours: a crisp edge, not a soft band."""
    picture = np.full((256, 256, 3), (167, 187, 181), np.uint8)  # a plain page
    picture[64:192, 96:128] = (110, 70, 50)  # hair
    picture[64:192, 128:160] = (240, 205, 185)  # the neck beside it
    render = crop_face(picture, FaceBox(0, 0, 256, 256), 32).astype(np.float32)
    hair = np.zeros((32, 32), np.float32)
    hair[8:24, 12:16] = 1.0
    skin = np.zeros((32, 32), np.float32)
    skin[8:24, 16:20] = 1.0
    cover = np.zeros((32, 32), np.float32)
    cover[7:25, 11:17] = 1.0  # the hair and a render pixel around it: some of the neck
    drawn = np.full((32, 32, 3), 128.0, np.float32)  # the render's mixed colours
    uncovered = np.clip(cover - skin, 0, 1)
    reshape = Reshape(
        cover, drawn, np.zeros_like(cover), 1.0 - hair - skin, uncovered, hair, np.zeros_like(hair)
    )
    edited = render.copy()
    edited[8:24, 12:16] = (167, 187, 181)
    box = FaceBox(0, 0, 256, 256)
    pasted = paste_back(picture, box, render, edited, feather=0, reshape=reshape)
    np.testing.assert_array_equal(pasted[72:184, 130:160], picture[72:184, 130:160])  # the neck
    assert np.abs(pasted[72:184, 100:124].astype(int) - (167, 187, 181)).max() <= 1  # page
    # without the picture's hair map, the cover's render pixel of neck is drawn grey
    bare = dataclasses.replace(reshape, strands=None, grown=None)
    grey = paste_back(picture, box, render, edited, feather=0, reshape=bare)
    assert np.abs(grey[100, 130:134].astype(int) - 128).max() <= 2

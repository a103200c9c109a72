"""A plain background the model never saw is shown to it as a pastel of its hue: the page
joined to the box's border, not the face's parts of its colour, and never the model's own
backgrounds; the edit lands on the picture's own page."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from nfe_core.backdrop import MAX_SATURATION, MIN_VALUE, find_backdrop, swap_backdrop
from training.synth.params import _pastel

MAGENTA = (230, 20, 150)
HAIR = (110, 70, 50)


def face_on(colour: tuple[int, int, int], side: int = 96) -> np.ndarray:
    """A box of ``colour`` with a 'face' (a skin disc under a band of hair) in its middle."""
    rgb = np.full((side, side, 3), colour, np.uint8)
    ys, xs = np.mgrid[0:side, 0:side]
    head = (ys - side / 2) ** 2 + (xs - side / 2) ** 2 <= (side / 3) ** 2
    rgb[head] = (240, 205, 180)
    rgb[head & (ys < side / 2)] = HAIR
    return rgb


def test_the_model_s_own_backgrounds_are_never_swapped():
    """Every background colour the procedural faces are drawn on is left as it is."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        colour = _pastel(rng)
        _, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in colour))
        assert saturation <= MAX_SATURATION + 1e-6 and value >= MIN_VALUE - 1e-6
        rgb = face_on(colour)
        swapped, backdrop = swap_backdrop(rgb)
        assert backdrop is None and swapped is rgb


@pytest.mark.parametrize("colour", [MAGENTA, (40, 60, 220), (20, 20, 20), (250, 200, 0)])
def test_a_saturated_or_dark_plain_background_is_shown_as_a_pastel_of_its_hue(colour):
    rgb = face_on(colour)
    swapped, backdrop = swap_backdrop(rgb)
    assert backdrop is not None and backdrop.colour == pytest.approx(colour, abs=0.5)
    hue, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in backdrop.shown))
    assert saturation <= MAX_SATURATION + 1e-6 and value >= MIN_VALUE - 1e-6
    if max(colour) - min(colour) > 30:  # a hue to keep
        assert hue == pytest.approx(colorsys.rgb_to_hsv(*(c / 255 for c in colour))[0], abs=0.01)
    assert np.abs(swapped[0, 0].astype(float) - backdrop.shown).max() <= 1
    middle = swapped.shape[0] // 2
    inside = slice(middle - 5, middle + 5)
    np.testing.assert_array_equal(swapped[inside, middle], rgb[inside, middle])  # the face


def test_the_page_s_colour_inside_the_face_is_not_swapped():
    """Eyes of the page's colour (blue eyes on a blue page) are not the page: the model sees
    them as they are."""
    blue = (40, 60, 220)
    rgb = face_on(blue)
    rgb[44:50, 36:42] = blue  # an eye, inside the skin
    rgb[44:50, 54:60] = blue
    swapped, backdrop = swap_backdrop(rgb)
    assert backdrop is not None
    np.testing.assert_array_equal(swapped[44:50, 36:42], rgb[44:50, 36:42])
    np.testing.assert_array_equal(swapped[44:50, 54:60], rgb[44:50, 54:60])
    assert np.abs(swapped[2, 2].astype(float) - backdrop.shown).max() <= 1


def test_busy_or_empty_boxes_are_left_alone():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    assert find_backdrop(noise) is None  # no plain border
    assert find_backdrop(np.full((64, 64, 3), MAGENTA, np.uint8)) is None  # nothing in it
    assert find_backdrop(np.zeros((1, 5, 3), np.uint8)) is None


def test_pink_hair_on_a_magenta_page_is_pink_and_the_page_stays():
    """With the shipped model: brown hair set to pink on a magenta page came out grey with
    pink blotches on the page; the model shown a pastel, it is pink and the page keeps every
    pixel."""
    from nfe_core.bundle import default_bundle_path, load_bundle
    from nfe_core.edits import parse_edits
    from nfe_core.facebox import FaceBox
    from nfe_core.imageio import Picture
    from nfe_core.pipeline import edit_inverted, invert_picture, paste
    from training.synth.params import face_rng, sample_face
    from training.synth.render import Region, render_face

    bundle = load_bundle(default_bundle_path())
    fixed = {"background": "plain", "background_rgb": (MAGENTA, MAGENTA), "hair_color": "brown"}
    drawn = render_face(sample_face(face_rng(3, 0), **fixed), 256, regions=True)
    picture = Picture(rgb=drawn.image)
    inverted = invert_picture(bundle, picture, FaceBox(0, 0, 256, 256))
    edited = edit_inverted(bundle, inverted, parse_edits(["hair_color=pink"]))
    result = paste(picture, inverted, edited.render, edited.redrawn, edited.recolour)
    after = np.asarray(result.rgb).astype(int)
    before = np.asarray(drawn.image).astype(int)
    hair = drawn.regions == Region.HAIR
    red, green, blue = np.median(after[hair], axis=0)
    assert red > green + 50 and blue > green + 20, (red, green, blue)  # pink, not grey
    page = drawn.regions == Region.BACKGROUND
    for _ in range(8):  # away from the hair's edge
        page[1:-1, 1:-1] &= page[:-2, 1:-1] & page[2:, 1:-1] & page[1:-1, :-2] & page[1:-1, 2:]
    np.testing.assert_array_equal(after[page], before[page])

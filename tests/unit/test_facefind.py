"""Finding the face in a picture with the shipped model's segmenter: a drawn face on a page
is framed as the model frames its faces, wherever and however big it is; pictures without
a face get none; and the command line and batch use it when no box is given."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nfe_core.batch import run_batch
from nfe_core.bundle import default_bundle_path, load_bundle
from nfe_core.cli.main import main as nfe
from nfe_core.editing import Edit
from nfe_core.facebox import FaceBox, check_box
from nfe_core.facefind import find_face, find_faces
from nfe_core.imageio import Picture, load_image
from nfe_core.jobs import Cancelled
from nfe_core.pipeline import find_picture_face, invert_picture
from tests.faces import PAGE, overlap, page_with_face, page_with_faces
from tests.tiny import save_editing_bundle


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(default_bundle_path())


@pytest.mark.parametrize(
    ("size", "box", "seamless"),
    [
        ((1280, 960), FaceBox(264, 264, 512, 512), False),  # the app screenshots' picture
        ((900, 700), FaceBox(560, 40, 300, 300), True),  # small, in a corner, no square
        ((500, 800), FaceBox(0, 150, 500, 500), False),  # as wide as the picture
    ],
)
def test_a_face_on_a_page_is_found_where_it_is_drawn(bundle, size, box, seamless):
    found = find_face(bundle, page_with_face(size, box, seamless=seamless))
    assert found is not None
    assert overlap(found.box, box) >= 0.8, found
    assert found.box.w == found.box.h
    assert found.box.x >= 0 and found.box.right <= size[0]
    assert found.box.y >= 0 and found.box.bottom <= size[1]


@pytest.mark.parametrize(
    ("box", "least"),
    [
        (FaceBox(150, -60, 300, 300), 0.8),  # the hair a fifth off the top
        (FaceBox(-50, 40, 400, 400), 0.8),  # an eighth off the left
        # and the chin off the bottom too: framed a little tight (facefind.REACH_COST)
        (FaceBox(-50, 120, 400, 400), 0.75),
    ],
)
def test_a_face_cut_by_the_picture_edge_is_framed_whole(bundle, box, least):
    picture = page_with_face((600, 480), box)
    found = find_face(bundle, picture)
    assert found is not None
    assert overlap(found.box, box) >= least, found
    assert min(found.box.x, found.box.y) < 0  # reaching past the edge
    check_box(found.box, 600, 480)  # reaching out by a quarter at most: it can be inverted
    inverted = invert_picture(bundle, Picture(rgb=picture), found.box, steps=0, tune_steps=0)
    assert inverted.box == found.box


def test_a_picture_that_is_the_face_is_found_whole(bundle):
    side = 400
    picture = page_with_face((side, side), FaceBox(0, 0, side, side), seed=5)
    found = find_face(bundle, np.asarray(picture))
    assert found is not None and overlap(found.box, FaceBox(0, 0, side, side)) >= 0.8


def test_pictures_without_a_face_have_none_found(bundle):
    rng = np.random.default_rng(0)
    plain = np.full((600, 800, 3), 200, np.uint8)
    noise = rng.integers(0, 256, (600, 800, 3)).astype(np.uint8)
    blobs = Image.new("RGB", (800, 600), PAGE)
    draw = ImageDraw.Draw(blobs)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, 700, 2))
        draw.ellipse([x, y, x + 120, y + 90], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    for picture in (plain, noise, blobs):
        assert find_face(bundle, picture) is None


def test_a_transparent_picture_is_looked_at_on_white(bundle):
    """What the model sees: transparent areas white (on their black RGB, none was found)."""
    box = FaceBox(150, 100, 300, 300)
    drawn = page_with_face((600, 500), box)
    alpha = Image.new("L", drawn.size, 0)
    alpha.paste(255, (box.x, box.y, box.right, box.bottom))
    black = Image.new("RGB", drawn.size, (0, 0, 0))
    black.paste(drawn, mask=alpha)
    found = find_picture_face(bundle, Picture(rgb=black, alpha=alpha))
    assert found is not None and overlap(found.box, box) >= 0.8


def test_looking_can_be_cancelled_and_bad_input_is_refused(bundle):
    page = page_with_face((400, 300), FaceBox(100, 50, 200, 200))
    with pytest.raises(Cancelled):
        find_face(bundle, page, should_stop=lambda: True)
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        find_face(bundle, np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="RGB"):
        find_face(bundle, page.convert("L"))


def test_a_model_without_a_segmenter_finds_nothing_and_says_so(tmp_path: Path):
    tiny = load_bundle(save_editing_bundle(tmp_path / "tiny"))
    picture = Picture(rgb=Image.new("RGB", (64, 64), PAGE))
    assert find_picture_face(tiny, picture) is None
    with pytest.raises(ValueError, match="no segmenter"):
        find_face(tiny, picture.rgb)


def test_batch_edits_the_face_it_finds_and_says_where_it_found_none(bundle, tmp_path: Path):
    box = FaceBox(380, 60, 240, 240)
    page_with_face((640, 480), box, seamless=True).save(tmp_path / "page.png")
    Image.new("RGB", (320, 240), PAGE).save(tmp_path / "blank.png")
    edits = [Edit("hair_color", target="blue")]
    summary = run_batch(
        bundle, [tmp_path / "page.png", tmp_path / "blank.png"], edits, tmp_path / "out",
        steps=0, tune_steps=0,
    )  # fmt: skip
    assert len(summary.done) == 2 and not summary.failed
    assert summary.unfound == [tmp_path / "blank.png"]
    before = np.asarray(load_image(tmp_path / "page.png").rgb).astype(int)
    after = np.asarray(load_image(tmp_path / "out" / "page_edited.png").rgb).astype(int)
    changed = np.abs(after - before).max(axis=2) > 8
    assert changed[box.y : box.bottom, box.x : box.right].mean() > 0.05  # the hair
    outside = np.ones_like(changed)
    outside[box.y : box.bottom, box.x : box.right] = False
    assert changed[outside].mean() < 0.001  # the centred square was not edited
    unplaced = run_batch(
        bundle, [tmp_path / "page.png"], edits, tmp_path / "centred", find=False, steps=0,
        tune_steps=0,
    )  # fmt: skip
    assert not unplaced.unfound
    centred = np.asarray(load_image(tmp_path / "centred" / "page_edited.png").rgb).astype(int)
    assert not np.array_equal(centred, after)


def test_nfe_edit_finds_the_face_unless_told_not_to(
    bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    box = FaceBox(30, 200, 260, 260)
    page_with_face((320, 480), box).save(tmp_path / "page.png")
    common = ["--set", "hair_color=pink", "--steps", "0", "--tune-steps", "0", "--quiet"]
    assert nfe(["edit", str(tmp_path / "page.png"), *common, "-o", str(tmp_path / "a.png")]) == 0
    said = capsys.readouterr().out
    used = FaceBox(*(int(v) for v in said.split("box ")[1].split(",")[:4]))
    assert overlap(used, box) >= 0.8
    out = str(tmp_path / "b.png")
    assert nfe(["edit", str(tmp_path / "page.png"), *common, "--no-find", "-o", out]) == 0
    assert "box 0,80,320,320" in capsys.readouterr().out  # the largest centred square
    Image.new("RGB", (300, 200), PAGE).save(tmp_path / "blank.png")
    out = str(tmp_path / "c.png")
    assert nfe(["edit", str(tmp_path / "blank.png"), *common, "-o", out]) == 0
    assert "no face found" in capsys.readouterr().err


def test_nfe_tags_find_reads_the_face_not_the_page(
    bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A small face in a corner of a big page: the whole page squeezed to the
    classifier's input is mostly page (the shipped model read silver hair and yellow eyes for
    green ones); the face found reads as the face alone does."""
    box = FaceBox(620, 40, 260, 260)
    page_with_face((900, 700), box, seed=3, seamless=True).save(tmp_path / "page.png")
    crop = Image.open(tmp_path / "page.png").crop((box.x, box.y, box.right, box.bottom))
    crop.save(tmp_path / "face.png")
    assert nfe(["tags", "--json", str(tmp_path / "face.png")]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert nfe(["tags", "--json", "--find", str(tmp_path / "page.png")]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {a: r["label"] for a, r in found.items()} == {a: r["label"] for a, r in alone.items()}
    Image.new("RGB", (300, 200), PAGE).save(tmp_path / "blank.png")
    assert nfe(["tags", "--find", str(tmp_path / "blank.png")]) == 0
    assert "no face found; reading the whole picture" in capsys.readouterr().err


def test_two_characters_are_both_found_surest_first(bundle):
    boxes = [FaceBox(60, 150, 420, 420), FaceBox(800, 80, 500, 500)]
    found = find_faces(bundle, page_with_faces((1400, 700), boxes))
    assert len(found) == 2
    assert found[0].score >= found[1].score
    assert sorted(max(overlap(f.box, b) for b in boxes) for f in found)[0] >= 0.8
    assert {max(range(2), key=lambda i: overlap(f.box, boxes[i])) for f in found} == {0, 1}
    assert find_faces(bundle, page_with_face((900, 700), FaceBox(500, 100, 300, 300))) != []
    assert len(find_faces(bundle, page_with_face((900, 700), FaceBox(500, 100, 300, 300)))) == 1

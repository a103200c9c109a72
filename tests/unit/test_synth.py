"""The procedural anime-face set: determinism, coverage, labels that agree with the pixels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from training.synth import (
    ATTRIBUTES,
    EYE_COLORS,
    HAIR_COLORS,
    Region,
    face_rng,
    render_face,
    sample_face,
)
from training.synth.dataset import FolderFaces, SyntheticFaces, class_shares
from training.synth.params import hair_length_class
from training.synth.schema import HAIR_LENGTHS


def _nearest(rgb: np.ndarray, palette: dict[str, tuple[int, int, int]]) -> str:
    names = list(palette)
    refs = np.array([palette[n] for n in names], float)
    return names[int(np.argmin(((refs - rgb) ** 2).sum(1)))]


def _mean_colour(size: int, params, region: Region) -> np.ndarray:
    face = render_face(params, size, regions=True)
    pixels = np.asarray(face.image, float)[face.regions == region]
    assert len(pixels) > 0, f"no {region.name} pixels"
    return pixels.mean(0)


def test_same_seed_same_face_and_labels():
    a = render_face(sample_face(face_rng(7, 3)), 64)
    b = render_face(sample_face(face_rng(7, 3)), 64)
    c = render_face(sample_face(face_rng(7, 4)), 64)
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    assert sample_face(face_rng(7, 3)) == sample_face(face_rng(7, 3))
    assert not np.array_equal(np.asarray(a.image), np.asarray(c.image))


def test_every_class_of_every_attribute_appears_in_a_few_hundred_faces():
    faces = [sample_face(face_rng(0, i)) for i in range(300)]
    for attr in ATTRIBUTES:
        seen = {getattr(p, attr.name) for p in faces}
        assert seen == set(attr.classes), attr.name
    for style in ("straight", "swept", "parted", "spiky"):
        assert any(p.bangs == style for p in faces)


def test_nuisance_factors_vary():
    faces = [sample_face(face_rng(1, i)) for i in range(200)]
    for field in (
        "skin_rgb",
        "background",
        "bangs",
        "eye_size",
        "eye_spacing",
        "tilt",
        "center",
        "scale",
        "highlight",
        "shade",
    ):
        assert (
            len({getattr(p, field) for p in faces}) > 3
            if field not in ("background", "bangs")
            else 4
        ), field
    tilts = [p.tilt for p in faces]
    assert min(tilts) < -5 and max(tilts) > 5


@pytest.mark.parametrize("size", [32, 48, 64, 100, 128, 256, 512])
def test_all_sizes_render(size):
    face = render_face(sample_face(face_rng(0, 0)), size, regions=True)
    assert face.image.size == (size, size) and face.image.mode == "RGB"
    assert face.regions.shape == (size, size)
    for region in (Region.HAIR, Region.SKIN, Region.CLOTHES):
        assert (face.regions == region).any(), region.name
    if size >= 64:  # smaller irises have no pixel that is only iris
        assert (face.regions == Region.IRIS).any()


@pytest.mark.parametrize("size", [0, 31, 513, 64.0])
def test_bad_sizes_are_refused(size):
    with pytest.raises(ValueError, match="size"):
        render_face(sample_face(face_rng(0, 0)), size)


def test_the_same_face_at_two_sizes_is_the_same_picture():
    params = sample_face(face_rng(3, 9))
    small = np.asarray(render_face(params, 64).image, float)
    big = np.asarray(render_face(params, 256).image.resize((64, 64), 1), float)  # 1: LANCZOS
    assert np.abs(small - big).mean() < 6


@pytest.mark.parametrize("colour", list(HAIR_COLORS))
def test_hair_pixels_read_as_the_labelled_colour(colour):
    for i in range(6):
        params = sample_face(face_rng(11, i), hair_color=colour)
        assert _nearest(_mean_colour(64, params, Region.HAIR), HAIR_COLORS) == colour


@pytest.mark.parametrize("colour", list(EYE_COLORS))
def test_iris_pixels_read_as_the_labelled_colour(colour):
    for i in range(6):
        params = sample_face(face_rng(12, i), eye_color=colour)
        assert _nearest(_mean_colour(128, params, Region.IRIS), EYE_COLORS) == colour


def _lowest_hair_row(params, size=128) -> float:
    regions = render_face(params, size, regions=True).regions
    rows = np.nonzero((regions == Region.HAIR).any(1))[0]
    return rows.max() / size


def _shoulder_row(params, size=128) -> float:
    regions = render_face(params, size, regions=True).regions
    return np.nonzero((regions == Region.CLOTHES).any(1))[0].min() / size


def test_hair_length_changes_the_silhouette():
    for i in range(8):
        rng_args = (13, i)
        short = sample_face(face_rng(*rng_args), hair_length="short")
        long = sample_face(face_rng(*rng_args), hair_length="long")
        # short hair ends above the shoulders, long hair falls well past them
        assert _lowest_hair_row(short) < _shoulder_row(short)
        assert _lowest_hair_row(long) > _shoulder_row(long) + 0.1
        assert _lowest_hair_row(long) - _lowest_hair_row(short) > 0.25


def test_continuous_length_is_monotonic_and_matches_the_class():
    rows = [
        _lowest_hair_row(sample_face(face_rng(14, 0), hair_length_value=v))
        for v in np.linspace(0.05, 0.95, 7)
    ]
    assert all(b >= a for a, b in itertools.pairwise(rows))
    for name, (lo, hi) in HAIR_LENGTHS.items():
        assert hair_length_class((lo + hi) / 2) == name
    with pytest.raises(ValueError, match="does not match"):
        sample_face(face_rng(0, 0), hair_length="short", hair_length_value=0.9)


@pytest.mark.parametrize(
    ("attribute", "region"), [("glasses", Region.GLASSES), ("blush", Region.BLUSH)]
)
def test_boolean_attributes_are_drawn_only_when_labelled(attribute, region):
    for i in range(4):
        on = render_face(sample_face(face_rng(15, i), **{attribute: "true"}), 128, regions=True)
        off = render_face(sample_face(face_rng(15, i), **{attribute: "false"}), 128, regions=True)
        assert (on.regions == region).sum() > 10
        assert not (off.regions == region).any()


def test_open_mouth_shows_more_mouth_than_closed():
    for i in range(4):
        opened = render_face(sample_face(face_rng(16, i), mouth="open"), 128, regions=True)
        closed = render_face(sample_face(face_rng(16, i), mouth="closed"), 128, regions=True)
        assert (opened.regions == Region.MOUTH).sum() > 6
        assert not (closed.regions == Region.MOUTH).any()


def test_accessory_is_drawn_only_when_labelled():
    for kind in ("bow", "hairclip", "flower"):
        face = render_face(sample_face(face_rng(17, 0), accessory=kind), 128, regions=True)
        assert (face.regions == Region.ACCESSORY).sum() > 20, kind
    none = render_face(sample_face(face_rng(17, 0), accessory="none"), 128, regions=True)
    assert not (none.regions == Region.ACCESSORY).any()


def test_unknown_classes_and_fields_are_refused():
    with pytest.raises(ValueError, match="hair_color"):
        sample_face(face_rng(0, 0), hair_color="plaid")
    with pytest.raises(ValueError, match="unknown face parameter"):
        sample_face(face_rng(0, 0), hat="yes")


def test_datasets_serve_the_same_faces_on_the_fly_and_from_a_folder(tmp_path):
    from training.synth.writer import write_face_set

    write_face_set(tmp_path / "set", 5, 32, seed=4, workers=1)
    fly, folder = SyntheticFaces(5, 32, seed=4), FolderFaces(tmp_path / "set", 32)
    assert len(fly) == len(folder) == 5
    for i in range(5):
        a, b = fly[i], folder[i]
        assert a["image"].shape == (3, 32, 32)
        assert float(a["image"].min()) >= -1 and float(a["image"].max()) <= 1
        assert (a["image"] - b["image"]).abs().max() < 1e-6
        assert a["labels"].tolist() == b["labels"].tolist()
        assert (a["labels"] >= 0).all()
        assert abs(float(a["hair_length_value"]) - float(b["hair_length_value"])) < 1e-3
        assert fly.labels_of(i) == folder.labels_of(i) == fly.load(i)[1]  # without a render
    glasses = ("false", "true")
    seen = [glasses.index(fly.labels_of(i)["glasses"]) for i in range(5)]
    counts = np.bincount(seen, minlength=2)
    expected = list((counts + 1) / (counts + 1).sum())
    shares = class_shares(folder, {"glasses": glasses})
    assert list(shares) == ["glasses"] and shares["glasses"] == pytest.approx(expected)


def test_class_shares_are_the_datas_label_frequencies():
    classes = {
        "accessory": ("none", "bow", "hairclip", "flower"),
        "glasses": ("false", "true"),
        "wings": ("yes", "no"),  # no face is labelled with it
    }
    shares = class_shares(SyntheticFaces(100_000, 32), classes, limit=4000)
    assert set(shares) == {"accessory", "glasses"}
    assert sum(shares["accessory"]) == pytest.approx(1) and min(shares["accessory"]) > 0
    # sample_face draws no accessory with p 0.55 and glasses with 0.25 (4,000 faces: +-0.03)
    assert shares["accessory"][0] == pytest.approx(0.55, abs=0.03)
    assert shares["glasses"][1] == pytest.approx(0.25, abs=0.03)
    # one face: its classes counted once each, every other class once more than never
    one = class_shares(SyntheticFaces(1, 32), {"glasses": classes["glasses"]})
    assert sorted(one["glasses"]) == [pytest.approx(1 / 3), pytest.approx(2 / 3)]
    with pytest.raises(ValueError, match="limit"):
        class_shares(SyntheticFaces(3, 32), classes, limit=0)


def test_folder_dataset_crops_any_picture_and_leaves_unlabelled_ones_unknown(tmp_path):
    from PIL import Image

    Image.new("RGB", (300, 120), (200, 10, 10)).save(tmp_path / "wide.jpg")
    (tmp_path / "sub").mkdir()
    Image.new("L", (17, 40), 90).save(tmp_path / "sub" / "tall.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    data = FolderFaces(tmp_path, 32)
    assert len(data) == 2
    item = data[0]
    assert item["image"].shape == (3, 32, 32)
    assert (item["labels"] == -1).all() and np.isnan(float(item["hair_length_value"]))
    assert data.labels_of(0) == {} and class_shares(data, {"glasses": ("false", "true")}) == {}
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no pictures"):
        FolderFaces(tmp_path / "empty", 32)

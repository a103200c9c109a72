"""``nfe-train segmenter``: region shares from the renderer, a tiny training run that learns,
and the command that puts the segmenter into a bundle."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nfe_core.bundle import load_bundle, resave_bundle
from nfe_core.jobs import Cancelled
from nfe_core.models.segmenter import SegmenterConfig
from tests.tiny import save_editing_bundle
from training.cli import main
from training.segmenter import (
    SegmenterOptions,
    augment,
    flip,
    render_regions,
    soft_cross_entropy,
    train_segmenter,
    trusted_owners,
)
from training.synth.params import face_rng, sample_face
from training.synth.render import REGION_NAMES, Region, render_face
from training.synth.schema import ATTRIBUTE_BY_NAME, ATTRIBUTE_REGIONS, ATTRIBUTE_SPILLS

# a run that learns in about a second at 32 px on 2 cores
TINY = SegmenterOptions(
    count=64, epochs=8, batch_size=16, lr=2e-2, channels=(8, 16), test_count=32, workers=0
)
METRICS = {"region_iou", "region_accuracy", "pixel_accuracy", "soft_error", "attribute_iou"}


def test_region_names_are_the_regions_in_value_order():
    assert REGION_NAMES == (
        "background",
        "hair",
        "skin",
        "eye_white",
        "iris",
        "pupil",
        "highlight",
        "line",
        "mouth",
        "clothes",
        "accessory",
        "glasses",
        "blush",
    )
    assert all(Region[name.upper()] == i for i, name in enumerate(REGION_NAMES))


@pytest.mark.parametrize(("size", "index"), [(32, 0), (64, 1), (64, 2)])
def test_fractions_sum_to_one_and_agree_with_the_region_map(size: int, index: int):
    params = sample_face(face_rng(4, index), glasses="true", blush="true", mouth="open")
    face = render_face(params, size, regions=True, fractions=True)
    shares = face.fractions
    assert shares is not None and face.regions is not None
    assert shares.shape == (size, size, len(REGION_NAMES)) and shares.dtype == np.float32
    np.testing.assert_allclose(shares.sum(-1), 1.0, atol=1e-6)
    pure = face.regions != Region.EDGE
    assert (shares[pure].max(-1) == 1.0).all()
    assert (shares[pure].argmax(-1) == face.regions[pure]).all()
    assert (shares[~pure].max(-1) < 1.0).all() and (~pure).any()
    # the same pixels as without, and no region map unless asked for
    alone = render_face(params, size, fractions=True)
    assert alone.regions is None and np.array_equal(alone.fractions, shares)
    assert np.array_equal(np.asarray(alone.image), np.asarray(render_face(params, size).image))
    assert render_face(params, size).fractions is None


def test_every_attribute_owns_real_regions():
    assert set(ATTRIBUTE_REGIONS) == set(ATTRIBUTE_BY_NAME)
    for regions in ATTRIBUTE_REGIONS.values():
        assert regions and set(regions) <= set(REGION_NAMES)
    config = SegmenterConfig(32, REGION_NAMES, tuple(ATTRIBUTE_REGIONS.items()))
    assert config.owned["eye_color"] == ("eye_white", "iris", "pupil", "highlight")


def test_compact_renders_give_back_the_renderer_s_shares():
    renders = render_regions(3, 32, 9, workers=0)
    assert renders.images.shape == (3, 3, 32, 32) and renders.images.dtype == torch.uint8
    targets = renders.targets(torch.tensor([2, 0]))
    for row, i in enumerate((2, 0)):
        face = render_face(sample_face(face_rng(9, i)), 32, fractions=True)
        expected = torch.from_numpy(face.fractions).permute(2, 0, 1)
        torch.testing.assert_close(targets[row], expected)
        image = torch.from_numpy(np.array(face.image)).permute(2, 0, 1)
        assert torch.equal(renders.images[i], image)


def test_flips_move_images_and_targets_together_and_augmenting_stays_in_range():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(16, 3, 8, 8) * 2 - 1
    targets = torch.rand(16, 4, 8, 8).softmax(1)
    flipped, moved = flip(images, targets, g)
    mirrored = [not torch.equal(a, b) for a, b in zip(flipped, images, strict=True)]
    assert 0 < sum(mirrored) < 16
    for i, m in enumerate(mirrored):
        assert torch.equal(moved[i], targets[i].flip(-1) if m else targets[i])
        assert torch.equal(flipped[i], images[i].flip(-1) if m else images[i])
    out = augment(images, g, max_blur=0.6, max_noise=0.03)
    assert out.shape == images.shape and out.min() >= -1 and out.max() <= 1
    assert torch.equal(augment(images, g, 0.0, 0.0), images)
    # the loss of a perfect, certain guess is the targets' entropy: zero for one-hot ones
    one_hot = torch.nn.functional.one_hot(torch.randint(4, (2, 8, 8)), 4).permute(0, 3, 1, 2)
    assert float(soft_cross_entropy(one_hot.float() * 50, one_hot.float())) < 1e-6


def test_a_tiny_run_learns_the_large_regions():
    torch.manual_seed(123)
    before = torch.rand(1)
    lines: list[str] = []
    net, metrics = train_segmenter(32, TINY, device="cpu", log=lines.append)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), before)  # the global generator is left alone
    assert net.config.regions == REGION_NAMES
    # edits are kept only to the areas it finds: the others are left whole
    trusted = {
        a: r for a, r in ATTRIBUTE_REGIONS.items() if (metrics["attribute_iou"][a] or 0.0) >= 0.5
    }
    assert net.config.owned == trusted and metrics["confined"] == list(trusted)
    assert net.config.channels == (8, 16)
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert set(metrics) >= METRICS | {"epoch_losses", "train_seconds", "parameters"}
    assert set(metrics["region_iou"]) == set(REGION_NAMES)
    assert set(metrics["attribute_iou"]) == set(ATTRIBUTE_REGIONS)
    assert len(metrics["epoch_losses"]) == 8
    assert metrics["epoch_losses"][-1] < metrics["epoch_losses"][0]
    assert sum(line.startswith("epoch ") for line in lines) == 8
    # held-out faces: a network that says "background" everywhere has a background IoU of
    # the background's share (about 0.4) and no hair at all
    assert metrics["region_iou"]["background"] > 0.75
    assert metrics["region_iou"]["hair"] > 0.35
    assert metrics["pixel_accuracy"] > 0.75
    assert 0 <= metrics["soft_error"] < 1
    json.dumps(metrics)  # JSON-safe
    _, again = train_segmenter(32, TINY, device="cpu")
    assert again["region_iou"] == metrics["region_iou"]  # seeded: the same run


def test_only_the_areas_it_finds_keep_their_edits():
    everything = dataclasses.replace(TINY, epochs=1, min_area_iou=0.0)
    net, _ = train_segmenter(32, everything, device="cpu")
    assert net.config.owned == ATTRIBUTE_REGIONS
    found = {name: 0.9 for name in ATTRIBUTE_REGIONS} | {"mouth": 0.2, "blush": None}
    trusted = trusted_owners(net, found, 0.5)
    assert set(trusted.config.owned) == set(ATTRIBUTE_REGIONS) - {"mouth", "blush"}
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(trusted(images), net(images))  # the same weights
    assert trusted.channels(["mouth"]) is None  # a mouth edit is left whole
    assert trusted.channels(["hair_color"]) is not None
    assert trusted_owners(net, found, 0.0).config.owned == net.config.owned
    # attributes asked to stay whole do, however well their area is found
    kept = trusted_owners(net, found, 0.0, whole=("blush", "glasses"))
    assert set(kept.config.owned) == set(ATTRIBUTE_REGIONS) - {"blush", "glasses"}
    assert kept.channels(["glasses"]) is None and kept.channels(["mouth"]) is not None
    # the skin blush and glasses spill over goes with them
    assert dict(net.config.spills) == ATTRIBUTE_SPILLS
    assert dict(kept.config.spills) == {}
    assert dict(trusted.config.spills) == {"glasses": ("skin",)}


def test_whole_names_attributes_with_regions():
    assert dataclasses.replace(TINY, whole=["blush"]).whole == ("blush",)
    with pytest.raises(ValueError, match="whole: nose is not an attribute with regions"):
        dataclasses.replace(TINY, whole=("nose",))


def test_a_run_can_be_cancelled():
    with pytest.raises(Cancelled):
        train_segmenter(32, TINY, device="cpu", should_stop=lambda: True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"count": 0}, "count must be"), ({"lr": -1.0}, "lr must be"), ({"seed": -2}, "seed must")],
)
def test_bad_options_are_refused(changes: dict, message: str):
    with pytest.raises(ValueError, match=message):
        SegmenterOptions(**changes)


def test_the_command_puts_a_segmenter_into_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    model = save_editing_bundle(tmp_path / "model", encoder=False)
    resave_bundle(load_bundle(model), report={"frechet_distance": 1.0})
    threads = torch.get_num_threads()
    argv = ["segmenter", "--model", str(model), "--count", "24", "--test-count", "8"]
    argv += ["--epochs", "1", "--batch", "8", "--threads", "1", "--whole", "hair_color"]
    status = main([*argv, "--quiet"])
    assert status == 0, capsys.readouterr().err
    assert torch.get_num_threads() == threads
    assert "trained the segmenter" in capsys.readouterr().err
    bundle = load_bundle(model)
    assert bundle.segmenter is not None and bundle.encoder is None
    assert bundle.segmenter.config.regions == REGION_NAMES
    owned = bundle.segmenter.config.owned
    assert all(ATTRIBUTE_REGIONS[a] == r for a, r in owned.items())
    assert bundle.report is None  # its edit figures depend on the segmenter
    record = json.loads((tmp_path / "model-segmenter" / "metrics.json").read_text())
    assert record["options"]["count"] == 24 and set(record["metrics"]) >= METRICS
    assert bundle.training["segmenter"] == record
    assert record["metrics"]["confined"] == list(owned)
    assert "hair_color" not in owned and record["options"]["whole"] == ["hair_color"]


def test_a_bad_model_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    status = main(["segmenter", "--model", str(tmp_path / "missing"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert main(["segmenter", "--model", str(tmp_path), "--count", "0"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["segmenter", "--model", str(tmp_path), "--whole", "nose"]) == 2
    assert "nose is not an attribute with regions" in capsys.readouterr().err

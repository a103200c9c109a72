"""The shipped default model: it loads, has every part the app and the command line use, and
its sliders and inversion run end to end."""

from __future__ import annotations

import pytest
import torch

from nfe_core.bundle import default_bundle_path, load_bundle
from nfe_core.editing import apply, parse_edits
from nfe_core.inversion import InversionOptions, invert
from nfe_core.sampling import z_for_seed


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(default_bundle_path())


def test_the_default_model_has_every_part(bundle):
    assert bundle.classifier is not None and bundle.judge is not None
    assert bundle.encoder is not None
    assert {"hair_color", "hair_length", "eye_color"} <= set(bundle.boundaries.attributes)
    assert bundle.boundaries["hair_length"].kind == "ordinal"
    report = bundle.report
    assert report is not None
    for key in ("classifier_accuracy", "svm_test_accuracy", "edit_success", "preservation"):
        assert report[key]
    assert "psnr_db_hybrid" in report["inversion"]


def test_an_edit_and_an_inversion_run_on_the_default_model(bundle):
    g = bundle.generator
    w = g.mapping(z_for_seed(1, g.config.z_dim)[None])[0]
    moved = apply(w, parse_edits(["hair_color=blue"]), bundle.boundaries, num_ws=g.num_ws)
    # W+ when the attribute moves some rows, W when it moves them all
    plane_rows = bundle.boundaries["hair_color:blue"].layers
    assert moved.shape == ((g.num_ws, g.config.w_dim) if plane_rows else (g.config.w_dim,))
    plane = bundle.boundaries["hair_color:blue"]
    distance = bundle.boundaries.distances(moved)[plane.name]  # read on the rows it moves
    assert distance >= plane.target_distance * plane.spread - 1e-4
    with torch.no_grad():
        image = g.synthesis(w[None], noise_mode="const")[0]
    result = invert(image, g, bundle.encoder, bundle.classifier, InversionOptions(steps=3))
    assert result.latent.shape == (g.num_ws, g.config.w_dim)

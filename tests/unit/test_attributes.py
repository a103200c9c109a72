"""Labelling and SVM boundaries (training.attributes) and ``nfe-train attributes``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from nfe_core.bundle import load_bundle, save_bundle
from nfe_core.editing import Boundaries, Boundary, Edit, apply
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from tests.tiny import save_editing_bundle, tiny_generator
from training.attributes import (
    CALIBRATION_DISTANCES,
    LABELS_FILE,
    AttributeOptions,
    Fitted,
    Labelled,
    _trial_edit,
    choose_distance,
    choose_layers,
    choose_span,
    fit_boundaries,
    layer_spans,
    train_attributes,
)
from training.cli import main as train_main
from training.labels import LabelSource

pytest.importorskip("sklearn")


def _one_hot(index: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((len(index), n), np.float32)
    out[np.arange(len(index)), index] = 1
    return out


def _separable(n: int = 3000, dim: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n, dim)).astype(np.float32) * 2 + 0.5
    glasses_normal = rng.normal(size=dim)
    glasses_normal /= np.linalg.norm(glasses_normal)
    glasses = (w @ glasses_normal - 0.3 > 0).astype(int)
    # colour: three clusters far apart along other directions, so one-vs-rest is linear
    centres = np.linalg.qr(rng.normal(size=(dim, dim)))[0][:3] * 8
    colour = rng.integers(0, 3, size=n)
    w = w + centres[colour] - (centres[colour] @ glasses_normal)[:, None] * glasses_normal
    probs = {"glasses": _one_hot(glasses, 2), "colour": _one_hot(colour, 3)}
    classes = {"glasses": ("false", "true"), "colour": ("red", "green", "blue")}
    z = rng.normal(size=(n, dim)).astype(np.float32)
    return Labelled(z, w, probs, classes), glasses_normal


def test_svms_find_separable_boundaries_with_balanced_accuracy():
    labelled, true_normal = _separable()
    fitted, skipped = fit_boundaries(labelled, AttributeOptions(count=3000))
    by_name = {f.boundary.name: f for f in fitted}
    assert set(by_name) == {"glasses", "colour:red", "colour:green", "colour:blue"}
    assert not skipped
    for f in fitted:
        assert f.figures["svm_test_accuracy"] >= 0.95, f.boundary.name
        counts = f.figures["samples"]
        assert sum(counts["train"].values()) + sum(counts["test"].values()) == 3000
    glasses = by_name["glasses"].boundary
    assert (glasses.kind, glasses.positive, glasses.negative) == ("binary", "true", "false")
    assert float(glasses.normal.double() @ torch.from_numpy(true_normal)) > 0.97
    # the spread is the std of the projections; most held-out positives lie past the target
    projections = labelled.w @ glasses.normal.numpy()
    assert glasses.spread == pytest.approx(float(projections.std()), rel=1e-4)


def test_ordinal_direction_and_skipped_classes():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2000, 8)).astype(np.float32)
    value = w[:, 0] + 0.1 * rng.normal(size=2000)
    length = np.digitize(value, [-0.5, 0.5])  # short, medium, long along axis 0
    colour = np.zeros(2000, int)
    colour[:5] = 1  # a class the model almost never makes
    labelled = Labelled(
        w,
        w,
        {"hair_length": _one_hot(length, 3), "hair_color": _one_hot(colour, 3)},
        {"hair_length": ("short", "medium", "long"), "hair_color": ("black", "pink", "blue")},
    )
    fitted, skipped = fit_boundaries(labelled, AttributeOptions(count=2000))
    ordinal = next(f.boundary for f in fitted if f.boundary.kind == "ordinal")
    assert (ordinal.name, ordinal.positive, ordinal.negative) == ("hair_length", "long", "short")
    assert float(ordinal.normal[0]) > 0.95
    assert "hair_color:pink" in skipped and "too few" in skipped["hair_color:pink"]
    assert "hair_color:blue" in skipped  # no face at all


def test_a_class_between_two_others_gets_its_own_cell():
    """Medium lies between short and long along one direction: no one-vs-rest plane can cut
    it out, the softmax model's classes can, and a class edit lands in it."""
    from nfe_core.editing import Boundaries

    rng = np.random.default_rng(2)
    w = rng.normal(size=(3000, 8)).astype(np.float32)
    length = np.digitize(w[:, 0], [-0.6, 0.6])  # short, medium, long along axis 0
    classes = ("short", "medium", "long")
    labelled = Labelled(w, w, {"size": _one_hot(length, 3)}, {"size": classes})
    fitted, skipped = fit_boundaries(labelled, AttributeOptions(count=3000))
    assert not skipped
    by_name = {f.boundary.name: f for f in fitted}
    assert set(by_name) == {"size:short", "size:medium", "size:long"}
    assert by_name["size:medium"].figures["svm_test_accuracy"] >= 0.95
    model = Boundaries([f.boundary for f in fitted])
    faces = torch.from_numpy(w[:200])
    read = [model.current_class("size", x) for x in faces]
    assert np.mean([r == classes[c] for r, c in zip(read, length[:200], strict=True)]) >= 0.95
    moved = [apply(x, [Edit("size", target="medium")], model) for x in faces]
    assert all(model.current_class("size", x) == "medium" for x in moved)
    # really in the middle cell by the rule that made the labels
    assert np.mean([abs(float(x[0])) < 0.6 for x in moved]) >= 0.95


def test_unsure_labels_are_left_out():
    labelled, _ = _separable(n=1000)
    unsure = labelled.probs["glasses"].copy()
    unsure[:500] = 0.5
    labelled = Labelled(labelled.z, labelled.w, {"glasses": unsure}, {"glasses": ("f", "t")})
    fitted, _ = fit_boundaries(labelled, AttributeOptions(count=1000, min_confidence=0.8))
    counts = fitted[0].figures["samples"]
    assert sum(counts["train"].values()) + sum(counts["test"].values()) == 500


class RednessSource(LabelSource):
    """Labels from the pixels: is the picture's red channel above its green one?"""

    calls = 0

    @property
    def attributes(self) -> dict[str, tuple[str, ...]]:
        return {"redness": ("low", "high")}

    def label(self, images: np.ndarray, names: Sequence[str] | None = None):
        RednessSource.calls += 1
        score = images[..., 0].mean(axis=(1, 2)) - images[..., 1].mean(axis=(1, 2))
        high = (score > np.median(score)).astype(int)  # roughly balanced classes
        return {"redness": _one_hot(high, 2)}


def _tiny_bundle(tmp_path):
    return save_bundle(tmp_path / "model", tiny_generator(), name="tiny")


def test_train_attributes_writes_boundaries_into_the_bundle_and_reuses_labels(tmp_path):
    model = _tiny_bundle(tmp_path)
    options = AttributeOptions(count=400, min_confidence=0.0, calibration_faces=0, layer_faces=0)
    logs: list[str] = []
    result = train_attributes(
        model, options, work=tmp_path / "work", source=RednessSource(), log=logs.append
    )
    assert [f.boundary.name for f in result.fitted] == ["redness"]
    bundle = load_bundle(model)
    assert len(bundle.boundaries) == 1
    record = bundle.attributes[0]
    assert record["name"] == "redness" and 0.5 <= record["svm_test_accuracy"] <= 1
    assert record["samples"]["test"]["positive"] > 0
    assert bundle.training["attributes"]["options"]["count"] == 400
    # the boundary edits: +2 moves the face 2 spreads along the normal
    w = bundle.generator.mapping(torch.randn(1, 32))[0]
    moved = apply(w, [Edit("redness", strength=2.0)], bundle.boundaries)
    plane = bundle.boundaries["redness"]
    assert plane.distance(moved) - plane.distance(w) == pytest.approx(2 * plane.spread, rel=1e-3)
    # a rerun with the same options reads labels.npz instead of labelling again
    calls = RednessSource.calls
    train_attributes(
        model, options, work=tmp_path / "work", source=RednessSource(), log=logs.append
    )
    assert RednessSource.calls == calls
    assert any("reusing the labels" in line for line in logs)
    assert (tmp_path / "work" / LABELS_FILE).is_file()


def _classifier_run(folder, resolution: int = 32):
    torch.manual_seed(0)
    config = ClassifierConfig(
        resolution=resolution,
        attributes=(("hair_color", ("black", "blue")), ("mouth", ("closed", "open"))),
        width=4,
        depth=2,
    )
    model = AttributeClassifier(config).eval()
    folder.mkdir()
    (folder / "classifier.json").write_text(json.dumps(config.to_dict()))
    save_file(model.state_dict(), str(folder / "classifier.safetensors"))
    return folder


def test_cli_adds_classifiers_and_boundaries(tmp_path, capsys):
    model = _tiny_bundle(tmp_path)
    run = _classifier_run(tmp_path / "clf")
    judge = _classifier_run(tmp_path / "judge")
    status = train_main(
        [
            "attributes",
            "--model",
            str(model),
            "--classifier",
            str(run),
            "--judge",
            str(judge),
            "--count",
            "200",
            "--quiet",
        ]
    )
    assert status == 0
    err = capsys.readouterr().err
    assert "boundaries" in err and str(model) in err
    bundle = load_bundle(model)
    assert bundle.classifier is not None and bundle.judge is not None
    fitted = {r["name"] for r in bundle.attributes}
    skipped = set(bundle.training["attributes"]["skipped"])
    assert fitted | skipped == {"hair_color", "mouth"}


def test_cli_errors_in_words(tmp_path, capsys):
    model = _tiny_bundle(tmp_path)
    assert train_main(["attributes", "--model", str(model), "--quiet"]) == 2
    assert "no classifier" in capsys.readouterr().err
    status = train_main(
        ["attributes", "--model", str(model), "--classifier", str(tmp_path / "nowhere")]
    )
    assert status == 2
    assert "not a classifier run folder" in capsys.readouterr().err
    status = train_main(["attributes", "--model", str(model), "--labels", "magic:x"])
    assert status == 2
    assert "unknown label source" in capsys.readouterr().err


def test_class_edits_land_where_the_labels_say_they_work(tmp_path):
    model = save_editing_bundle(tmp_path / "model")  # with an encoder: rows seen on inversions
    options = AttributeOptions(
        count=300, min_confidence=0.0, calibration_faces=16, layer_faces=16, layer_inversions=3
    )
    logs: list[str] = []
    train_attributes(
        model, options, work=tmp_path / "work", source=RednessSource(), log=logs.append
    )
    bundle = load_bundle(model)
    record = bundle.attributes[0]
    trials = {**record["target_calibration_high"], **record["target_calibration_low"]}
    assert trials and all(0 <= v <= 1 for v in trials.values())
    assert record["target_distance"] in CALIBRATION_DISTANCES
    # the rows were chosen (and stored) before the landing was measured on them
    spans = {tuple(int(x) for x in k.split(":")) for k in record["layers_tried"]}
    assert spans == set(layer_spans(bundle.generator.num_ws))
    assert set(record["layers_tried_inverted"]) == set(record["layers_tried"])
    assert any("inverting 3 held-out renders" in line for line in logs)
    stored = tuple(record["layers"]) if "layers" in record else None
    assert bundle.boundaries["redness"].layers == stored


def test_rows_are_chosen_on_the_latent_the_app_edits(tmp_path):
    from nfe_core.inversion import TuningOptions
    from training.attributes import inverted_faces

    bundle = load_bundle(save_editing_bundle(tmp_path / "model"))
    latents = inverted_faces(bundle, bundle.classifier, 2, seed=5)
    assert latents.shape == (2, bundle.generator.num_ws, bundle.generator.config.w_dim)
    # the default tuning holds one w in every row, and the app refines that one w itself
    assert TuningOptions().holds_one_w
    assert torch.equal(latents, latents[:, :1].expand_as(latents))


def test_class_edit_landing_is_the_shortest_that_works_or_is_as_good_as_the_best():
    options = AttributeOptions(calibration_success=0.9)
    # the first distance that reaches the bar
    assert choose_distance({0.1: 0.5, 0.5: 0.91, 1.0: 0.95}, 128, options) == 0.5
    # none reaches it: the shortest within one standard error of the best (0.64 of 64 faces:
    # se 0.06), not the best itself (the shipped model's black hair: 1.5 spreads)
    black = {0.1: 0.52, 0.2: 0.56, 0.3: 0.58, 0.5: 0.61, 1.0: 0.625, 1.5: 0.64, 2.0: 0.58}
    assert choose_distance(black, 64, options) == 0.5
    # with more faces the standard error shrinks and the landing moves out
    assert choose_distance(black, 2000, options) == 1.5
    # success that falls with distance lands close
    assert choose_distance({0.1: 0.72, 0.2: 0.70, 0.5: 0.38}, 64, options) == 0.1
    with pytest.raises(ValueError, match="nothing tried"):
        choose_distance({}, 64, options)


class _RowsGenerator(torch.nn.Module):
    """A generator whose picture's top half is drawn by W+ rows 0-1 and its bottom half by
    rows 2-3 (both from w's first coordinate, so a sampled face has them alike)."""

    num_ws = 4
    config = SimpleNamespace(z_dim=2)

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        return z.clone()

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        if ws.ndim == 2:
            ws = ws[:, None].expand(-1, self.num_ws, -1)
        out = torch.zeros(len(ws), 3, 8, 8)
        out[:, :, :4] = torch.tanh(ws[:, 0:2, 0].mean(dim=1))[:, None, None, None]
        out[:, :, 4:] = torch.tanh(ws[:, 2:4, 0].mean(dim=1))[:, None, None, None]
        return out


class HalvesSource(LabelSource):
    """Is each half of the picture light?"""

    @property
    def attributes(self) -> dict[str, tuple[str, ...]]:
        return {"top": ("dark", "light"), "bottom": ("dark", "light")}

    def label(self, images: np.ndarray, names: Sequence[str] | None = None):
        top = (images[:, :4].mean(axis=(1, 2, 3)) > 127.5).astype(int)
        bottom = (images[:, 4:].mean(axis=(1, 2, 3)) > 127.5).astype(int)
        return {"top": _one_hot(top, 2), "bottom": _one_hot(bottom, 2)}


def test_each_attribute_edits_the_rows_that_draw_it():
    assert layer_spans(4) == [(0, 2), (0, 4), (2, 4)]
    assert layer_spans(10)[:2] == [(0, 2), (0, 4)] and (6, 10) in layer_spans(10)
    assert len(layer_spans(12)) == 21

    def plane(name: str, tilt: float) -> Fitted:
        normal = torch.tensor([1.0, tilt]) / (1 + tilt**2) ** 0.5
        return Fitted(Boundary(name, name, "binary", "light", "dark", normal, 0.0, 1.0), {})

    bundle = SimpleNamespace(generator=_RowsGenerator(), device=torch.device("cpu"))
    options = AttributeOptions(layer_faces=64)
    logs: list[str] = []
    fitted = [plane("top", 0.3), plane("bottom", -0.3)]
    chosen = choose_layers(bundle, fitted, HalvesSource(), options, log=logs.append)
    layers = {f.boundary.name: f.boundary.layers for f in chosen}
    assert layers == {"top": (0, 2), "bottom": (2, 4)}
    tried = chosen[0].figures["layers_tried"]
    assert set(tried) == {"0:2", "0:4", "2:4"}
    assert tried["0:2"][1] == 1.0 and tried["0:4"][1] < 0.5  # all rows flip the bottom too
    assert any("top: edits move W+ rows 0:2" in line for line in logs)
    # with a margin no span can beat, every attribute keeps all rows
    options = AttributeOptions(layer_faces=64, layer_margin=2.0)
    kept = choose_layers(bundle, fitted, HalvesSource(), options)
    assert all(f.boundary.layers is None for f in kept)


def test_the_layer_trial_moves_an_ordered_attribute_along_its_direction_as_the_app_does():
    unit = torch.eye(3)
    model = Boundaries(
        [
            *(
                Boundary(f"length:{c}", "length", "class", c, None, unit[i], 0.0, 1.0)
                for i, c in enumerate(("short", "medium", "long"))
            ),
            Boundary("length", "length", "ordinal", "long", "short", unit[2], 0.0, 1.0),
            Boundary("glasses", "glasses", "binary", "true", "false", unit[0], 0.0, 1.0),
        ]
    )
    kept = ("glasses",)
    length = model.info("length")
    assert _trial_edit(length, "long", "medium", kept, 2.0) == Edit(
        "length", strength=-2.0, preserve=kept
    )
    assert _trial_edit(length, "short", "long", kept, 0.3) == Edit(
        "length", strength=0.3, preserve=kept
    )
    assert _trial_edit(model.info("glasses"), "false", "true", (), 1.0) == Edit(
        "glasses", target="true", distance=1.0
    )


class _GatedRowsGenerator(_RowsGenerator):
    """As :class:`_RowsGenerator`, but rows 2-3 also draw the top half, weighted by w's third
    coordinate, which sampled faces leave at 0: as an inversion's optimisation spreads an
    attribute over rows that sampled faces do not draw it with."""

    config = SimpleNamespace(z_dim=3)

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        w = z.clone()
        w[:, 2] = 0
        return w

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        if ws.ndim == 2:
            ws = ws[:, None].expand(-1, self.num_ws, -1)
        top = ws[:, 0:2, 0].mean(dim=1) + ws[:, 2:4, 2].mean(dim=1) * ws[:, 2:4, 0].mean(dim=1)
        out = torch.zeros(len(ws), 3, 8, 8)
        out[:, :, :4] = torch.tanh(top)[:, None, None, None]
        out[:, :, 4:] = torch.tanh(ws[:, 2:4, 0].mean(dim=1))[:, None, None, None]
        return out


def test_rows_must_make_the_edit_on_inverted_faces_too():
    def plane(name: str, tilt: float) -> Fitted:
        normal = torch.tensor([1.0, tilt, 0.0]) / (1 + tilt**2) ** 0.5
        return Fitted(Boundary(name, name, "binary", "light", "dark", normal, 0.0, 1.0), {})

    bundle = SimpleNamespace(generator=_GatedRowsGenerator(), device=torch.device("cpu"))
    fitted = [plane("top", 0.3), plane("bottom", -0.3)]
    options = AttributeOptions(layer_faces=64)
    # on sampled faces rows 0-1 alone draw the top: they are chosen
    sampled = choose_layers(bundle, fitted, HalvesSource(), options)
    assert {f.boundary.name: f.boundary.layers for f in sampled} == {
        "top": (0, 2),
        "bottom": (2, 4),
    }
    assert "layers_tried_inverted" not in sampled[0].figures
    # inverted faces whose rows 2-3 outweigh rows 0-1 (which even sit on the other side of
    # the top's plane): moving rows 0-1 cannot change their top, moving every row can
    side = torch.where(torch.arange(32) % 2 == 0, 1.0, -1.0)
    inverted = torch.zeros(32, 4, 3)
    inverted[:, 0:2, 0] = -side[:, None]
    inverted[:, 2:4, 0] = 2 * side[:, None]
    inverted[:, 2:4, 2] = 3.0
    logs: list[str] = []
    chosen = choose_layers(
        bundle, fitted, HalvesSource(), options, inverted=inverted, log=logs.append
    )
    assert {f.boundary.name: f.boundary.layers for f in chosen} == {"top": None, "bottom": (2, 4)}
    top = chosen[0].figures
    assert top["layers_tried"]["0:2"][0] >= 0.95  # still the best on sampled faces
    assert top["layers_tried_inverted"]["0:2"][0] == 0.0
    assert top["layers_tried_inverted"]["0:4"][0] == 1.0
    assert any("top: edits move W+ rows 0:4" in line and "inverted" in line for line in logs)


def test_fewer_rows_win_only_by_keeping_more_while_still_making_the_edit():
    options = AttributeOptions()  # success may drop 0.05, the sum must gain 0.03
    full = (0, 10)
    # the 64 px default model's accessory: rows 8-10 "kept" the face by not editing it
    accessory = {full: (0.28, 0.51), (8, 10): (0.04, 0.85), (0, 6): (0.27, 0.58)}
    assert choose_span(accessory, full, options) == (0, 6)
    eye = {full: (0.72, 0.57), (6, 10): (0.70, 0.73), (4, 10): (0.72, 0.60)}
    assert choose_span(eye, full, options) == (6, 10)
    # a gain within the margin keeps all rows; equal sums prefer fewer rows
    assert choose_span({full: (0.9, 0.5), (0, 4): (0.9, 0.52)}, full, options) == full
    even = {full: (0.5, 0.2), (0, 4): (0.9, 0.5), (0, 2): (0.8, 0.6)}
    assert choose_span(even, full, options) == (0, 2)
    # the default model's mouth: rows 2-6 won on sampled faces, but made the edit on 0.58 of
    # inverted faces against 0.85 for all rows; rows 2-10 keep the success there
    mouth = {full: (0.97, 0.21), (2, 6): (0.95, 0.40), (2, 10): (0.96, 0.30)}
    inverted = {full: (0.85, 0.2), (2, 6): (0.58, 0.5), (2, 10): (0.87, 0.3)}
    assert choose_span(mouth, full, options) == (2, 6)
    assert choose_span(mouth, full, options, inverted) == (2, 10)

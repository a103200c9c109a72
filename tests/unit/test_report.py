"""The quality report: its figures' maths, and ``nfe-train report`` on a tiny bundle."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from nfe_core.bundle import load_bundle, resave_bundle, save_bundle
from nfe_core.editing import Boundary
from nfe_core.imageio import load_image
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from nfe_core.models.encoder import Encoder, EncoderConfig
from tests.tiny import TINY_GENERATOR, segmenter_sure_of, tiny_generator
from training.cli import main as train_main
from training.report import (
    Renderer,
    ReportOptions,
    classifiers_agree,
    edit_figures,
    frechet_distance,
    make_report,
    mirror_agreement,
    precision_recall,
    quality_bar,
    success_by_class,
)
from training.synth.schema import ATTRIBUTES

pytest.importorskip("torchmetrics")


def test_mirror_agreement_reads_both_halves_of_each_face():
    torch.manual_seed(0)
    classes = (("eye_color", ("blue", "red", "green")), ("mouth", ("closed", "open")))
    judge = AttributeClassifier(ClassifierConfig(resolution=32, attributes=classes, width=4))
    half = torch.rand(40, 3, 32, 16) * 2 - 1
    symmetric = torch.cat([half, half.flip(-1)], dim=-1)  # both halves alike: always agree
    assert mirror_agreement(judge, symmetric, 16) == {"eye_color": 1.0}  # mouth: not mirrored
    # each face's halves from two different faces: agree on about as many as chance gives
    mixed = torch.cat([half, half.roll(1, dims=0).flip(-1)], dim=-1)
    left = judge.predict(torch.cat([half, half.flip(-1)], dim=-1))["eye_color"].argmax(1)
    right = left.roll(1, dims=0)
    expected = float((left == right).float().mean())
    assert mirror_agreement(judge, mixed, 16)["eye_color"] == pytest.approx(expected, abs=1e-4)
    no_eyes = AttributeClassifier(ClassifierConfig(resolution=32, attributes=classes[1:], width=4))
    assert mirror_agreement(no_eyes, symmetric, 16) == {}


def test_precision_recall_of_same_and_disjoint_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=g)
    assert precision_recall(real, real.clone(), k=3) == (1.0, 1.0)
    far = real + 100
    assert precision_recall(real, far, k=3) == (0.0, 0.0)
    # fakes that cover only half of the real set: precise, but half the recall at most
    half = real[real[:, 0] > 0]
    precision, recall = precision_recall(real, half, k=3)
    assert precision == 1.0 and recall < 0.75


class Pixels(torch.nn.Module):
    """A feature extractor: the mean colour (3 features)."""

    num_features = 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float().mean(dim=(2, 3)).double()


def test_frechet_distance_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(1)
    a = torch.rand(400, 3, 8, 8, generator=g)
    b = torch.rand(400, 3, 8, 8, generator=g)
    same = frechet_distance(Pixels(), a, b, 100)
    shifted = frechet_distance(Pixels(), a, (b * 0.5 + 0.5), 100)
    assert 0 <= same < 0.01 < shifted


def _classifier(seed: int) -> AttributeClassifier:
    torch.manual_seed(seed)
    config = ClassifierConfig(
        resolution=32,
        attributes=tuple((a.name, a.classes) for a in ATTRIBUTES),
        width=4,
        depth=2,
    )
    return AttributeClassifier(config).eval()


def _boundaries() -> list[Boundary]:
    g = torch.Generator().manual_seed(2)

    def normal() -> torch.Tensor:
        return torch.nn.functional.normalize(torch.randn(32, generator=g), dim=0)

    colours = next(a.classes for a in ATTRIBUTES if a.name == "hair_color")
    rows = (2, TINY_GENERATOR.num_ws)  # hair colour drawn by some rows: its edits give W+
    planes = [
        Boundary(f"hair_color:{c}", "hair_color", "class", c, None, normal(), 0.0, 1.0, layers=rows)
        for c in colours
    ]
    planes.append(Boundary("glasses", "glasses", "binary", "true", "false", normal(), 0.0, 1.0))
    return planes


def _encoder() -> Encoder:
    torch.manual_seed(3)
    config = EncoderConfig(32, 32, TINY_GENERATOR.num_ws, width=8, max_channels=32, hidden=32)
    encoder = Encoder(config).eval()
    encoder.w_avg.copy_(tiny_generator().w_avg)
    return encoder


@pytest.fixture
def bundle_with_sliders(tmp_path):
    return save_bundle(
        tmp_path / "model",
        tiny_generator(),
        name="tiny",
        classifier=_classifier(0),
        judge=_classifier(1),
        boundaries=_boundaries(),
        attributes=[{"name": "glasses", "svm_test_accuracy": 0.97}],
        encoder=_encoder(),
    )


def test_report_writes_every_figure_files_and_the_bundle(bundle_with_sliders, tmp_path):
    options = ReportOptions(
        faces=12,
        frechet_count=40,
        classifier_count=30,
        batch_size=16,
        inversion_faces=3,
        inversion_steps=2,
        tune_steps=2,
    )
    report = make_report(bundle_with_sliders, tmp_path / "report", options)
    f = report.figures
    assert f["judged_by"] == "judge"
    assert set(f["classifier_accuracy"]) == {a.name for a in ATTRIBUTES}
    assert f["svm_test_accuracy"] == {"glasses": 0.97}
    for key in (
        "edit_success",
        "preservation",
        "edit_success_unconditional",
        "preservation_unconditional",
    ):
        assert set(f[key]) == {"hair_color", "glasses"}
        assert all(0 <= v <= 1 for v in f[key].values())
    kept = f["preservation_by_attribute"]
    assert set(kept) == {"hair_color", "glasses"}
    for attribute, row in kept.items():
        assert attribute not in row and all(0 <= v <= 1 for v in row.values())
        # every face that kept all the others kept each one
        assert min(row.values()) >= f["preservation"][attribute]
    for attribute, row in f["edit_success_by_class"].items():
        # faces are sent only to classes they are not in; the mean over faces is the success
        assert row and set(row) <= set(next(a.classes for a in ATTRIBUTES if a.name == attribute))
        assert all(0 <= v <= 1 for v in row.values())
        assert min(row.values()) <= f["edit_success"][attribute] <= max(row.values())
    for key in ("classifier_accuracy", "judge_accuracy"):
        assert all(0 <= v <= 1 for v in f[key].values())
    assert set(f["classifiers_agree"]) == {a.name for a in ATTRIBUTES}
    assert all(0 <= v <= 1 for v in f["classifiers_agree"].values())
    assert f["frechet_distance"] >= 0 and f["frechet_floor"] >= 0
    assert 0 <= f["precision"] <= 1 and 0 <= f["recall"] <= 1
    for faces in ("generated", "procedural"):
        alike = f["mirror_agreement"][faces]
        assert set(alike) == {"eye_color", "blush", "glasses"}
        assert all(0 <= v <= 1 for v in alike.values())
    assert "both sides alike" in (tmp_path / "report" / "report.md").read_text()
    inversion = f["inversion"]
    assert inversion["faces"] == 3 and inversion["steps"] == 2
    assert inversion["psnr_db_hybrid"] > 0 and inversion["seconds_cpu"] > 0
    assert inversion["psnr_db_refined"] > 0 and inversion["tune_steps"] == 2
    assert inversion["pivot_spread"] == 0  # tuned at one w, as the app does
    assert 0 <= inversion["attribute_agreement"] <= 1
    assert set(inversion["edit_success_inverted"]) == {"hair_color", "glasses"}
    by_class = inversion["edit_success_inverted_by_class"]
    assert set(by_class) == {"hair_color", "glasses"}
    for attribute, row in by_class.items():
        assert min(row.values()) <= inversion["edit_success_inverted"][attribute]
        assert inversion["edit_success_inverted"][attribute] <= max(row.values())
    names = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert names == [
        "inversion.png",
        "report.json",
        "report.md",
        "samples.png",
        "strip_glasses.png",
        "strip_hair_color.png",
    ]
    assert (
        json.loads((tmp_path / "report" / "report.json").read_text())["precision"] == f["precision"]
    )
    # categorical strip: the unedited face and one frame per class, 4 rows, frames >= 96 px
    strip = load_image(tmp_path / "report" / "strip_hair_color.png").rgb
    assert strip.width >= 11 * 96 and strip.height >= 4 * 96
    # 8x8 generated faces; the inversion rows: render, encoder, refined, tuned, a hair_color edit
    size = TINY_GENERATOR.resolution
    side = -(-96 // size) * size  # frames enlarged by a whole factor to at least 96 px
    assert load_image(tmp_path / "report" / "samples.png").rgb.size == (8 * side + 28,) * 2
    example = load_image(tmp_path / "report" / "inversion.png").rgb
    assert example.size == (5 * side + 16, 3 * side + 8)
    assert load_bundle(bundle_with_sliders).report["precision"] == f["precision"]
    md = (tmp_path / "report" / "report.md").read_text()
    assert "Fréchet distance" in md and "strip_glasses.png" in md
    assert "(samples.png)" in md and "(inversion.png)" in md
    assert inversion["refined_one_w"]
    assert "steps on the latent (one w for every row)" in md
    assert "at the latent's pivot (the refined w itself)" in md
    # the quality bar: a tiny untrained bundle misses it, and the report says which lines
    assert "bars missed" in md
    bar = f["quality_bar"]
    assert "missed by" in bar["inversion psnr_db_hybrid"]
    assert any(k.startswith("classifier_accuracy (worst: ") for k in bar)


def test_classifiers_agree_counts_the_faces_both_read_alike():
    def reader(classes):
        return SimpleNamespace(config=SimpleNamespace(classes=classes))

    ours = reader({"hair": ("black", "red"), "eyes": ("blue", "green"), "glasses": ("f", "t")})
    theirs = reader({"hair": ("black", "red"), "eyes": ("green", "blue")})
    first = {
        "hair": torch.tensor([0, 1, 1, 0]),
        "eyes": torch.tensor([0, 0, 0, 0]),
        "glasses": torch.tensor([1, 1, 1, 1]),
    }
    second = {"hair": torch.tensor([0, 1, 0, 0]), "eyes": torch.tensor([0, 0, 0, 0])}
    # eyes: the same indices name other classes, so they are not compared; glasses: one only
    assert classifiers_agree(first, second, ours, theirs) == {"hair": 0.75}
    assert classifiers_agree(first, first, ours, ours) == {"hair": 1.0, "eyes": 1.0, "glasses": 1.0}


def test_success_by_class_splits_the_success_by_target():
    classes = ("black", "brown", "pink", "blue")
    targets = torch.tensor([2, 2, 2, 2, 3, 3, 0])
    after = torch.tensor([2, 1, 1, 1, 3, 3, 0])  # pink is reached once in four
    assert success_by_class(targets, after, classes) == {"black": 1.0, "pink": 0.25, "blue": 1.0}
    assert success_by_class(torch.tensor([], dtype=torch.long), torch.tensor([]), classes) == {}


def test_quality_bar_takes_the_worst_of_each_family():
    figures = {
        "classifier_accuracy": {"hair_color": 0.99, "mouth": 0.97},
        "svm_test_accuracy": {"glasses": 0.96},
        "edit_success": {"hair_color": 0.95, "hair_length": 0.91, "mouth": 0.10},
        "preservation": {"hair_color": 0.90, "eye_color": 0.93},
        "inversion": {"psnr_db_hybrid": 27.0, "attribute_agreement": 0.9, "seconds_cpu": 6.0},
        "frechet_distance": 0.5,
        "frechet_floor": 0.2,
    }
    bars = {b.what: b for b in quality_bar(figures)}
    assert not bars["classifier_accuracy (worst: mouth)"].met
    assert bars["svm_test_accuracy (worst: glasses)"].met
    # mouth is not one of the edits the bar names
    assert bars["edit_success (worst of hair_color, hair_length: hair_length)"].met
    assert bars["preservation (worst of hair_color, eye_color: hair_color)"].met  # 0.90 is met
    assert bars["inversion psnr_db_hybrid"].met
    assert not bars["inversion attribute_agreement"].met
    seconds = bars["inversion seconds_cpu"]
    assert not seconds.met and seconds.verdict == "6 (bar <= 5, missed by 1)"
    assert bars["Fréchet distance / real-vs-real floor"].met  # 2.5x


def test_cli_report_and_errors(bundle_with_sliders, tmp_path, capsys):
    status = train_main(
        ["report", "--model", str(bundle_with_sliders), "--out", str(tmp_path / "r"),
         "--faces", "8", "--frechet-count", "20", "--inversion-faces", "2", "--quiet"]
    )  # fmt: skip
    assert status == 0
    assert "Frechet distance" in capsys.readouterr().err
    plain = save_bundle(tmp_path / "plain", tiny_generator(), name="plain")
    assert train_main(["report", "--model", str(plain), "--quiet"]) == 2
    assert "no attribute boundaries" in capsys.readouterr().err


def test_edits_are_judged_as_the_app_shows_them_kept_to_their_regions(
    bundle_with_sliders, tmp_path
):
    """With a segmenter that sees no hair and no skin anywhere, the app shows hair colour and
    glasses edits (which own those regions) as no change at all: the report's edit figures
    must say so, and give the whole renders' figures beside them."""
    options = ReportOptions(faces=10, batch_size=16)
    plain = load_bundle(bundle_with_sliders)
    whole = edit_figures(plain, plain.judge, Renderer(plain, 16), options)
    assert "preservation_unconfined" not in whole  # no segmenter: the whole renders are it
    resave_bundle(plain, segmenter=segmenter_sure_of("background"))
    bundle = load_bundle(bundle_with_sliders)
    f = edit_figures(bundle, bundle.judge, Renderer(bundle, 16), options)
    for attribute in ("hair_color", "glasses"):
        assert f["edit_success"][attribute] == 0.0  # every face was sent to another class
        assert f["preservation"][attribute] == 1.0
        assert f["preservation_by_attribute"][attribute] == {
            name: 1.0 for name in f["preservation_by_attribute"][attribute]
        }
        # beside them, the figures of the whole renders: those of the model without it
        assert f["edit_success_unconfined"][attribute] == whole["edit_success"][attribute]
        assert f["preservation_unconfined"][attribute] == whole["preservation"][attribute]

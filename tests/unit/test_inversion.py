"""The encoder, its training, and hybrid inversion (tiny networks)."""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import replace

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from nfe_core.bundle import BundleError, load_bundle, save_bundle
from nfe_core.editing import Boundaries, class_shortfall
from nfe_core.inversion import (
    InversionOptions,
    TuningOptions,
    hybrid,
    invert,
    pivot,
    tunable_names,
    tune,
    tuned_generator,
)
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from nfe_core.models.encoder import Encoder, EncoderConfig
from tests.tiny import TINY_GENERATOR, tiny_boundaries, tiny_classifier, tiny_generator
from training.cli import main as train_main
from training.encoder import CHECKPOINT, EncoderOptions, sample_targets, train_encoder

NUM_WS = TINY_GENERATOR.num_ws


def _classifier() -> AttributeClassifier:
    torch.manual_seed(0)
    config = ClassifierConfig(resolution=32, attributes=(("a", ("x", "y")),), width=4, depth=2)
    return AttributeClassifier(config).eval()


def _encoder(generator) -> Encoder:
    torch.manual_seed(1)
    config = EncoderConfig(32, 32, NUM_WS, width=8, max_channels=32, bottleneck=16, hidden=64)
    encoder = Encoder(config).eval()
    encoder.w_avg.copy_(generator.w_avg)
    return encoder


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(4 / ((a - b) ** 2).mean()))


@pytest.fixture(scope="module")
def nets():
    generator = tiny_generator()
    return generator, _encoder(generator), _classifier()


@pytest.fixture(scope="module")
def sample(nets):
    generator = nets[0]
    w = generator.mapping(torch.randn(1, 32, generator=torch.Generator().manual_seed(3)))
    with torch.no_grad():
        return generator.synthesis(w, noise_mode="const")[0]


def test_untrained_encoder_answers_the_mean_face(nets):
    generator, encoder, _ = nets
    out = encoder(torch.zeros(2, 3, 32, 32))
    assert out.shape == (2, NUM_WS, 32)
    assert torch.allclose(out, generator.w_avg.expand(2, NUM_WS, -1))
    with pytest.raises(ValueError, match="expected images"):
        encoder(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match="power of two"):
        EncoderConfig(48, 32, 6)


def test_inversion_recovers_a_generator_sample_and_is_deterministic(nets, sample):
    generator, encoder, classifier = nets
    start = invert(sample, generator, encoder, classifier, InversionOptions(steps=0))
    result = invert(sample, generator, encoder, classifier, InversionOptions(steps=80, lr=0.1))
    assert result.latent.shape == (NUM_WS, 32) and result.steps_done == 80
    with torch.no_grad():
        before = generator.synthesis(start.latent[None], noise_mode="const")[0]
        after = generator.synthesis(result.latent[None], noise_mode="const")[0]
    assert _psnr(after, sample) > _psnr(before, sample) + 10
    assert result.loss <= start.loss
    again = invert(sample, generator, encoder, classifier, InversionOptions(steps=80, lr=0.1))
    assert torch.equal(again.latent, result.latent)
    # one w shared by every row: W+ with equal rows, from the mean of the encoder's rows
    one = invert(
        sample, generator, encoder, classifier, InversionOptions(steps=80, lr=0.1), one_w=True
    )
    assert one.latent.shape == (NUM_WS, 32) and _one_w(one.latent)
    with torch.no_grad():
        mean = generator.synthesis(pivot(start.latent)[None], noise_mode="const")[0]
    assert _psnr(_draw(generator, one.latent), sample) > _psnr(mean, sample) + 3
    # the networks are left as they were found: frozen inputs, no stray gradients
    assert all(p.grad is None for p in generator.parameters())


def test_cancel_returns_the_best_latent_so_far_within_one_step(nets, sample):
    generator, encoder, classifier = nets
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    result = invert(
        sample, generator, encoder, classifier, InversionOptions(steps=50), should_stop=stop
    )
    assert result.cancelled and result.steps_done == 3
    assert torch.isfinite(result.latent).all()


def test_progress_and_bad_images(nets, sample):
    generator, encoder, classifier = nets
    seen = []
    invert(
        sample,
        generator,
        encoder,
        classifier,
        InversionOptions(steps=4),
        progress=lambda i, n: seen.append((i, n)),
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(ValueError, match="expected"):
        invert(torch.zeros(3, 16, 16), generator, encoder, classifier)
    with pytest.raises(ValueError, match="NaN"):
        invert(torch.full((3, 32, 32), float("nan")), generator, encoder, classifier)


def _one_w(latent: torch.Tensor) -> bool:
    """Whether every row of W+ ``latent`` is the same w."""
    return torch.equal(latent, latent[:1].expand_as(latent))


def _draw(generator, latent: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return generator.synthesis(latent[None], noise_mode="const")[0]


def test_tuning_brings_the_render_of_the_pivot_closer_and_leaves_the_model_alone(nets, sample):
    generator, encoder, classifier = nets
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    pivot = invert(sample, generator, encoder, classifier, InversionOptions(steps=0)).latent
    # the picture is not a face this generator makes at the pivot: tuning must bend it there
    picture = sample + 0.3 * torch.randn(sample.shape, generator=torch.Generator().manual_seed(5))
    picture = picture.clamp(-1, 1)
    seen = []
    result = tune(
        picture, generator, pivot, classifier, TuningOptions(steps=30, lr=0.01),
        progress=lambda i, n: seen.append((i, n)),
    )  # fmt: skip
    assert seen == [(i, 30) for i in range(1, 31)] and result.steps_done == 30
    assert set(result.weights) == set(tunable_names(generator))
    assert not any(name.startswith("style.") for name in result.weights)  # the mapping stays
    tuned = tuned_generator(generator, result.weights)
    assert _psnr(_draw(tuned, pivot), picture) > _psnr(_draw(generator, pivot), picture) + 1
    # tune hands back its own copy, holding the best weights: it draws as the rebuilt one
    assert result.generator is not generator
    assert torch.equal(_draw(result.generator, pivot), _draw(tuned, pivot))
    assert not any(p.requires_grad for p in result.generator.parameters())
    # the model itself is untouched, with no stray gradients; the copy is frozen
    after = generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in generator.parameters())
    assert not any(p.requires_grad for p in tuned.parameters())
    assert torch.equal(tuned.mapping(torch.ones(1, 32)), generator.mapping(torch.ones(1, 32)))
    again = tune(picture, generator, pivot, classifier, TuningOptions(steps=30, lr=0.01))
    assert all(torch.equal(again.weights[k], result.weights[k]) for k in result.weights)


def test_the_locality_regulariser_keeps_the_tuned_network_the_models_away_from_the_pivot(
    nets, sample
):
    generator, encoder, classifier = nets
    pivot_w = invert(sample, generator, encoder, classifier, InversionOptions(steps=0)).latent
    picture = sample + 0.3 * torch.randn(sample.shape, generator=torch.Generator().manual_seed(5))
    picture = picture.clamp(-1, 1)
    with torch.no_grad():
        z = torch.randn(4, 32, generator=torch.Generator().manual_seed(9))
        far = torch.lerp(pivot_w, generator.mapping(z)[:, None, :], 0.5)  # halfway to 4 faces
        original = generator.synthesis(far, noise_mode="const")

    def off(result) -> float:  # how far the tuned network strays from the model there
        with torch.no_grad():
            return float(
                ((result.generator.synthesis(far, noise_mode="const") - original) ** 2).mean()
            )

    none = TuningOptions(steps=30, lr=0.01, locality_weight=0)
    plain = tune(picture, generator, pivot_w, classifier, none)
    options = TuningOptions(steps=30, lr=0.01, locality_weight=4.0, locality_step=0.5)
    local = tune(picture, generator, pivot_w, classifier, options)
    assert off(local) < 0.5 * off(plain)
    # it still draws the picture at the pivot better than the model does
    assert (
        _psnr(_draw(local.generator, pivot_w), picture)
        > _psnr(_draw(generator, pivot_w), picture) + 1
    )
    again = tune(picture, generator, pivot_w, classifier, options)
    assert all(torch.equal(again.weights[k], v) for k, v in local.weights.items())
    for bad in ({"locality_step": 1.5}, {"locality_weight": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TuningOptions(**bad)


def test_the_locality_faces_drawn_once_follow_the_models_weights(nets, sample):
    # at a whole step from the pivot the random faces are the same for every picture: they
    # are drawn once per model, and drawn again when its weights change
    _, encoder, classifier = nets
    generator = tiny_generator()
    pivot_w = invert(sample, generator, encoder, classifier, InversionOptions(steps=0)).latent
    options = TuningOptions(steps=6, lr=0.01, locality_weight=1.0, locality_step=1.0)

    def tuned(model):
        return tune(sample, model, pivot_w, classifier, options).weights

    first, second = tuned(generator), tuned(generator)
    assert all(torch.equal(second[k], v) for k, v in first.items())
    with torch.no_grad():
        generator.to_rgbs[-1].bias.add_(0.5)  # the model changes in place
    changed, fresh = tuned(generator), tuned(deepcopy(generator))
    assert all(torch.allclose(fresh[k], v, atol=1e-6) for k, v in changed.items())
    assert not all(torch.allclose(first[k], v, atol=1e-6) for k, v in changed.items())


def test_tuning_can_leave_the_coarse_layers_as_they_are(nets, sample):
    generator, encoder, classifier = nets
    pivot = invert(sample, generator, encoder, classifier, InversionOptions(steps=0)).latent
    result = tune(sample, generator, pivot, classifier, TuningOptions(steps=3, from_resolution=16))
    names = set(result.weights)
    assert names == set(tunable_names(generator, 16)) and names < set(tunable_names(generator))
    coarse = ("input.", "conv1.", "to_rgb1.", "convs.0.", "convs.1.", "to_rgbs.0.")  # 4-8 px
    assert not any(n.startswith(coarse) for n in names) and "to_rgbs.1.conv.weight" in names
    tuned = tuned_generator(generator, result.weights)  # a part of the weights draws the face
    params = dict(tuned.named_parameters())
    assert torch.equal(
        params["conv1.conv.weight"], dict(generator.named_parameters())["conv1.conv.weight"]
    )
    with pytest.raises(ValueError, match="64 px"):
        tune(sample, generator, pivot, classifier, TuningOptions(steps=1, from_resolution=64))


def test_tuning_cancels_within_one_step_and_refuses_bad_input(nets, sample):
    generator, encoder, classifier = nets
    pivot = invert(sample, generator, encoder, classifier, InversionOptions(steps=0)).latent
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    result = tune(sample, generator, pivot, classifier, TuningOptions(steps=40), should_stop=stop)
    assert result.cancelled and result.steps_done == 2
    with pytest.raises(ValueError, match="expected"):
        tune(torch.zeros(3, 16, 16), generator, pivot, classifier)
    with pytest.raises(ValueError, match="latent"):
        tune(sample, generator, pivot[:2], classifier)
    with pytest.raises(ValueError, match="steps"):
        TuningOptions(steps=-1)


def test_the_pivot_pulls_the_rows_to_their_mean():
    latent = torch.arange(12.0).reshape(3, 4)
    one = pivot(latent)
    assert torch.equal(one, latent.mean(0, keepdim=True).expand(3, 4))
    assert torch.equal(pivot(latent, 1.0), latent)
    half = pivot(latent, 0.5)
    assert torch.allclose(half - one, 0.5 * (latent - one))
    with pytest.raises(ValueError, match="W\\+"):
        pivot(latent[0])
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="spread"):
            TuningOptions(spread=bad)


def test_hybrid_tunes_at_the_one_w_pivot_and_counts_both_runs(nets, sample):
    generator, encoder, classifier = nets
    seen = []
    options, tuning = InversionOptions(steps=3), TuningOptions(steps=4)
    found = hybrid(
        sample, generator, encoder, classifier, options, tuning,
        progress=lambda i, n: seen.append((i, n)),
    )  # fmt: skip
    assert seen == [(i, 7) for i in range(1, 8)]
    assert found.tuning is not None and not found.cancelled
    # edits start from one w in every row, and the refinement looked for that w itself
    assert torch.equal(found.latent, pivot(found.inversion.latent))
    refined = found.inversion.latent
    assert _one_w(refined)
    assert torch.allclose(found.latent, refined)
    assert not torch.allclose(refined, pivot(found.inversion.encoder_latent))
    assert found.generator is found.tuning.generator
    with torch.no_grad():
        drawn = _draw(found.generator, found.latent)
    assert _psnr(drawn, sample) > _psnr(_draw(generator, found.latent), sample)
    again = hybrid(sample, generator, encoder, classifier, options, tuning)
    assert torch.equal(again.latent, found.latent)
    assert all(torch.equal(again.tuning.weights[k], v) for k, v in found.tuning.weights.items())
    kept = hybrid(sample, generator, encoder, classifier, options, TuningOptions(steps=4, spread=1))
    assert torch.equal(kept.latent, kept.inversion.latent)
    assert not _one_w(kept.latent)  # W+ refined: the rows differ
    # no tuning, or stopped before its first step: the refined W+ on the model's generator
    for steps, stop_after in ((0, 99), (4, 3)):
        calls: list[int] = []

        def stop(calls: list[int] = calls, stop_after: int = stop_after) -> bool:
            calls.append(1)
            return len(calls) > stop_after

        untuned = hybrid(
            sample, generator, encoder, classifier, options, TuningOptions(steps=steps),
            should_stop=stop,
        )  # fmt: skip
        assert untuned.tuning is None and untuned.generator is generator
        assert torch.equal(untuned.latent, untuned.inversion.latent)
        # no tuning to follow: each W+ row refined; stopped on the way: the one w so far
        assert _one_w(untuned.latent) == (steps > 0)
        assert untuned.cancelled == (steps > 0)


def test_the_refinement_holds_the_latent_in_the_class_the_picture_shows(nets, sample):
    generator, encoder, _ = nets
    classifier, model = tiny_classifier(), Boundaries(tiny_boundaries())
    classes = dict(classifier.config.attributes)["hair_color"]
    shown = classes[int(classifier.predict(sample[None])["hair_color"][0].argmax())]
    info = model.info("hair_color")
    options = InversionOptions(steps=12, lr=0.1, class_weight=5.0)

    def refine(**given):
        return invert(sample, generator, encoder, classifier, options, one_w=True, **given)

    free, held = refine(), refine(boundaries=model)
    assert float(class_shortfall(free.latent, info, shown)) > 0.5  # left alone, it is not there
    assert float(class_shortfall(held.latent, info, shown)) < 0.05
    assert model.current_class("hair_color", held.latent) == shown
    assert _one_w(held.latent)
    # its loss is still the reconstruction's: the held latent draws the picture less closely
    assert held.loss > free.loss
    # nothing held: with weight 0, for attributes the boundaries do not know
    for unheld in (replace(options, class_weight=0.0), replace(options, held_classes=("x",))):
        same = invert(sample, generator, encoder, classifier, unheld, one_w=True, boundaries=model)
        assert torch.equal(same.latent, free.latent)
    # hybrid refines with the boundaries it is given
    both = hybrid(
        sample, generator, encoder, classifier, options, TuningOptions(steps=2),
        boundaries=model,
    )  # fmt: skip
    assert torch.equal(both.inversion.latent, held.latent)
    for bad in ({"class_weight": -1.0}, {"held_classes": ["hair_color"]}):
        with pytest.raises(ValueError, match=r"class_weight|held_classes"):
            InversionOptions(**bad)


def test_tuned_weights_of_another_model_are_refused(nets, sample):
    generator, encoder, classifier = nets
    pivot = invert(sample, generator, encoder, classifier, InversionOptions(steps=0)).latent
    weights = tune(sample, generator, pivot, classifier, TuningOptions(steps=1)).weights
    with pytest.raises(ValueError, match="other parameters"):
        tuned_generator(generator, {**weights, "style.1.weight": torch.zeros(32, 32)})
    with pytest.raises(ValueError, match="other parameters"):
        tuned_generator(generator, {})
    name = next(iter(weights))
    with pytest.raises(ValueError, match=name):
        tuned_generator(generator, {**weights, name: torch.zeros(2, 2)})
    with pytest.raises(ValueError, match="NaN"):
        tuned_generator(generator, {**weights, name: torch.full_like(weights[name], float("nan"))})


def test_sampled_targets_are_truncated_and_mixed(nets):
    generator = nets[0]
    g = torch.Generator().manual_seed(0)
    options = EncoderOptions(mixing_prob=1.0)
    ws = sample_targets(generator, 8, options, g)
    assert ws.shape == (8, NUM_WS, 32)
    rows_differ = (ws[:, 0] - ws[:, -1]).abs().amax(dim=1) > 1e-6
    assert bool(rows_differ.all())  # every face mixes two styles
    unmixed = sample_targets(generator, 8, EncoderOptions(mixing_prob=0.0), g)
    assert torch.allclose(unmixed[:, 0], unmixed[:, -1])


@pytest.fixture
def model(tmp_path):
    return save_bundle(tmp_path / "m", tiny_generator(), name="tiny", classifier=_classifier())


def test_train_encoder_learns_resumes_and_lands_in_the_bundle(model, tmp_path):
    options = EncoderOptions(steps=6, batch_size=4, width=8, checkpoint_interval=3)
    work = tmp_path / "work"
    first = train_encoder(model, options, work=work)
    assert first.step == 6 and (work / CHECKPOINT).is_file()
    bundle = load_bundle(model)
    assert bundle.encoder is not None
    assert bundle.training["encoder"]["steps"] == 6
    # --steps is the total: a rerun continues from the checkpoint
    logs = []
    again = train_encoder(
        model, EncoderOptions(**{**options.__dict__, "steps": 8}), work=work, log=logs.append
    )
    assert again.step == 8 and any("continuing from step 6" in line for line in logs)


def test_train_encoder_can_start_from_another_bundles_encoder(model, tmp_path):
    options = EncoderOptions(steps=3, batch_size=2, width=8)
    train_encoder(model, options, work=tmp_path / "first")
    source = load_bundle(model).encoder
    assert source is not None
    fresh = save_bundle(tmp_path / "next", tiny_generator(), name="next", classifier=_classifier())
    # a learning rate of 0 keeps the weights it started from: those of the other encoder
    frozen = EncoderOptions(**{**options.__dict__, "steps": 1, "lr": 0.0})
    logs = []
    train_encoder(fresh, frozen, work=tmp_path / "w", start_from=model, log=logs.append)
    started = load_bundle(fresh)
    assert started.encoder is not None
    for (name, mine), theirs in zip(
        started.encoder.state_dict().items(), source.state_dict().values(), strict=True
    ):
        assert torch.equal(mine, theirs), name
    assert started.training["encoder"]["start_from"] == {"name": "tiny", "steps": 3}
    assert any("starting from the encoder of" in line for line in logs)
    # an encoder of another width cannot be the start
    wider = EncoderOptions(**{**options.__dict__, "width": 16})
    with pytest.raises(ValueError, match="another shape"):
        train_encoder(fresh, wider, work=tmp_path / "x", start_from=model)
    plain = save_bundle(tmp_path / "plain", tiny_generator(), name="plain")
    with pytest.raises(ValueError, match="no encoder to start from"):
        train_encoder(fresh, options, work=tmp_path / "y", start_from=plain)


def _redraw_error(model, picture: torch.Tensor) -> float:
    bundle = load_bundle(model)
    assert bundle.encoder is not None
    with torch.no_grad():
        drawn = bundle.generator.synthesis(bundle.encoder(picture[None]), noise_mode="const")
    return float(((drawn[0] - picture) ** 2).mean())


def test_train_encoder_learns_to_draw_back_real_pictures(tmp_path):
    # one real picture the generator does not make: a warm gradient
    folder = tmp_path / "pictures"
    folder.mkdir()
    ramp = torch.linspace(0, 1, 32)
    picture = torch.stack(
        [torch.full((32, 32), 0.8), ramp[:, None] * ramp, (0.2 * ramp).expand(32, 32)]
    )
    Image.fromarray((picture.permute(1, 2, 0) * 255).round().byte().numpy()).save(folder / "a.png")
    picture = picture * 2 - 1
    errors = {}
    for real in (0, 4):
        model = save_bundle(
            tmp_path / f"m{real}", tiny_generator(), name="t", classifier=_classifier()
        )
        options = EncoderOptions(steps=25, batch_size=2, width=8, lr=3e-3, real_batch=real)
        train_encoder(model, options, work=tmp_path / f"w{real}", data=str(folder))
        errors[real] = _redraw_error(model, picture)
        assert load_bundle(model).training["encoder"]["options"]["real_batch"] == real
    assert errors[4] < 0.8 * errors[0]
    with pytest.raises(ValueError, match="not a folder"):
        train_encoder(model, options, work=tmp_path / "x", data=str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match="real_batch"):
        EncoderOptions(real_batch=-1)


def test_bundle_refuses_an_encoder_for_another_generator(tmp_path):
    generator = tiny_generator()
    wrong = Encoder(EncoderConfig(32, 32, NUM_WS + 1, width=8, max_channels=32))
    root = save_bundle(tmp_path / "m", generator, name="x")
    # a hand-made bundle.json naming an encoder of the wrong shape
    meta = json.loads((root / "bundle.json").read_text())
    meta["networks"]["encoder"] = {"config": wrong.config.to_dict(), "file": "encoder.safetensors"}
    (root / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="encoder's num_ws"):
        load_bundle(root)


def test_cli_encoder(model, tmp_path, capsys):
    status = train_main(
        ["encoder", "--model", str(model), "--steps", "2", "--batch", "2", "--quiet"]
    )
    assert status == 0
    assert "trained the encoder to step 2" in capsys.readouterr().err
    other = save_bundle(tmp_path / "other", tiny_generator(), name="o", classifier=_classifier())
    argv = ["encoder", "--model", str(other), "--steps", "1", "--batch", "2", "--quiet"]
    assert train_main([*argv, "--start-from", str(model)]) == 0
    assert load_bundle(other).training["encoder"]["start_from"]["name"] == "tiny"
    plain = save_bundle(tmp_path / "plain", tiny_generator(), name="plain")
    assert train_main(["encoder", "--model", str(plain), "--steps", "1", "--quiet"]) == 2
    assert "no classifier" in capsys.readouterr().err
    # a bundle without a classifier gets the annotator it is given, with the encoder
    # (nfe-train all trains the encoder before the attributes stage puts one there)
    run = tmp_path / "annotator"
    run.mkdir()
    annotator = _classifier()
    (run / "classifier.json").write_text(json.dumps(annotator.config.to_dict()))
    save_file(annotator.state_dict(), str(run / "classifier.safetensors"))
    argv = ["encoder", "--model", str(plain), "--steps", "1", "--batch", "2", "--quiet"]
    assert train_main([*argv, "--classifier", str(run)]) == 0
    trained = load_bundle(plain)
    assert trained.encoder is not None and trained.classifier is not None
    for (name, mine), theirs in zip(
        trained.classifier.state_dict().items(), annotator.state_dict().values(), strict=True
    ):
        assert torch.equal(mine, theirs), name
    assert train_main([*argv, "--classifier", str(tmp_path / "nothing")]) == 2
    assert "not a classifier run folder" in capsys.readouterr().err
    # real pictures beside the samples: a folder of them, or the procedural faces
    folder = tmp_path / "pictures"
    folder.mkdir()
    Image.new("RGB", (48, 40), (200, 90, 60)).save(folder / "a.png")
    argv = ["encoder", "--model", str(model), "--steps", "3", "--batch", "2", "--quiet"]
    assert train_main([*argv, "--real-batch", "2", "--data", str(folder)]) == 0
    assert load_bundle(model).training["encoder"]["options"]["real_batch"] == 2
    assert train_main([*argv, "--steps", "4", "--real-batch", "1"]) == 0
    assert train_main([*argv, "--real-batch", "-1"]) == 2
    assert "real_batch must be 0 or more" in capsys.readouterr().err
    assert train_main([*argv, "--real-batch", "1", "--data", str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err

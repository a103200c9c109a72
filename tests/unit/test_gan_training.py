"""GAN training: losses, config, data order, `nfe-train gan` runs, checkpoints and resume."""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import zipfile

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open
from torch import nn

from nfe_core.bundle import load_bundle
from tests.tiny import TINY_TRAINING
from training.cli import main
from training.gan import losses
from training.gan.checkpoint import CheckpointError, load_checkpoint
from training.gan.config import TrainConfig, load_overrides
from training.gan.data import StepBatchSampler, step_positions
from training.gan.loop import Trainer
from training.gan.run_folder import RunFolder, read_losses
from training.gan.train import TrainingCancelled, TrainOptions, train_gan

TINY = {**TINY_TRAINING, "checkpoint_interval": 2, "sample_interval": 2}


@pytest.fixture
def tiny(tmp_path):
    """Path of a JSON config for a tiny, fast network."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


def gan(out, config, *extra, steps=3, data="synthetic"):
    args = ["gan", "--data", str(data), "--size", "32", "--steps", str(steps), "--out", str(out)]
    return main([*args, "--config", str(config), "--device", "cpu", "--quiet", *extra])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# --------------------------------------------------------------------------------------------
# losses


def test_logistic_losses_are_softplus_by_hand():
    real = torch.tensor([[2.0], [-1.0], [0.5]])
    fake = torch.tensor([[-3.0], [0.0], [1.5]])
    soft = lambda x: math.log1p(math.exp(x))  # noqa: E731
    want_d = sum(soft(-r) for r in (2.0, -1.0, 0.5)) / 3 + sum(soft(f) for f in (-3, 0, 1.5)) / 3
    assert losses.d_logistic_loss(real, fake).item() == pytest.approx(want_d, rel=1e-6)
    want_g = sum(soft(-f) for f in (-3, 0, 1.5)) / 3
    assert losses.g_nonsaturating_loss(fake).item() == pytest.approx(want_g, rel=1e-6)
    half = losses.g_nonsaturating_loss(fake.half())
    assert half.dtype == torch.float32


def test_r1_of_a_linear_discriminator_is_its_weight_norm_squared():
    torch.manual_seed(0)
    d = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 1))
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    penalty = losses.r1_penalty(d(x), x)
    assert penalty.item() == pytest.approx(d[1].weight.square().sum().item(), rel=1e-5)
    penalty.backward()  # differentiable (create_graph): d/dw |w|^2 = 2w
    assert torch.allclose(d[1].weight.grad, 2 * d[1].weight, rtol=1e-5)
    lazy = losses.lazy_r1_loss(torch.tensor(3.0), gamma=10.0, interval=16)
    assert lazy.item() == pytest.approx(3.0 * 10 / 2 * 16)


def test_lazy_adam_hyper_and_ema():
    lr, betas = losses.lazy_adam_hyper(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17) and betas == pytest.approx((0.0, 0.99 ** (16 / 17)))
    # after half_life images the old weights count half
    beta = losses.ema_beta(8, 800.0, images_seen=10**9, rampup=None)
    assert beta ** (800 / 8) == pytest.approx(0.5)
    assert losses.ema_beta(8, 800.0, images_seen=160, rampup=0.05) == pytest.approx(0.5)
    assert losses.ema_beta(8, 0.0, images_seen=160, rampup=None) == 0.0
    ema, model = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    with torch.no_grad():
        ema.weight.fill_(1.0)
        model.weight.fill_(3.0)
        model.running_mean.fill_(7.0)
    losses.ema_update(ema, model, beta=0.75)
    assert torch.allclose(ema.weight, torch.full((2,), 1.5))
    assert torch.equal(ema.running_mean, model.running_mean)


# --------------------------------------------------------------------------------------------
# config and data order


def test_config_defaults_overrides_and_round_trip():
    config = TrainConfig.for_size(64)
    assert config.resolution == 64 and config.r1_gamma == 10.0 and config.batch_size == 8
    small = TrainConfig.for_size(32, TINY)
    assert small.generator.channels == (32, 32, 16, 8) and small.generator.z_dim == 32
    assert small.generator.mapping_lr_mul == 0.01  # untouched fields keep their defaults
    assert small.batch_size == 4 and small.r1_interval == 2
    assert TrainConfig.from_dict(json.loads(json.dumps(small.to_dict()))) == small


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"batch": 3}, "unknown setting 'batch'"),
        ({"batch_size": 0}, "batch_size"),
        ({"amp": "fp8"}, "amp"),
        ({"betas": [0.0]}, "betas"),
        ({"generator": {"channels": [8]}}, "generator"),
        ({"generator": {"resolution": 64, "channels": [8, 8, 8, 8, 8]}}, "--size is 32"),
        ({"generator": {"widths": [8]}}, "widths"),
    ],
)
def test_config_rejects_bad_settings(overrides, words):
    with pytest.raises(ValueError, match="config") as info:
        TrainConfig.for_size(32, overrides)
    assert words in str(info.value)


def test_config_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError, match=r"bad\.json: not valid JSON"):
        load_overrides(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        load_overrides(bad)


def test_data_order_is_a_function_of_seed_and_step():
    def batches(start, stop, rank=0, world=1, seed=3):
        s = StepBatchSampler(10, seed, 4, start=start, stop=stop, rank=rank, world_size=world)
        return list(s)

    whole = batches(0, 6)
    assert batches(3, 6) == whole[3:]  # a resumed run continues the same order
    assert batches(0, 6) == whole and batches(0, 6, seed=4) != whole
    epoch0 = [i for b in whole for i in b][:10]
    assert sorted(epoch0) == list(range(10))  # each epoch visits every item once
    ranks = [batches(0, 6, rank=r, world=2) for r in (0, 1)]
    assert [a + b for a, b in zip(*ranks, strict=True)] == whole  # ranks split each batch
    assert list(step_positions(2, 4, 1, 2)) == [10, 11]
    with pytest.raises(ValueError, match="multiple"):
        StepBatchSampler(10, 0, 5, start=0, stop=1, world_size=2)


# --------------------------------------------------------------------------------------------
# runs


def test_a_short_run_writes_everything_and_a_loadable_bundle(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert gan(out, tiny) == 0
    assert "trained" in capsys.readouterr().err
    options = json.loads((out / "options.json").read_text())
    assert options["config"]["generator"]["channels"] == [32, 32, 16, 8]
    assert options["seed"] == 0 and "torch" in options["versions"]
    rows = read_losses(out / "losses.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    for row in rows:
        for key in ("d_loss", "g_loss", "real_logit", "fake_logit"):
            assert math.isfinite(float(row[key]))
    assert rows[0]["r1"] and not rows[1]["r1"] and rows[2]["r1"]  # lazy: steps 0 and 2
    names = sorted(p.name for p in (out / "samples").iterdir())
    assert names == ["step_000000.png", "step_000002.png", "step_000003.png"]
    with Image.open(out / "samples" / "step_000003.png") as im:
        assert im.size == (2 * 32 + 2, 2 * 32 + 2)  # 4 faces, 2 x 2 with a 2 px gap
    state = torch.load(out / "checkpoints" / "latest.pt", weights_only=True)
    assert state["step"] == 3 and state["images_seen"] == 12
    assert load_checkpoint(out / "checkpoints" / "latest.pt")["config"] == state["config"]
    bundle = load_bundle(out / "bundle")
    assert bundle.discriminator is not None
    assert bundle.meta["training"]["steps"] == 3 and bundle.meta["training"]["seed"] == 0
    assert bundle.generator.w_avg.abs().sum() > 0
    image = bundle.generator(torch.randn(2, 32))
    assert image.shape == (2, 3, 32, 32) and torch.isfinite(image).all()
    # the bundle's generator is the EMA one
    assert torch.equal(bundle.generator.style[1].weight, state["generator_ema"]["style.1.weight"])


def test_resume_after_ctrl_c_repeats_the_uninterrupted_losses_exactly(
    tmp_path, tiny, capsys, monkeypatch
):
    assert gan(tmp_path / "whole", tiny, steps=4) == 0
    original = Trainer.train_step

    def interrupted(self, real):
        if self.step == 1:  # Ctrl+C arrives in the middle of the second step
            signal.raise_signal(signal.SIGINT)
        return original(self, real)

    monkeypatch.setattr(Trainer, "train_step", interrupted)
    out = tmp_path / "cut"
    capsys.readouterr()
    assert gan(out, tiny, steps=4) == 130
    assert one_error_line(capsys) == "error: cancelled (checkpoint saved at step 2)"
    assert load_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 2
    assert not (out / "bundle").exists()
    monkeypatch.setattr(Trainer, "train_step", original)

    assert gan(out, tiny, "--resume", steps=4) == 0
    whole, cut = read_losses(tmp_path / "whole" / "losses.csv"), read_losses(out / "losses.csv")
    assert [r["step"] for r in cut] == ["1", "2", "3", "4"]
    for a, b in zip(whole, cut, strict=True):  # bit for bit: repr of the float32 values
        assert [a[k] for k in ("d_loss", "g_loss", "r1", "real_logit", "fake_logit")] == [
            b[k] for k in ("d_loss", "g_loss", "r1", "real_logit", "fake_logit")
        ]
    a = torch.load(tmp_path / "whole" / "checkpoints" / "latest.pt", weights_only=True)
    b = torch.load(out / "checkpoints" / "latest.pt", weights_only=True)
    for key in ("generator", "generator_ema", "discriminator"):
        assert all(torch.equal(a[key][n], b[key][n]) for n in a[key])
    options = json.loads((out / "options.json").read_text())
    assert [s["from_step"] for s in options["sessions"]] == [0, 2]


def test_a_compact_checkpoint_continues_the_run_in_a_new_folder(tmp_path, tiny, capsys):
    assert gan(tmp_path / "first", tiny, steps=2) == 0
    compact = tmp_path / "resume.safetensors"
    assert main(["compact", str(tmp_path / "first"), "--out", str(compact)]) == 0
    assert "MB" in capsys.readouterr().err
    full = tmp_path / "first" / "checkpoints" / "latest.pt"
    assert compact.stat().st_size < 0.6 * full.stat().st_size
    assert not zipfile.is_zipfile(compact)  # safetensors, not a torch.save pickle
    with safe_open(str(compact), "pt") as stream:
        assert stream.metadata()["format"] == "nfe-gan-compact-checkpoint"
        tensors = [stream.get_tensor(k) for k in stream.keys()]  # noqa: SIM118
        tree = json.loads(stream.metadata()["tree"])
    assert any(t.dtype == torch.float16 for t in tensors)
    assert all(t.numel() == 1 for t in tensors if t.dtype == torch.float32)  # Adam's steps
    assert '"exp_avg"' not in json.dumps(tree) and '"exp_avg_sq"' in json.dumps(tree)
    expanded = load_checkpoint(compact)
    assert expanded["generator"]["w_avg"].dtype == torch.float32
    original = load_checkpoint(full)
    for slot, was in zip(
        expanded["g_optim"]["state"].values(), original["g_optim"]["state"].values(), strict=True
    ):
        assert torch.equal(slot["step"], was["step"])  # step counts are not rounded
        assert slot["exp_avg"].shape == was["exp_avg"].shape
        assert torch.allclose(slot["exp_avg_sq"], was["exp_avg_sq"], rtol=1e-2, atol=1e-6)

    assert gan(tmp_path / "second", tiny, "--start-from", str(compact), steps=4) == 0
    assert load_checkpoint(tmp_path / "second" / "checkpoints" / "latest.pt")["step"] == 4
    assert [r["step"] for r in read_losses(tmp_path / "second" / "losses.csv")] == ["3", "4"]
    capsys.readouterr()
    assert gan(tmp_path / "third", tiny, "--start-from", str(compact), "--seed", "5") == 2
    assert "--seed" in one_error_line(capsys)
    assert gan(tmp_path / "second", tiny, "--resume", "--start-from", str(compact)) == 2
    assert "give one" in one_error_line(capsys)
    # a new run from the checkpoint may retune the optimisation, not the networks or batch
    retuned = tmp_path / "retuned.json"
    retuned.write_text(json.dumps({**TINY, "r1_gamma": 0.5, "g_lr": 0.001}))
    assert gan(tmp_path / "fourth", retuned, "--start-from", str(compact), steps=3) == 0
    saved = load_checkpoint(tmp_path / "fourth" / "checkpoints" / "latest.pt")
    config = saved["config"]
    assert (config["r1_gamma"], config["g_lr"]) == (0.5, 0.001)
    # the optimiser goes on at the new rate, not the one its loaded state was saved with
    assert {g["lr"] for g in saved["g_optim"]["param_groups"]} == {0.001}
    d_lr = losses.lazy_adam_hyper(config["d_lr"], config["betas"], config["r1_interval"])[0]
    assert [g["lr"] for g in saved["d_optim"]["param_groups"]] == [pytest.approx(d_lr)]
    capsys.readouterr()
    wider = tmp_path / "wider.json"
    wider.write_text(json.dumps({**TINY, "batch_size": 2 * TINY["batch_size"]}))
    assert gan(tmp_path / "fifth", wider, "--start-from", str(compact), steps=3) == 2
    assert "batch_size would change" in one_error_line(capsys)


def test_should_stop_and_keyboard_interrupt_save_a_checkpoint(tmp_path, tiny):
    options = TrainOptions(
        data="synthetic", size=32, steps=5, out=tmp_path / "a", config_file=tiny, device="cpu"
    )
    calls = []
    with pytest.raises(TrainingCancelled) as info:
        train_gan(options, should_stop=lambda: calls.append(1) or len(calls) >= 3)
    assert (info.value.step, info.value.saved) == (3, True)
    assert load_checkpoint(tmp_path / "a" / "checkpoints" / "latest.pt")["step"] == 3

    def progress(done, total):  # KeyboardInterrupt between steps (no CLI handler)
        if done == 4:  # after step 1 (batch 4)
            raise KeyboardInterrupt

    options = TrainOptions(
        data="synthetic", size=32, steps=5, out=tmp_path / "b", config_file=tiny, device="cpu"
    )
    with pytest.raises(TrainingCancelled, match="checkpoint saved at step 1"):
        train_gan(options, progress=progress)
    assert load_checkpoint(tmp_path / "b" / "checkpoints" / "latest.pt")["step"] == 1


def test_dry_run_checks_and_writes_nothing(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert gan(out, tiny, "--dry-run", steps=100) == 0
    text = capsys.readouterr().out
    assert "dry run: would start" in text and "(4, 3, 32, 32)" in text
    assert not out.exists()


def test_folder_of_pictures(tmp_path, tiny):
    pictures = tmp_path / "pics"
    (pictures / "sub").mkdir(parents=True)
    for i, size in enumerate([(40, 30), (32, 32), (64, 80), (33, 50), (90, 90)]):
        folder = pictures / "sub" if i % 2 else pictures
        Image.new("RGB", size, (40 * i, 200 - 30 * i, 90)).save(folder / f"p{i}.png")
    config = tmp_path / "workers.json"
    config.write_text(json.dumps({**TINY, "num_workers": 1}))
    out = tmp_path / "run"
    assert gan(out, config, data=pictures, steps=2) == 0
    assert (out / "bundle" / "bundle.json").is_file()
    training = json.loads((out / "bundle" / "bundle.json").read_text())["training"]
    assert training["data"] == str(pictures.resolve())


def test_run_folder_rules(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert gan(out, tiny, steps=2) == 0
    capsys.readouterr()
    assert gan(out, tiny, steps=2) == 2
    assert "pass --resume" in one_error_line(capsys)
    assert gan(out, tiny, "--resume", steps=2) == 0  # already there: nothing to train
    assert "nothing to train" in capsys.readouterr().err
    args = ["gan", "--data", "synthetic", "--size", "64", "--steps", "3", "--out", str(out)]
    assert main([*args, "--resume", "--device", "cpu", "--quiet"]) == 2
    assert "--size 32" in one_error_line(capsys)
    lr = tmp_path / "lr.json"
    lr.write_text(json.dumps({**TINY, "g_lr": 0.01}))
    assert gan(out, lr, "--resume", steps=3) == 2
    assert "g_lr would change" in one_error_line(capsys)
    # one training at a time: a --resume while another still writes to the folder is refused
    # (and writes nothing); once that one ends, it goes on
    before = (out / "losses.csv").read_bytes(), (out / "checkpoints" / "latest.pt").read_bytes()
    with RunFolder(out).hold():
        assert gan(out, tiny, "--resume", steps=4) == 2
        error = one_error_line(capsys)
        assert "another training is writing to this folder" in error and f"{os.getpid()}" in error
        assert (out / "losses.csv").read_bytes() == before[0]
        assert (out / "checkpoints" / "latest.pt").read_bytes() == before[1]
    assert gan(out, tiny, "--resume", steps=4) == 0
    assert read_losses(out / "losses.csv")[-1]["step"] == "4"
    assert gan(tmp_path / "fresh", tiny, steps=1) == 0  # a new run's folder takes the lock file


@pytest.mark.parametrize(
    ("given", "flags", "words"),
    [
        ({"--size": "48"}, [], "power of two"),
        ({"--size": "2048"}, [], "power of two"),
        ({"--steps": "0"}, [], "at least 1"),
        ({"--data": "{missing}"}, [], "not a folder"),
        ({"--data": "{empty}"}, [], "no pictures found"),
        ({"--config": "{bad_json}"}, [], "not valid JSON"),
        ({"--config": "{unknown_key}"}, [], "unknown setting 'lr'"),
        ({"--out": "{not_a_run}"}, [], "not empty"),
        ({}, ["--resume"], "no checkpoint to resume from"),
        ({"--device": "nonsense"}, [], "invalid choice"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, capsys, given, flags, words):
    (tmp_path / "empty").mkdir()
    (tmp_path / "not_a_run").mkdir()
    (tmp_path / "not_a_run" / "notes.txt").write_text("mine")
    (tmp_path / "bad_json").write_text("{")
    (tmp_path / "unknown_key").write_text('{"lr": 1}')
    names = ("missing", "empty", "bad_json", "unknown_key", "not_a_run", "run")
    paths = {n: str(tmp_path / n) for n in names}
    options = {"--data": "synthetic", "--size": "32", "--steps": "2", "--out": "{run}", **given}
    argv = ["gan", *(x.format(**paths) for kv in options.items() for x in kv), *flags]
    assert main([*argv, "--quiet"]) == 2
    assert words in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_help_explains_the_command(capsys):
    assert main(["gan", "--help"]) == 0
    text = capsys.readouterr().out
    for words in ("--resume", "--dry-run", "torchrun", "bundle", "Ctrl+C", "--config"):
        assert words in text


class Evil:
    """Anything a weights-only load must refuse to rebuild."""


def test_a_checkpoint_that_needs_unpickling_is_refused(tmp_path):
    path = tmp_path / "latest.pt"
    torch.save({"format": "nfe-gan-checkpoint", "obj": Evil()}, path)
    with pytest.raises(CheckpointError, match="not a plain-data checkpoint"):
        load_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"latest\.pt"):
        load_checkpoint(path)


def test_trainer_step_changes_both_networks():
    config = TrainConfig.for_size(32, {**TINY, "mixing_prob": 1.0})
    trainer = Trainer(config, torch.device("cpu"), seed=1)
    g0 = [p.clone() for p in trainer.G.parameters()]
    d0 = [p.clone() for p in trainer.D.parameters()]
    result = trainer.train_step(torch.rand(4, 3, 32, 32) * 2 - 1)
    assert torch.isfinite(result.stacked()[[0, 1, 3, 4]]).all()
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters(), strict=True))
    # so early in a run the EMA's half-life ramps up from almost nothing: G_ema ~ G
    assert F.mse_loss(trainer.G_ema.style[1].weight, trainer.G.style[1].weight) < 1e-10
    assert trainer.step == 1 and trainer.images_seen == 4


# --------------------------------------------------------------------------------------------
# the detail discriminator


@pytest.mark.parametrize(
    ("box", "words"),
    [
        ([0.5, 0.5, 0.75], "inside it"),  # past the right and bottom edges
        ([0.25, 0.25], "inside it"),
        ([0.25, 0.25, 0.375], "power of two"),  # 12 px at 32
        ([0.1, 0.25, 0.5], "whole pixels"),  # 3.2 px from the left at 32
        ([0.25, 0.25, 0.125], "at least 8"),  # 4 px
    ],
)
def test_detail_box_must_be_a_square_of_whole_pixels_inside_the_image(box, words):
    with pytest.raises(ValueError, match="detail_box") as info:
        TrainConfig.for_size(32, {**TINY, "detail_box": box})
    assert words in str(info.value)


def test_detail_discriminator_works_at_the_main_ones_scale():
    big = TrainConfig.for_size(
        64,
        {"discriminator": {"channels": [128, 128, 128, 64, 32]}, "detail_box": [0.25, 0.125, 0.5]},
    )
    assert big.detail_crop == (16, 8, 32)
    detail = big.detail_discriminator
    assert detail is not None and detail.resolution == 32
    assert detail.channels == (128, 128, 64, 32)  # the main one's 8..64 px channels
    # a crop under the discriminator's smallest resolution is upsampled to it
    small = TrainConfig.for_size(32, {**TINY, "detail_box": [0.25, 0.25, 0.5]})
    assert small.detail_crop == (8, 8, 16) and small.detail_discriminator.resolution == 32
    assert TrainConfig.from_dict(json.loads(json.dumps(small.to_dict()))) == small
    assert TrainConfig.for_size(32, TINY).detail_discriminator is None


def test_the_detail_discriminator_sees_only_its_square_and_trains_with_the_rest():
    config = TrainConfig.for_size(32, {**TINY, "detail_box": [0.25, 0.25, 0.5]})
    trainer = Trainer(config, torch.device("cpu"), seed=1)
    assert trainer.D_detail is not None
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    outside = images.clone()
    outside[:, :, :8] = -1.0  # above the square
    outside[:, :, :, 24:] = 1.0  # right of it
    with torch.no_grad():
        assert torch.equal(
            trainer.D_detail(trainer.detail(images)), trainer.D_detail(trainer.detail(outside))
        )
        inside = images.clone()
        inside[:, :, 12:20, 12:20] = 0.0
        assert not torch.equal(
            trainer.D_detail(trainer.detail(images)), trainer.D_detail(trainer.detail(inside))
        )
    e0 = [p.clone() for p in trainer.D_detail.parameters()]
    g0 = [p.clone() for p in trainer.G.parameters()]
    result = trainer.train_step(torch.rand(4, 3, 32, 32) * 2 - 1)  # step 0: R1 too
    assert torch.isfinite(result.stacked()).all()
    assert all(
        not torch.equal(a, b) for a, b in zip(e0, trainer.D_detail.parameters(), strict=True)
    )
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters(), strict=True))
    state = trainer.state_dict()
    assert {"detail_discriminator", "detail_optim"} <= set(state)


def test_the_generator_answers_to_the_detail_discriminator():
    """The generator's gradient with a detail discriminator differs from without, and only
    through the square (a zero weight would leave it the same)."""

    def g_gradient(overrides: dict) -> torch.Tensor:
        trainer = Trainer(TrainConfig.for_size(32, {**TINY, **overrides}), torch.device("cpu"), 1)
        z, cross, _, _ = trainer.draw(4)
        before = [p.clone() for p in trainer.G.parameters()]
        trainer.g_step(z, cross)
        after = trainer.G.parameters()
        return torch.cat([(p - b).flatten() for p, b in zip(after, before, strict=True)])

    plain = g_gradient({})
    with_detail = g_gradient({"detail_box": [0.25, 0.25, 0.5]})
    assert not torch.allclose(plain, with_detail)


def test_a_run_adds_a_detail_discriminator_from_a_checkpoint_without_one(tmp_path, tiny, capsys):
    assert gan(tmp_path / "first", tiny, steps=2) == 0
    compact = tmp_path / "resume.safetensors"
    assert main(["compact", str(tmp_path / "first"), "--out", str(compact)]) == 0
    detail = tmp_path / "detail.json"
    detail.write_text(json.dumps({**TINY, "detail_box": [0.25, 0.25, 0.5], "detail_weight": 0.5}))
    assert gan(tmp_path / "second", detail, "--start-from", str(compact), steps=4) == 0
    saved = load_checkpoint(tmp_path / "second" / "checkpoints" / "latest.pt")
    assert saved["step"] == 4 and saved["config"]["detail_box"] == [0.25, 0.25, 0.5]
    first = load_checkpoint(tmp_path / "first" / "checkpoints" / "latest.pt")
    assert "detail_discriminator" not in first
    # the detail discriminator and its Adam go on through a compact checkpoint and --resume
    again = tmp_path / "again.safetensors"
    assert main(["compact", str(tmp_path / "second"), "--out", str(again)]) == 0
    expanded = load_checkpoint(again)
    for name, value in saved["detail_discriminator"].items():
        assert torch.allclose(expanded["detail_discriminator"][name], value, rtol=1e-2, atol=1e-3)
    assert "exp_avg" in next(iter(expanded["detail_optim"]["state"].values()))
    trainer = Trainer(TrainConfig.from_dict(saved["config"]), torch.device("cpu"), seed=0)
    trainer.load_state_dict(saved)
    for name, value in trainer.D_detail.state_dict().items():
        assert torch.equal(value, saved["detail_discriminator"][name])
    assert gan(tmp_path / "second", detail, "--resume", steps=6) == 0
    assert load_checkpoint(tmp_path / "second" / "checkpoints" / "latest.pt")["step"] == 6


def test_a_detail_discriminator_added_to_a_trained_run_starts_from_the_main_ones_layers():
    plain = Trainer(TrainConfig.for_size(32, TINY), torch.device("cpu"), seed=1)
    plain.train_step(torch.rand(4, 3, 32, 32) * 2 - 1)
    config = TrainConfig.for_size(32, {**TINY, "detail_box": [0.25, 0.25, 0.5]})
    trainer = Trainer(config, torch.device("cpu"), seed=2)
    trainer.load_state_dict({**plain.state_dict(), "config": plain.config.to_dict()})
    main, detail = plain.D.state_dict(), trainer.D_detail.state_dict()
    shared = [name for name in detail if name in main and main[name].shape == detail[name].shape]
    assert "convs.0.0.weight" in shared and "final_linear.1.weight" in shared
    assert all(torch.equal(detail[name], main[name]) for name in shared)


# --------------------------------------------------------------------------------------------
# the guide classifier


def test_clarity_is_minus_the_information_a_reading_carries_about_the_class():
    k = 4
    sure = torch.eye(k) * 50  # each face plainly its own class
    assert losses.clarity_loss({"a": sure}).item() == pytest.approx(-math.log(k), abs=1e-4)
    alike = torch.zeros(k, k)
    alike[:, 0] = 50  # every face plainly the same class: no information
    assert losses.clarity_loss({"a": alike}).item() == pytest.approx(0, abs=1e-4)
    unsure = torch.zeros(k, k)  # every reading uniform
    assert losses.clarity_loss({"a": unsure}).item() == pytest.approx(0, abs=1e-6)
    both = losses.clarity_loss({"a": sure, "b": unsure}).item()
    assert both == pytest.approx(-math.log(k), abs=1e-4)  # summed over attributes
    p = torch.tensor([[0.7, 0.3], [0.2, 0.8]])
    each = -(p * p.log()).sum(1).mean()
    mean = p.mean(0)
    expected = each + (mean * mean.log()).sum()
    assert losses.clarity_loss({"a": p.log()}).item() == pytest.approx(expected.item(), rel=1e-5)


def test_clarity_asks_the_batch_for_the_shares_it_is_given():
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])
    each = -(p * p.log()).sum(1).mean()
    mean = p.mean(0)
    shares = torch.tensor([0.5, 0.3, 0.2])
    expected = each + (mean * (mean / shares).log()).sum()  # KL(mean reading || shares)
    got = losses.clarity_loss({"a": p.log()}, {"a": shares})
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    # uniform shares: the uniform's term, shifted by log K (the same gradient)
    uniform = losses.clarity_loss({"a": p.log()}, {"a": torch.full((3,), 1 / 3)}).item()
    assert uniform == pytest.approx(losses.clarity_loss({"a": p.log()}).item() + math.log(3))
    # a batch read in the shares' own proportions pays nothing for them
    sure = torch.eye(2).repeat_interleave(torch.tensor([3, 1]), dim=0) * 50  # 3 of one, 1 other
    assert losses.clarity_loss({"b": sure}, {"b": torch.tensor([0.75, 0.25])}).item() == (
        pytest.approx(0, abs=1e-4)
    )
    # attributes without shares are measured against the uniform
    both = losses.clarity_loss({"a": p.log(), "b": sure}, {"a": shares}).item()
    alone = losses.clarity_loss({"b": sure}).item()
    assert both == pytest.approx(expected.item() + alone, rel=1e-5)


def test_mirror_composites_and_how_differently_they_read():
    image = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    left, right = losses.mirror_halves(image)
    assert left.shape == right.shape == image.shape
    assert torch.equal(left[..., :3], image[..., :3])
    assert torch.equal(left[..., 3:], image[..., :3].flip(-1))
    assert torch.equal(right[..., 3:], image[..., 3:])
    assert torch.equal(right[..., :3], image[..., 3:].flip(-1))
    mirrored = torch.cat([image[..., :3], image[..., :3].flip(-1)], dim=-1)
    both = losses.mirror_halves(mirrored)  # a mirror-symmetric face: both halves alike
    assert torch.equal(both[0], mirrored) and torch.equal(both[1], mirrored)

    same = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    assert losses.mirror_loss({"eyes": same}, {"eyes": same}).item() == pytest.approx(0, abs=1e-7)
    p = torch.tensor([[0.9, 0.1]])
    q = torch.tensor([[0.2, 0.8]])
    kl = lambda a, b: (a * (a / b).log()).sum()  # noqa: E731
    expected = (kl(p, q) + kl(q, p)) / 2
    got = losses.mirror_loss({"eyes": p.log()}, {"eyes": q.log()})
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    assert losses.mirror_loss({"eyes": q.log()}, {"eyes": p.log()}).item() == pytest.approx(
        got.item(), rel=1e-6
    )
    summed = losses.mirror_loss({"a": p.log(), "b": same}, {"a": q.log(), "b": same})
    assert summed.item() == pytest.approx(expected.item(), rel=1e-5)


def _guide_run(folder, resolution=32):
    """A classifier run folder ('nfe-train classifier' layout) holding a tiny classifier."""
    from safetensors.torch import save_file

    from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig

    torch.manual_seed(3)
    attributes = (("hair", ("black", "blonde", "red")), ("glasses", ("false", "true")))
    model = AttributeClassifier(
        ClassifierConfig(resolution=resolution, attributes=attributes, width=4, depth=2)
    )
    folder.mkdir()
    (folder / "classifier.json").write_text(json.dumps(model.config.to_dict()))
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        folder / "classifier.safetensors",
    )
    return folder


def _g_change(settings: dict, guide, shares=None) -> torch.Tensor:
    """How one generator step of a tiny trainer with config ``settings`` (and ``guide``,
    ``shares``) changes the generator's parameters, flattened."""
    config = TrainConfig.for_size(32, {**TINY, **settings})
    trainer = Trainer(config, torch.device("cpu"), 1, guide=guide, shares=shares)
    z, cross, _, _ = trainer.draw(4)
    before = [p.clone() for p in trainer.G.parameters()]
    trainer.g_step(z, cross)
    return torch.cat(
        [(p - b).flatten() for p, b in zip(trainer.G.parameters(), before, strict=True)]
    )


def test_the_generator_answers_to_its_guide(tmp_path):
    from training.classifier.train import load_classifier

    guide = load_classifier(_guide_run(tmp_path / "guide"))
    unguided = _g_change({"guide_weight": 0.0}, None)
    assert not torch.allclose(unguided, _g_change({"guide_weight": 5.0}, guide))
    assert all(not p.requires_grad for p in guide.parameters())  # the guide stays as it is
    with pytest.raises(ValueError, match="guide"):
        Trainer(TrainConfig.for_size(32, {**TINY, "guide_weight": 1.0}), torch.device("cpu"), 1)
    # the batch asked for the data's class shares instead of the uniform: another step
    uniform = _g_change({"guide_weight": 5.0}, guide)
    asked = _g_change({"guide_weight": 5.0}, guide, {"hair": [0.8, 0.1, 0.1]})
    assert not torch.allclose(uniform, asked)
    with pytest.raises(ValueError, match="shares of hair: 2 given, the guide reads 3"):
        _g_change({"guide_weight": 5.0}, guide, {"hair": [0.5, 0.5]})
    with pytest.raises(ValueError, match="guide_shares"):
        TrainConfig.for_size(32, {**TINY, "guide_shares": "even"})


def test_the_mirror_term_asks_the_guide_to_read_both_halves_alike(tmp_path):
    from training.classifier.train import load_classifier

    guide = load_classifier(_guide_run(tmp_path / "guide"))
    guided = {"guide_weight": 0.5}
    plain = _g_change(guided, guide)
    no_weight = _g_change({**guided, "mirror_attributes": ["hair"]}, guide)
    assert torch.equal(plain, no_weight)  # weight 0: no term
    mirrored = {**guided, "mirror_weight": 5.0, "mirror_attributes": ["hair"]}
    assert not torch.allclose(plain, _g_change(mirrored, guide))
    with pytest.raises(ValueError, match=r"mirror_attributes \['eyes'\] are not read"):
        Trainer(
            TrainConfig.for_size(
                32,
                {**TINY, "guide_weight": 0.5, "mirror_weight": 1, "mirror_attributes": ["eyes"]},
            ),
            torch.device("cpu"),
            1,
            guide=guide,
        )
    for settings in (
        {"mirror_weight": 1.0},  # no attributes
        {"mirror_weight": 1.0, "mirror_attributes": ["hair"], "guide_weight": 0},  # no guide
    ):
        with pytest.raises(ValueError, match="mirror_weight needs"):
            TrainConfig.for_size(32, {**TINY, "guide_weight": 0.5, **settings})
    with pytest.raises(ValueError, match="mirror_attributes: expected a list of distinct"):
        TrainConfig.for_size(32, {**TINY, "mirror_attributes": ["hair", "hair"]})
    config = TrainConfig.for_size(
        32, {**TINY, "guide_weight": 0.5, "mirror_weight": 1, "mirror_attributes": ["hair"]}
    )
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_a_guided_run_keeps_its_guide_through_checkpoints(tmp_path, capsys):
    guide = _guide_run(tmp_path / "guide")
    guided = tmp_path / "guided.json"
    guided.write_text(json.dumps({**TINY, "guide_weight": 0.5}))
    run = tmp_path / "run"
    # a guide weight needs a guide, and a guide a weight
    assert gan(run, guided, steps=2) == 2
    assert "--guide" in one_error_line(capsys)
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(TINY))
    assert gan(run, plain, "--guide", str(guide), steps=2) == 2
    assert "guide_weight" in one_error_line(capsys)
    assert gan(run, guided, "--guide", str(tmp_path), steps=2) == 2
    assert "not a classifier run folder" in one_error_line(capsys)
    wide = _guide_run(tmp_path / "wide", resolution=64)
    assert gan(run, guided, "--guide", str(wide), steps=2) == 2
    assert "64 px" in one_error_line(capsys)

    assert gan(run, guided, "--guide", str(guide), "--dry-run", steps=2) == 0
    assert (
        "guided by a classifier of hair, glasses (weight 0.5; batch toward uniform class shares)"
    ) in capsys.readouterr().out
    shared = tmp_path / "shared.json"
    shared.write_text(json.dumps({**TINY, "guide_weight": 0.5, "guide_shares": "data"}))
    assert gan(run, shared, "--guide", str(guide), "--dry-run", steps=2) == 0
    # the procedural faces are labelled with glasses; nothing in the data is called "hair"
    assert "batch toward the data's class shares of glasses)" in capsys.readouterr().out
    unlabelled = tmp_path / "pictures"
    unlabelled.mkdir()
    for i in range(2):
        Image.new("RGB", (40, 40), (30 * i, 90, 200)).save(unlabelled / f"{i}.png")
    assert gan(run, shared, "--guide", str(guide), data=str(unlabelled), steps=2) == 2
    assert 'guide_shares "data" needs labelled training data' in one_error_line(capsys)
    mirrored = tmp_path / "mirrored.json"
    mirrored.write_text(
        json.dumps({**TINY, "guide_weight": 0.5, "mirror_weight": 2, "mirror_attributes": ["hair"]})
    )
    assert gan(run, mirrored, "--guide", str(guide), "--dry-run", steps=2) == 0
    assert "; mirror term on hair (weight 2)" in capsys.readouterr().out
    assert gan(run, guided, "--guide", str(guide), steps=2) == 0
    capsys.readouterr()
    saved = load_checkpoint(run / "checkpoints" / "latest.pt")
    weights = saved["guide"]["weights"]
    from safetensors.torch import load_file

    for name, value in load_file(guide / "classifier.safetensors").items():
        assert torch.equal(weights[name], value)
    # --resume goes on with the checkpoint's guide, and takes no other
    assert gan(run, guided, "--resume", "--guide", str(guide), steps=3) == 2
    assert "leave out --guide" in one_error_line(capsys)
    assert gan(run, guided, "--resume", steps=3) == 0
    # so does a run begun from a compact checkpoint
    compact = tmp_path / "resume.safetensors"
    assert main(["compact", str(run), "--out", str(compact)]) == 0
    assert gan(tmp_path / "next", guided, "--start-from", str(compact), steps=4) == 0
    after = load_checkpoint(tmp_path / "next" / "checkpoints" / "latest.pt")
    assert after["step"] == 4 and set(after["guide"]["weights"]) == set(weights)


def test_probe_loss_is_the_kl_of_the_prediction_from_the_reading():
    same = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    assert losses.probe_loss({"a": same}, {"a": same}).item() == pytest.approx(0, abs=1e-7)
    r = torch.tensor([[0.9, 0.1], [0.3, 0.7]])
    p = torch.tensor([[0.6, 0.4], [0.5, 0.5]])
    expected = (r * (r / p).log()).sum(1).mean()
    got = losses.probe_loss({"a": r.log()}, {"a": p.log()})
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    both = losses.probe_loss({"a": r.log(), "b": same}, {"a": p.log(), "b": same})
    assert both.item() == pytest.approx(expected.item(), rel=1e-5)  # summed over attributes
    # minimised over the prediction it fits the reading
    logits = torch.zeros(2, 2, requires_grad=True)
    optim = torch.optim.Adam([logits], lr=0.1)
    for _ in range(300):
        optim.zero_grad()
        losses.probe_loss({"a": r.log()}, {"a": logits}).backward()
        optim.step()
    assert torch.allclose(logits.softmax(1), r, atol=1e-3)


def test_the_linear_term_fits_a_probe_and_steers_the_generator_toward_it(
    tmp_path, monkeypatch, capsys
):
    from training.classifier.train import load_classifier
    from training.gan.loop import LatentProbe

    monkeypatch.setattr(Trainer, "PROBE_FIT_FACES", 512)
    guide = load_classifier(_guide_run(tmp_path / "guide"))
    guided = {"guide_weight": 0.5}
    assert not torch.allclose(
        _g_change(guided, guide), _g_change({**guided, "linear_weight": 5.0}, guide)
    )
    # the term reaches the mapping network too: the latents move toward what the probe reads
    mapping = {}
    for weight in (0.0, 5.0):
        config = TrainConfig.for_size(32, {**TINY, **guided, "linear_weight": weight})
        trainer = Trainer(config, torch.device("cpu"), 1, guide=guide)
        z, cross, _, _ = trainer.draw(8)
        trainer.g_step(z, cross)
        mapping[weight] = torch.cat([p.flatten() for p in trainer.G.style.parameters()])
    assert not torch.allclose(mapping[0.0], mapping[5.0])
    config = TrainConfig.for_size(32, {**TINY, **guided, "linear_weight": 1.0})
    trainer = Trainer(config, torch.device("cpu"), 1, guide=guide)
    assert isinstance(trainer.probe, LatentProbe) and not trainer.probe_fitted
    z, cross, _, _ = trainer.draw(8)
    trainer.g_step(z, cross)
    assert trainer.probe_fitted
    # the fitted probe predicts the guide's readings of fresh faces better than knowing nothing
    with torch.no_grad():
        zs = torch.randn(2, 256, config.generator.z_dim, generator=torch.Generator().manual_seed(5))
        fake, ws = trainer.g_module(zs, config.generator.num_ws, None, with_ws=True)
        readings = trainer.guide(fake)
        fitted = losses.probe_loss(readings, trainer.probe(ws)).item()
        zero = losses.probe_loss(readings, {k: torch.zeros_like(v) for k, v in readings.items()})
    assert fitted < 0.8 * zero.item()
    # every step moves the probe with the generator
    before = trainer.probe.linear.weight.clone()
    z, cross, _, _ = trainer.draw(8)
    trainer.g_step(z, cross)
    assert not torch.equal(before, trainer.probe.linear.weight)
    settings = tmp_path / "linear.json"
    settings.write_text(json.dumps({**TINY, **guided, "linear_weight": 1}))
    guide_run = str(tmp_path / "guide")
    assert gan(tmp_path / "run", settings, "--guide", guide_run, "--dry-run", steps=2) == 0
    assert "; linear term (weight 1)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="linear_weight needs a guide"):
        TrainConfig.for_size(32, {**TINY, "linear_weight": 1.0})
    with pytest.raises(ValueError, match="linear_weight: expected a number of at least 0"):
        TrainConfig.for_size(32, {**TINY, **guided, "linear_weight": -1})


def test_the_probe_travels_in_the_state_and_a_state_without_one_fits_a_new_one(
    tmp_path, monkeypatch
):
    from training.classifier.train import load_classifier

    monkeypatch.setattr(Trainer, "PROBE_FIT_FACES", 256)
    guide = load_classifier(_guide_run(tmp_path / "guide"))
    linear = TrainConfig.for_size(32, {**TINY, "guide_weight": 0.5, "linear_weight": 1.0})
    first = Trainer(linear, torch.device("cpu"), 1, guide=guide)
    z, cross, z2, cross2 = first.draw(4)
    first.g_step(z, cross)
    state = copy.deepcopy(first.state_dict())
    assert set(state["probe"]) == {"linear.weight", "linear.bias"}
    noise = first.noise.get_state()
    first.g_step(z2, cross2)
    second = Trainer(linear, torch.device("cpu"), 1, guide=guide)
    second.load_state_dict(state)
    assert second.probe_fitted
    second.noise.set_state(noise)
    second.g_step(z2, cross2)
    for a, b in zip(first.G.parameters(), second.G.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(first.probe.linear.weight, second.probe.linear.weight)
    # a state saved without the linear term (an older run): the probe is fitted afresh
    plain = TrainConfig.for_size(32, {**TINY, "guide_weight": 0.5})
    older = Trainer(plain, torch.device("cpu"), 1, guide=guide).state_dict()
    assert "probe" not in older
    third = Trainer(linear, torch.device("cpu"), 1, guide=guide)
    third.load_state_dict(older)
    assert not third.probe_fitted

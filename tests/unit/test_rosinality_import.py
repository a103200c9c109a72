"""Importing rosinality stylegan2-pytorch checkpoints: the renders are the function of the weights.

The tests write checkpoints in rosinality's layout themselves and check our Generator against a
naive reference written here from rosinality's definitions (per-sample modulated weights,
upfirdn2d_native's zero insertion / pad / flipped-kernel convolution), not from our modules.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nfe_core.models import Discriminator, DiscriminatorConfig, Generator
from nfe_core.models.layers import Blur, Upsample, upfirdn2d
from nfe_core.models.rosinality import CheckpointError, import_rosinality
from tests.tiny import TINY_GENERATOR

TINY = TINY_GENERATOR
SQRT2 = math.sqrt(2)


# ---- a naive reference StyleGAN2 (rosinality semantics) on a raw state dict ----


def ref_upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int, down: int, pad: tuple[int, int]):
    """upfirdn2d_native: zero insertion, pad or crop, then a true convolution per channel."""
    p0, p1 = pad
    n, c, h, w = x.shape
    up_x = torch.zeros(n, c, h * up, w * up)
    up_x[:, :, ::up, ::up] = x
    padded = F.pad(up_x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    hh, ww = padded.shape[2:]
    padded = padded[:, :, max(-p0, 0) : hh - max(-p1, 0), max(-p0, 0) : ww - max(-p1, 0)]
    flipped = torch.flip(kernel, [0, 1])[None, None]
    out = F.conv2d(padded.reshape(n * c, 1, *padded.shape[2:]), flipped)
    return out.reshape(n, c, *out.shape[2:])[:, :, ::down, ::down]


def ref_kernel(taps=(1, 3, 3, 1)) -> torch.Tensor:
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[:, None] * k[None, :]
    return k / k.sum()


def ref_lrelu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    shape = [1, -1] + [1] * (x.ndim - 2)
    return F.leaky_relu(x + bias.view(shape), 0.2) * SQRT2


def ref_mapping(sd: dict, z: torch.Tensor, layers: int, lr_mul: float = 0.01) -> torch.Tensor:
    x = z / torch.sqrt((z**2).mean(1, keepdim=True) + 1e-8)
    for i in range(1, layers + 1):
        weight, bias = sd[f"style.{i}.weight"], sd[f"style.{i}.bias"]
        x = x @ (weight * (lr_mul / math.sqrt(weight.shape[1]))).T
        x = ref_lrelu(x, bias * lr_mul)
    return x


def ref_modconv(sd, prefix, x, style, demodulate=True, upsample=False):
    weight = sd[f"{prefix}.weight"][0]  # (out, in, k, k)
    mod_w, mod_b = sd[f"{prefix}.modulation.weight"], sd[f"{prefix}.modulation.bias"]
    s = style @ (mod_w / math.sqrt(mod_w.shape[1])).T + mod_b
    scale = 1 / math.sqrt(weight.shape[1] * weight.shape[2] ** 2)
    outs = []
    for i in range(x.shape[0]):
        w = scale * weight * s[i].view(1, -1, 1, 1)
        if demodulate:
            w = w / torch.sqrt((w**2).sum([1, 2, 3], keepdim=True) + 1e-8)
        if upsample:
            out = F.conv_transpose2d(x[i : i + 1], w.transpose(0, 1), stride=2)
            out = ref_upfirdn2d(out, sd[f"{prefix}.blur.kernel"], 1, 1, (1, 1))
        else:
            out = F.conv2d(x[i : i + 1], w, padding=weight.shape[2] // 2)
        outs.append(out)
    return torch.cat(outs)


def ref_styled(sd, prefix, x, style, noise, upsample=False):
    out = ref_modconv(sd, f"{prefix}.conv", x, style, upsample=upsample)
    out = out + sd[f"{prefix}.noise.weight"] * noise
    return ref_lrelu(out, sd[f"{prefix}.activate.bias"])


def ref_synthesis(sd: dict, ws: torch.Tensor) -> torch.Tensor:
    """ws (N, num_ws, w_dim), the checkpoint's own noise buffers -> (N, 3, R, R)."""
    n = ws.shape[0]
    x = sd["input.input"].repeat(n, 1, 1, 1)
    x = ref_styled(sd, "conv1", x, ws[:, 0], sd["noises.noise_0"])
    skip = ref_modconv(sd, "to_rgb1.conv", x, ws[:, 1], demodulate=False) + sd["to_rgb1.bias"]
    j = 0
    while f"to_rgbs.{j}.bias" in sd:
        i = 2 * j + 1
        x = ref_styled(sd, f"convs.{2 * j}", x, ws[:, i], sd[f"noises.noise_{i}"], upsample=True)
        x = ref_styled(sd, f"convs.{2 * j + 1}", x, ws[:, i + 1], sd[f"noises.noise_{i + 1}"])
        rgb = ref_modconv(sd, f"to_rgbs.{j}.conv", x, ws[:, i + 2], demodulate=False)
        up = ref_upfirdn2d(skip, sd[f"to_rgbs.{j}.upsample.kernel"], 2, 1, (2, 1))
        skip = rgb + sd[f"to_rgbs.{j}.bias"] + up
        j += 1
    return skip


# ---- checkpoints in rosinality's layout ----


def rosinality_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """g_ema for TINY with rosinality's names and shapes and random values (kernels as built)."""
    gen = torch.Generator().manual_seed(seed)
    sd = {k: v for k, v in Generator(TINY).state_dict().items() if k != "w_avg"}
    out = {}
    for key, value in sd.items():
        if key.endswith(".kernel"):
            out[key] = value.clone()
        elif key.endswith("modulation.bias"):
            out[key] = 1 + 0.2 * torch.randn(value.shape, generator=gen)
        elif key.startswith("style."):
            out[key] = torch.randn(value.shape, generator=gen) * (100 if "weight" in key else 1)
        else:
            out[key] = 0.5 * torch.randn(value.shape, generator=gen)
    return out


def write_checkpoint(path: Path, g_ema: dict | None = None, **extra) -> Path:
    g_ema = rosinality_state() if g_ema is None else g_ema
    ckpt = {
        "g": rosinality_state(seed=1),
        "d": Discriminator(DiscriminatorConfig(32, TINY.channels)).state_dict(),
        "g_ema": g_ema,
        "latent_avg": torch.randn(32, generator=torch.Generator().manual_seed(2)),
        "args": argparse.Namespace(
            size=32, latent=32, n_mlp=2, channel_multiplier=2, r1=10.0, path="/data/faces"
        ),
    }
    ckpt.update(extra)
    ckpt = {k: v for k, v in ckpt.items() if v is not None}
    torch.save(ckpt, path)
    return path


def read_checkpoint(path: Path) -> dict:
    with torch.serialization.safe_globals([argparse.Namespace]):
        return torch.load(path, map_location="cpu", weights_only=True)


def load_generator(path: Path) -> Generator:
    imported = import_rosinality(path)
    g = Generator(imported.config).eval()
    g.load_state_dict(imported.state_dict)
    return g


def test_config_args_and_w_avg_are_imported(tmp_path: Path):
    path = write_checkpoint(tmp_path / "ffhq.pt")
    imported = import_rosinality(path)
    assert imported.config == TINY
    assert imported.args["size"] == 32 and imported.args["path"] == "/data/faces"
    json.dumps(imported.args)
    latent_avg = read_checkpoint(path)["latent_avg"]
    assert torch.equal(imported.state_dict["w_avg"], latent_avg)
    assert set(imported.state_dict) == set(Generator(TINY).state_dict())


def test_mapping_matches_a_hand_computation(tmp_path: Path):
    sd = rosinality_state()
    g = load_generator(write_checkpoint(tmp_path / "a.pt", sd))
    z = torch.randn(4, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(g.mapping(z), ref_mapping(sd, z, 2), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("batch", [1, 3])
def test_renders_match_the_reference(tmp_path: Path, batch: int):
    sd = rosinality_state()
    g = load_generator(write_checkpoint(tmp_path / "a.pt", sd))
    ws = torch.randn(batch, TINY.num_ws, 32, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        ours = g.synthesis(ws, noise_mode="const")
    expected = ref_synthesis(sd, ws)
    assert ours.shape == expected.shape == (batch, 3, 32, 32)
    assert torch.allclose(ours, expected, rtol=1e-4, atol=1e-4), (ours - expected).abs().max()


def test_truncated_render_follows_latent_avg(tmp_path: Path):
    sd = rosinality_state()
    avg_a = torch.randn(32, generator=torch.Generator().manual_seed(5))
    g_a = load_generator(write_checkpoint(tmp_path / "a.pt", sd, latent_avg=avg_a))
    g_b = load_generator(write_checkpoint(tmp_path / "b.pt", sd, latent_avg=avg_a + 1))
    z = torch.randn(2, 32, generator=torch.Generator().manual_seed(6))
    w = ref_mapping(sd, z, 2)
    with torch.no_grad():
        for psi, g, avg in [(0.0, g_a, avg_a), (0.7, g_a, avg_a), (0.7, g_b, avg_a + 1)]:
            expected = ref_synthesis(sd, (avg + psi * (w - avg))[:, None].expand(-1, 8, -1))
            assert torch.allclose(g(z, psi=psi), expected, rtol=1e-4, atol=1e-4)


def test_last_to_rgb_bias_shifts_the_output_exactly(tmp_path: Path):
    sd = rosinality_state()
    g = load_generator(write_checkpoint(tmp_path / "a.pt", sd))
    delta = torch.tensor([0.5, -1.0, 2.0])
    shifted = {**sd, "to_rgbs.2.bias": sd["to_rgbs.2.bias"] + delta.view(1, 3, 1, 1)}
    g2 = load_generator(write_checkpoint(tmp_path / "b.pt", shifted))
    z = torch.randn(1, 32)
    with torch.no_grad():
        diff = g2(z) - g(z)
    for channel, delta in enumerate((0.5, -1.0, 2.0)):
        assert torch.allclose(diff[:, channel], torch.full_like(diff[:, channel], delta), atol=1e-5)


@pytest.mark.parametrize("size", [4, 7, 16])
def test_upfirdn2d_matches_the_native_definition(size: int):
    x = torch.randn(2, 5, size, size, generator=torch.Generator().manual_seed(size))
    k = ref_kernel()
    asym = torch.rand(4, 4, generator=torch.Generator().manual_seed(0))
    for kernel, up, down, pad in [
        (k * 4, 2, 1, (2, 1)),
        (k, 1, 1, (1, 1)),
        (k, 1, 2, (2, 2)),
        (asym, 2, 1, (2, 1)),
        (asym, 1, 1, (-1, 2)),
        (asym, 2, 2, (0, 3)),
    ]:
        expected = ref_upfirdn2d(x, kernel, up, down, pad)
        assert torch.allclose(upfirdn2d(x, kernel, up, down, pad), expected, atol=1e-6)
    up_layer, blur = Upsample((1, 3, 3, 1)), Blur((1, 3, 3, 1), (1, 1), upsample_factor=2)
    assert torch.allclose(up_layer(x), ref_upfirdn2d(x, k * 4, 2, 1, (2, 1)), atol=1e-6)
    assert torch.allclose(blur(x), ref_upfirdn2d(x, k * 4, 1, 1, (1, 1)), atol=1e-6)
    odd = Upsample((1, 2, 1))  # odd taps: the generic path, not the transposed convolution
    assert odd(x).shape == (2, 5, 2 * size, 2 * size)
    assert torch.allclose(odd(x), ref_upfirdn2d(x, odd.kernel, 2, 1, odd.pad), atol=1e-6)


def test_missing_latent_avg_is_computed(tmp_path: Path):
    path = write_checkpoint(tmp_path / "a.pt", latent_avg=None)
    assert "latent_avg" not in read_checkpoint(path)
    imported = import_rosinality(path)
    g = Generator(imported.config)
    g.load_state_dict(imported.state_dict)
    w_avg = imported.state_dict["w_avg"]
    assert w_avg.abs().sum() > 0
    assert torch.allclose(g.compute_w_avg(), w_avg)


def test_missing_args_and_noise_buffers_are_tolerated(tmp_path: Path):
    sd = {k: v for k, v in rosinality_state().items() if not k.startswith("noises.")}
    a = import_rosinality(write_checkpoint(tmp_path / "a.pt", sd, args=None))
    b = import_rosinality(write_checkpoint(tmp_path / "b.pt", sd, args=None))
    assert a.args == {}
    assert torch.equal(a.state_dict["noises.noise_3"], b.state_dict["noises.noise_3"])


def _touch(marker: str) -> None:
    Path(marker).write_text("code from the checkpoint ran")


class Payload:
    """Unpickling this runs _touch: what a malicious checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (_touch, (self.marker,))


def test_checkpoint_needing_other_globals_is_refused_not_run(tmp_path: Path):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Payload(control)))  # the payload works when unpickled freely
    assert control.exists()

    marker = tmp_path / "marker"
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": {"style.1.weight": Payload(marker)}, "latent_avg": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pt") as info:
        import_rosinality(path)
    assert "test_rosinality_import._touch" in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not a checkpoint"), "not a loadable PyTorch checkpoint"),
        (lambda p: p.write_bytes(b""), "not a loadable PyTorch checkpoint"),
        (lambda p: p.mkdir(), "not a file"),
        (lambda p: None, "no such file"),
        (lambda p: torch.save([torch.zeros(1)], p), "expected a dict with 'g_ema'"),
        (lambda p: torch.save({"g": rosinality_state()}, p), "no 'g_ema'"),
    ],
)
def test_unreadable_checkpoints(tmp_path: Path, make, message: str):
    path = tmp_path / "model.pt"
    make(path)
    with pytest.raises(CheckpointError, match=message) as info:
        import_rosinality(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_state_dicts_that_do_not_fit(tmp_path: Path):
    sd = rosinality_state()
    cases = [
        ({**sd, "convs.1.conv.weight": torch.zeros(1, 32, 31, 3, 3)}, "convs.1.conv.weight"),
        ({**sd, "extra.weight": torch.zeros(1)}, "lacks: \\['extra.weight'\\]"),
        ({k: v for k, v in sd.items() if k != "conv1.noise.weight"}, "lacks tensors"),
        ({k: v for k, v in sd.items() if not k.startswith("style.")}, "mapping network"),
        ({**sd, "to_rgb1.bias": torch.full((1, 3, 1, 1), math.nan)}, "finite"),
    ]
    for i, (g_ema, message) in enumerate(cases):
        path = write_checkpoint(tmp_path / f"{i}.pt", g_ema)
        with pytest.raises(CheckpointError, match=message):
            import_rosinality(path)
    path = write_checkpoint(tmp_path / "avg.pt", latent_avg=torch.zeros(5))
    with pytest.raises(CheckpointError, match="latent_avg"):
        import_rosinality(path)


def test_16px_checkpoint_is_refused(tmp_path: Path):
    sd = {
        k: v
        for k, v in rosinality_state().items()
        if not k.startswith(("to_rgbs.2", "convs.4", "convs.5", "noises.noise_5", "noises.noise_6"))
    }
    with pytest.raises(CheckpointError, match=r"unsupported architecture.*power of two"):
        import_rosinality(write_checkpoint(tmp_path / "small.pt", sd))

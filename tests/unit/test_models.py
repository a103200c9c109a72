"""StyleGAN2 generator and discriminator: shapes, determinism, latent-space operations, configs."""

from __future__ import annotations

import json

import pytest
import torch

from nfe_core.models import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from nfe_core.models.layers import ConvLayer, ModulatedConv2d
from tests.tiny import TINY_GENERATOR

TINY = TINY_GENERATOR
TINY_D = DiscriminatorConfig(32, (32, 32, 16, 8))


@pytest.fixture(scope="module")
def gen() -> Generator:
    torch.manual_seed(0)
    g = Generator(TINY).eval()
    with torch.no_grad():  # non-zero noise strengths, so that noise modes differ
        for conv in [g.conv1, *g.convs]:
            conv.noise.weight.fill_(0.5)
    g.compute_w_avg(n=2000)
    return g


def _z(n: int, seed: int = 1, dim: int = 32) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


def test_generator_shapes(gen: Generator):
    with torch.no_grad():
        assert gen(_z(3)).shape == (3, 3, 32, 32)
        assert gen.mapping(_z(3)).shape == (3, 32)
        assert gen.synthesis(torch.zeros(2, TINY.num_ws, 32)).shape == (2, 3, 32, 32)
    assert TINY.num_ws == gen.num_ws == 8


def test_64px_generator_and_discriminator_shapes():
    g = Generator(GeneratorConfig(64, (16, 16, 16, 8, 8), z_dim=16, w_dim=16, mapping_layers=1))
    d = Discriminator(DiscriminatorConfig(64, (16, 16, 16, 8, 8)))
    with torch.no_grad():
        img = g(torch.randn(2, 16))
        assert img.shape == (2, 3, 64, 64)
        assert d(img).shape == (2, 1)
    assert g.num_ws == 10


def test_discriminator_shapes_and_batches_not_divisible_by_group():
    torch.manual_seed(0)
    d = Discriminator(TINY_D)
    with torch.no_grad():
        for n in (1, 2, 3, 4, 5, 6, 8):
            out = d(torch.randn(n, 3, 32, 32))
            assert out.shape == (n, 1)
            assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        d(torch.randn(2, 3, 64, 64))


def test_discriminator_minibatch_std_sees_the_batch():
    torch.manual_seed(0)
    d = Discriminator(TINY_D)
    imgs = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        together = d(imgs)
        alone = torch.cat([d(imgs[i : i + 1]) for i in range(4)])
    assert not torch.allclose(together, alone)


def test_same_latent_same_pixels(gen: Generator):
    z = _z(2)
    with torch.no_grad():
        a, b = gen(z), gen(z)
        assert torch.equal(a, b)
        # independent of what else is in the batch (up to float rounding: other code paths)
        assert torch.allclose(gen(z[1:]), a[1:], atol=1e-5)
        assert not torch.allclose(gen(_z(2, seed=2)), a)


def test_noise_modes(gen: Generator):
    w = gen.mapping(_z(2)).detach()
    with torch.no_grad():
        const = gen.synthesis(w, "const")
        none = gen.synthesis(w, "none")
        r1 = gen.synthesis(w, "random")
        r2 = gen.synthesis(w, "random")
        s1 = gen.synthesis(w, "random", generator=torch.Generator().manual_seed(5))
        s2 = gen.synthesis(w, "random", generator=torch.Generator().manual_seed(5))
    assert not torch.allclose(const, none)
    assert not torch.allclose(r1, r2)
    assert not torch.allclose(r1, const)
    assert torch.equal(s1, s2)
    with pytest.raises(ValueError, match="noise_mode"):
        gen.synthesis(w, "fixed")  # type: ignore[arg-type]


def test_truncation_zero_gives_the_mean_face(gen: Generator):
    with torch.no_grad():
        mean_face = gen.synthesis(gen.w_avg[None])
        assert torch.allclose(gen(_z(1), psi=0.0), mean_face, atol=1e-6)
        assert torch.allclose(gen(_z(1, seed=9), psi=0.0), mean_face, atol=1e-6)
        half = gen.truncate(gen.mapping(_z(1)), 0.5)
    w = gen.mapping(_z(1)).detach()
    assert torch.allclose(half, (w + gen.w_avg) / 2, atol=1e-6)
    assert torch.equal(gen.truncate(w, 1.0), w)
    wplus = gen.to_wplus(w)
    assert torch.allclose(gen.truncate(wplus, 0.0), gen.w_avg.expand_as(wplus))


def test_compute_w_avg_is_seeded_mean_of_mapping():
    torch.manual_seed(0)
    g = Generator(TINY)
    a = g.compute_w_avg(n=500, seed=3)
    assert torch.equal(g.w_avg, a)
    assert torch.equal(g.compute_w_avg(n=500, seed=3), a)
    assert not torch.equal(g.compute_w_avg(n=500, seed=4), a)
    z = torch.randn(500, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(a, g.mapping(z).mean(0), atol=1e-5)


def test_wplus_with_identical_rows_equals_w(gen: Generator):
    w = gen.mapping(_z(2)).detach()
    wplus = gen.to_wplus(w)
    assert wplus.shape == (2, TINY.num_ws, 32)
    with torch.no_grad():
        assert torch.allclose(gen.synthesis(wplus.clone()), gen.synthesis(w), atol=1e-6)


def test_distinct_wplus_rows_matter(gen: Generator):
    w = gen.to_wplus(gen.mapping(_z(1)).detach()).clone()
    with torch.no_grad():
        base = gen.synthesis(w)
        for row in (0, TINY.num_ws - 1):
            changed = w.clone()
            changed[:, row] = gen.mapping(_z(1, seed=7))
            assert not torch.allclose(gen.synthesis(changed), base)


def test_style_mixing(gen: Generator):
    w1 = gen.mapping(_z(2, seed=1)).detach()
    w2 = gen.mapping(_z(2, seed=2)).detach()
    with torch.no_grad():
        img1, img2 = gen.synthesis(w1), gen.synthesis(w2)
        assert torch.allclose(gen.synthesis(gen.mix_styles(w1, w2, 0)), img2, atol=1e-6)
        assert torch.allclose(gen.synthesis(gen.mix_styles(w1, w2, TINY.num_ws)), img1, atol=1e-6)
        mixed = gen.mix_styles(w1, w2, 3)
    assert torch.equal(mixed[:, :3], gen.to_wplus(w1)[:, :3])
    assert torch.equal(mixed[:, 3:], gen.to_wplus(w2)[:, 3:])
    for bad in (-1, TINY.num_ws + 1):
        with pytest.raises(ValueError, match="crossover"):
            gen.mix_styles(w1, w2, bad)


def test_latent_shapes_are_checked(gen: Generator):
    with pytest.raises(ValueError, match=r"\(N, 32\)"):
        gen.mapping(torch.zeros(1, 31))
    with pytest.raises(ValueError, match=r"\(N, 8, 32\)"):
        gen.synthesis(torch.zeros(1, 7, 32))
    with pytest.raises(ValueError, match="W\\+"):
        gen.truncate(torch.zeros(32), 0.5)


def test_fused_and_unfused_modulated_conv_agree():
    torch.manual_seed(0)
    x, style = torch.randn(2, 8, 8, 8), torch.randn(2, 16)
    for kwargs in ({}, {"upsample": True}, {"downsample": True}, {"demodulate": False}):
        conv = ModulatedConv2d(8, 6, 3, 16, **kwargs)
        bias = torch.randn(6)
        outs = []
        for fused in (True, False):
            conv.fused = fused
            outs.append(conv(x, style, bias=bias))
        assert torch.allclose(outs[0], outs[1], atol=1e-5), kwargs
        conv.fused = None
        assert torch.allclose(conv(x[:1], style[:1], bias=bias), outs[0][:1], atol=1e-5)


def test_gradients_flow():
    torch.manual_seed(0)
    g, d = Generator(TINY), Discriminator(TINY_D)
    img = g(_z(3), noise_mode="random")
    d(img).sum().backward()
    for name, p in [*g.named_parameters(), *d.named_parameters()]:
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    assert g.style[1].weight.grad.abs().sum() > 0
    assert g.to_rgbs[-1].bias.grad.abs().sum() > 0


def test_r1_style_double_backward():
    torch.manual_seed(0)
    d = Discriminator(TINY_D)
    img = torch.randn(2, 3, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(d(img).sum(), img, create_graph=True)
    grad.square().sum().backward()
    assert torch.isfinite(d.convs[0][0].weight.grad).all()


def test_state_dict_uses_rosinality_names():
    keys = set(Generator(TINY).state_dict())
    for name in (
        "style.1.weight",
        "style.2.bias",
        "input.input",
        "conv1.conv.weight",
        "conv1.conv.modulation.weight",
        "conv1.noise.weight",
        "conv1.activate.bias",
        "to_rgb1.bias",
        "to_rgb1.conv.weight",
        "convs.0.conv.blur.kernel",
        "convs.5.activate.bias",
        "to_rgbs.0.upsample.kernel",
        "to_rgbs.2.conv.modulation.bias",
        "noises.noise_0",
        "noises.noise_6",
        "w_avg",
    ):
        assert name in keys, name
    sd = Generator(TINY).state_dict()
    assert sd["conv1.conv.weight"].shape == (1, 32, 32, 3, 3)
    assert sd["to_rgb1.bias"].shape == (1, 3, 1, 1)
    assert sd["noises.noise_6"].shape == (1, 1, 32, 32)
    assert not any(k.startswith("convs.6") or k == "noises.noise_7" for k in sd)
    dkeys = set(Discriminator(TINY_D).state_dict())
    for name in (
        "convs.0.0.weight",
        "convs.1.conv1.0.weight",
        "convs.1.conv2.0.kernel",
        "convs.1.skip.1.weight",
        "final_conv.0.weight",
        "final_linear.1.bias",
    ):
        assert name in dkeys, name


def test_config_round_trip_and_json():
    for cfg in (TINY, GeneratorConfig.default(256), DiscriminatorConfig.default(128), TINY_D):
        d = json.loads(json.dumps(cfg.to_dict()))
        assert isinstance(d["channels"], list)
        assert type(cfg).from_dict(d) == cfg
    assert GeneratorConfig.from_dict({"resolution": 32, "channels": [8, 8, 8, 8]}).z_dim == 512


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"resolution": 48}, "power of two"),
        ({"resolution": 16, "channels": [8, 8, 8]}, "power of two"),
        ({"resolution": 2048, "channels": [8] * 10}, "power of two"),
        ({"resolution": True}, "power of two"),
        ({"channels": [32, 32, 16]}, "one count per resolution"),
        ({"channels": [32, 32, 16, 0]}, "positive"),
        ({"channels": "wide"}, "list of integers"),
        ({"z_dim": 0}, "z_dim"),
        ({"w_dim": 3.5}, "w_dim"),
        ({"mapping_layers": 0}, "mapping_layers"),
        ({"mapping_lr_mul": -1}, "mapping_lr_mul"),
        ({"blur_kernel": [1]}, "blur_kernel"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_bad_generator_configs(changes: dict, message: str):
    with pytest.raises(ValueError, match=message):
        GeneratorConfig.from_dict({**TINY.to_dict(), **changes})


def test_bad_config_inputs():
    with pytest.raises(ValueError, match="missing keys"):
        GeneratorConfig.from_dict({"resolution": 32})
    with pytest.raises(ValueError, match="JSON object"):
        GeneratorConfig.from_dict([32])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="power of two"):
        GeneratorConfig.default(100)
    with pytest.raises(ValueError, match="mbstd_features"):
        DiscriminatorConfig(32, (30, 32, 16, 8), mbstd_features=4)
    with pytest.raises(ValueError, match="one count per resolution"):
        DiscriminatorConfig.from_dict({**TINY_D.to_dict(), "channels": [1, 2]})
    with pytest.raises(ValueError, match="GeneratorConfig"):
        Generator(TINY_D)  # type: ignore[arg-type]


def test_default_configs():
    for r in (32, 64, 128, 256, 512, 1024):
        g, d = GeneratorConfig.default(r), DiscriminatorConfig.default(r)
        assert g.resolution == d.resolution == r
        assert len(g.channels) == len(d.channels) == r.bit_length() - 2
        assert (g.z_dim, g.w_dim, g.mapping_layers) == (512, 512, 8)


def test_conv_layer_equals_its_layers_in_sequence():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 16, 16)
    for kwargs in ({}, {"downsample": True}, {"activate": False}, {"bias": False}):
        layer = ConvLayer(8, 6, 3, **kwargs)
        for p in layer.parameters():
            p.data.normal_()
        expected = x
        for module in layer:
            expected = module(expected)
        assert torch.allclose(layer(x), expected, atol=1e-5), kwargs


@pytest.mark.parametrize(("batch", "noise_mode"), [(1, "none"), (1, "const"), (2, "none")])
def test_gradients_flow_on_every_code_path(batch: int, noise_mode: str):
    torch.manual_seed(0)
    g = Generator(TINY)
    w = g.mapping(_z(batch)).detach().requires_grad_(True)
    g.synthesis(w, noise_mode=noise_mode).square().mean().backward()
    assert torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in g.parameters() if p.grad is not None)
    assert g.convs[0].conv.weight.grad.abs().sum() > 0


def test_inference_mode_renders_like_no_grad_and_follows_weight_changes():
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(32, (64, 64, 32, 16), z_dim=32, w_dim=32, mapping_layers=2))
    g.eval()
    w = g.mapping(_z(1)).detach()
    with torch.no_grad():
        expected = g.synthesis(w)
    with torch.inference_mode():
        first = g.synthesis(w)
        again = g.synthesis(w)
    assert torch.allclose(first, expected, atol=1e-5)
    assert torch.equal(first, again)
    # weights changed in place (an optimiser step, load_state_dict): the caches follow
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        expected = g.synthesis(w)
    with torch.inference_mode():
        assert torch.allclose(g.synthesis(w), expected, atol=1e-5)
    g.load_state_dict(Generator(g.config).state_dict())
    with torch.no_grad():
        expected = g.synthesis(w)
    with torch.inference_mode():
        assert torch.allclose(g.synthesis(w), expected, atol=1e-5)

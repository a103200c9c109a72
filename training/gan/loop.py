"""One StyleGAN2 training step at a time: D step, lazy R1, G step, EMA (rosinality's order).

With ``detail_box`` in the config a second discriminator (``D_detail``) judges one square of
every image (the middle of the face: eyes, mouth, blush, glasses) beside the whole-image
one: it trains on the same real and fake batches, with its own lazy R1, and the generator's
loss adds ``detail_weight`` times its non-saturating loss.

With ``guide_weight`` above 0 the generator's loss adds that times the clarity of a frozen
guide classifier's readings of the fakes (:func:`~training.gan.losses.clarity_loss`; its
batch term toward the class ``shares`` the Trainer is given, else the uniform), and
with ``mirror_weight`` above 0 that times how differently it reads the ``mirror_attributes``
of each fake's two mirror composites (:func:`~training.gan.losses.mirror_loss`); the guide
travels in the checkpoints. With ``linear_weight`` above 0 a linear probe on each fake's W+
rows (:class:`LatentProbe`) learns to predict the guide's readings, and the generator's loss
adds that weight times how far the readings are from the probe's prediction
(:func:`~training.gan.losses.probe_loss`), so that the classes the annotator reads lie on
either side of hyperplanes in W, where InterFaceGAN's boundaries look for them. The term
moves the faces toward the prediction, not the latents toward the faces: measured on the
64 px default GAN (600 steps at weight 0.5), moving the latents as well gave boundaries no
better (mean balanced accuracy 0.894 against 0.900) and faces further from the data
(Fréchet distance 11.1 against 10.4), and moving the latents alone did next to nothing
(0.875; 0.871 without the term).

The randomness of step ``s`` on process ``r`` comes from generators seeded by
``(seed, r, s)``, so a step's latents, mixing and noise do not depend on what ran before it:
resuming from a checkpoint repeats an uninterrupted run exactly.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from nfe_core.models import Discriminator, Generator
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from training.gan.config import TrainConfig
from training.gan.data import derive_seed
from training.gan.distributed import DistInfo
from training.gan.losses import (
    clarity_loss,
    d_logistic_loss,
    ema_beta,
    ema_update,
    g_nonsaturating_loss,
    lazy_adam_hyper,
    lazy_r1_loss,
    mirror_halves,
    mirror_loss,
    probe_loss,
    r1_penalty,
)


class MixingGenerator(nn.Module):
    """The generator as trained: latents z (2, N, z_dim) and a crossover layer -> images
    (N, 3, R, R) with random noise; rows before ``crossover`` come from z[0], the rest from
    z[1] (``crossover >= num_ws``: no mixing). DistributedDataParallel wraps this module."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        self.generator = generator

    def forward(
        self,
        z: Tensor,
        crossover: int,
        noise: torch.Generator | None = None,
        with_ws: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Images; with ``with_ws`` also the W+ latents (N, num_ws, w_dim) that drew them."""
        g = self.generator
        ws = g.to_wplus(g.mapping(z[0]))
        if crossover < g.config.num_ws:
            ws = g.mix_styles(ws, g.to_wplus(g.mapping(z[1])), crossover)
        images = g.synthesis(ws, noise_mode="random", generator=noise)
        return (images, ws) if with_ws else images


class LatentProbe(nn.Module):
    """A linear function of a W+ latent (N, num_ws, w_dim) -> logits (N, classes) for every
    attribute: where the rows are one w, a linear function of w, like the boundaries the
    attributes stage fits in W. Zero at first."""

    PROBE_LR = 1e-3  # Adam's, as it follows the generator during training

    def __init__(self, num_ws: int, w_dim: int, classes: Mapping[str, int]) -> None:
        super().__init__()
        self.classes = dict(classes)
        self.linear = nn.Linear(num_ws * w_dim, sum(self.classes.values()))
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, ws: Tensor) -> dict[str, Tensor]:
        logits = self.linear(ws.flatten(1).float()).split(list(self.classes.values()), dim=1)
        return dict(zip(self.classes, logits, strict=True))


def _ddp(module: nn.Module, device: torch.device) -> DistributedDataParallel:
    """``module`` under DDP; its buffers (fixed noise, w_avg) are not synced every forward."""
    ids = [device.index] if device.type == "cuda" else None
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
        no_sync: dict[str, bool] = {"forward_sync_buffers": False}  # torch >= 2.13
    else:
        no_sync = {"broadcast_buffers": False}
    # D's last EqualLinear weight (1, C) gets a transposed gradient: harmless, but DDP
    # would warn about the strides on every process
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    return DistributedDataParallel(module, device_ids=ids, **no_sync)


@dataclass(frozen=True)
class StepLosses:
    """One step's figures as detached scalars (r1 is NaN on steps without R1)."""

    d_loss: Tensor
    g_loss: Tensor
    r1: Tensor
    real_logit: Tensor
    fake_logit: Tensor

    def stacked(self) -> Tensor:
        """(5,) float32: d_loss, g_loss, r1, real_logit, fake_logit."""
        return torch.stack(
            [self.d_loss, self.g_loss, self.r1, self.real_logit, self.fake_logit]
        ).float()


class Trainer:
    """The networks, their optimisers and the step functions of one training process."""

    def __init__(
        self,
        config: TrainConfig,
        device: torch.device,
        seed: int,
        info: DistInfo | None = None,
        guide: AttributeClassifier | None = None,
        shares: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.config, self.device, self.seed = config, device, seed
        if (guide is None) != (config.guide_weight == 0):
            raise ValueError("a guide classifier goes with a guide_weight above 0, and only then")
        self.guide = None if guide is None else guide.to(device).eval().requires_grad_(False)
        # the class shares the guide's batch term asks for (none given: the uniform)
        self.shares = {}
        for name, values in (shares or {}).items():
            classes = () if guide is None else guide.config.classes.get(name, ())
            if len(values) != len(classes):
                raise ValueError(
                    f"shares of {name}: {len(values)} given, the guide reads {len(classes)} classes"
                )
            self.shares[name] = torch.tensor(values, dtype=torch.float32, device=device)
        self.mirrored = config.mirror_attributes if config.mirror_weight > 0 else ()
        if guide is not None:
            unknown = [a for a in self.mirrored if a not in guide.config.names]
            if unknown:
                raise ValueError(
                    f"config: mirror_attributes {unknown} are not read by the guide classifier "
                    f"({', '.join(guide.config.names)})"
                )
        self.info = info or DistInfo()
        self.probe: LatentProbe | None = None
        if config.linear_weight > 0 and guide is not None:
            classes = {name: len(c) for name, c in guide.config.classes.items()}
            g = config.generator
            self.probe = LatentProbe(g.num_ws, g.w_dim, classes).to(device)
        self.probe_fitted = False  # the probe is fitted to the generator before its first step
        self.step = 0
        self.images_seen = 0
        self.consistent = True  # False while a step is half done
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(seed, 0x1417))
            self.G = Generator(config.generator)
            self.D = Discriminator(config.discriminator)
            detail = config.detail_discriminator
            self.D_detail = Discriminator(detail).to(device) if detail is not None else None
        self.G.to(device)
        self.D.to(device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.g_module = MixingGenerator(self.G)
        self.g_train: nn.Module = self.g_module
        self.d_train: nn.Module = self.D
        self.detail_train: nn.Module | None = self.D_detail
        if self.info.distributed:
            self.g_train = _ddp(self.g_module, device)
            self.d_train = _ddp(self.D, device)
            self.detail_train = _ddp(self.D_detail, device) if self.D_detail is not None else None
        # the forwards the steps call; R1 (double backward) always runs eagerly
        self.g_forward, self.d_forward, self.d_judge = self.g_train, self.d_train, self.D
        self.detail_forward, self.detail_judge = self.detail_train, self.D_detail
        self.probe_train: nn.Module | None = self.probe
        if self.info.distributed and self.probe is not None:
            self.probe_train = _ddp(self.probe, device)
        if config.compile and device.type == "cuda":
            self.g_forward = torch.compile(self.g_train)
            self.d_forward = torch.compile(self.d_train)
            self.d_judge = torch.compile(self.D)
            if self.D_detail is not None:
                self.detail_forward, self.detail_judge = (
                    torch.compile(self.detail_train),
                    torch.compile(self.D_detail),
                )
        (g_lr, g_betas), (d_lr, d_betas) = self._adam_settings()
        self.g_optim = torch.optim.Adam(self.G.parameters(), lr=g_lr, betas=g_betas)
        self.d_optim = torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=d_betas)
        self.detail_optim = (
            torch.optim.Adam(self.D_detail.parameters(), lr=d_lr, betas=d_betas)
            if self.D_detail is not None
            else None
        )
        self.probe_optim = (
            torch.optim.Adam(self.probe.parameters(), lr=LatentProbe.PROBE_LR)
            if self.probe is not None
            else None
        )
        fp16 = config.amp == "fp16" and device.type == "cuda"
        self.g_scaler = torch.amp.GradScaler(device.type, enabled=fp16)
        self.d_scaler = torch.amp.GradScaler(device.type, enabled=fp16)
        self.noise = torch.Generator(device=device)
        self.choices = torch.Generator()

    # ----------------------------------------------------------------------------------------
    # the step

    def train_step(self, real: Tensor) -> StepLosses:
        """One full step on real images (n, 3, R, R) of this process; returns its losses."""
        self.consistent = False
        z_d, cross_d, z_g, cross_g = self.draw(real.shape[0])
        d_loss, real_logit, fake_logit = self.d_step(real, z_d, cross_d)
        r1 = self.r1_step(real) if self.r1_due() else torch.tensor(float("nan"))
        g_loss = self.g_step(z_g, cross_g)
        self.step += 1
        self.images_seen += self.config.batch_size
        self.update_ema()
        self.consistent = True
        return StepLosses(d_loss, g_loss, r1.to(d_loss.device), real_logit, fake_logit)

    def draw(self, n: int) -> tuple[Tensor, int, Tensor, int]:
        """This step's latents (2, n, z_dim) and crossovers for the D and the G step."""
        step_seed = derive_seed(self.seed, self.info.rank, self.step)
        self.noise.manual_seed(step_seed)
        self.choices.manual_seed(step_seed)
        z_dim = self.config.generator.z_dim
        z = torch.randn(2, 2, n, z_dim, device=self.device, generator=self.noise)
        return z[0], self.crossover(), z[1], self.crossover()

    def crossover(self, choices: torch.Generator | None = None) -> int:
        """Where style mixing switches latents: 1..num_ws-1 with ``mixing_prob``, else
        ``num_ws`` (no mixing); drawn from ``choices`` (default: the step's)."""
        choices = choices or self.choices
        num_ws = self.config.generator.num_ws
        mix = torch.rand((), generator=choices).item() < self.config.mixing_prob
        cut = int(torch.randint(1, num_ws, (), generator=choices))
        return cut if mix else num_ws

    def detail(self, images: Tensor) -> Tensor:
        """The detail discriminator's square of ``images`` (N, 3, R, R), at its resolution."""
        crop = self.config.detail_crop
        assert crop is not None and self.D_detail is not None
        left, top, size = crop
        out = images[:, :, top : top + size, left : left + size]
        resolution = self.D_detail.config.resolution
        if size != resolution:
            out = F.interpolate(out, size=resolution, mode="bilinear", align_corners=False)
        return out

    def d_step(self, real: Tensor, z: Tensor, crossover: int) -> tuple[Tensor, Tensor, Tensor]:
        """Discriminator logistic step (both discriminators with a detail one); returns (loss,
        mean real logit, mean fake logit) of the whole-image discriminator."""
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        with torch.no_grad(), self.autocast():
            fake = self.g_module(z, crossover, self.noise)
        with self.autocast():
            fake_logits = self.d_forward(fake)
            real_logits = self.d_forward(real)
            if self.detail_forward is not None:
                detail_fake = self.detail_forward(self.detail(fake))
                detail_real = self.detail_forward(self.detail(real))
        loss = d_logistic_loss(real_logits, fake_logits)
        if self.detail_forward is not None:
            total = loss + d_logistic_loss(detail_real, detail_fake)
        else:
            total = loss
        optims = self._d_optims()
        for optim in optims:
            optim.zero_grad(set_to_none=True)
        self.d_scaler.scale(total).backward()
        for optim in optims:
            self.d_scaler.step(optim)
        self.d_scaler.update()
        return (
            loss.detach(),
            real_logits.detach().float().mean(),
            fake_logits.detach().float().mean(),
        )

    def _d_optims(self) -> list[torch.optim.Optimizer]:
        """The discriminators' optimisers: the main one's, and the detail one's if any."""
        return [o for o in (self.d_optim, self.detail_optim) if o is not None]

    def r1_due(self) -> bool:
        return self.config.r1_gamma > 0 and self.step % self.config.r1_interval == 0

    def r1_step(self, real: Tensor) -> Tensor:
        """Lazy R1 step (float32, eager); returns the unscaled penalty."""
        c = self.config
        inputs = real.detach().requires_grad_(True)
        real_logits = self.d_train(inputs)
        penalty = r1_penalty(real_logits, inputs)
        loss = lazy_r1_loss(penalty, c.r1_gamma, c.r1_interval)
        # every D parameter must take part in the backward pass for DDP (the last bias
        # does not shape the input gradient): add it with weight zero, as rosinality does
        loss = loss + 0.0 * real_logits[0].sum()
        if self.detail_train is not None:
            square = self.detail(real.detach()).requires_grad_(True)
            square_logits = self.detail_train(square)
            square_penalty = r1_penalty(square_logits, square)
            loss = loss + lazy_r1_loss(square_penalty, c.r1_gamma, c.r1_interval)
            loss = loss + 0.0 * square_logits[0].sum()
        optims = self._d_optims()
        for optim in optims:
            optim.zero_grad(set_to_none=True)
        loss.backward()
        for optim in optims:
            optim.step()
        return penalty.detach()

    def g_step(self, z: Tensor, crossover: int) -> Tensor:
        """Generator non-saturating step; returns the loss."""
        self.G.requires_grad_(True)
        self.D.requires_grad_(False)
        if self.D_detail is not None:
            self.D_detail.requires_grad_(False)
        if self.probe is not None:
            if not self.probe_fitted:
                self.fit_probe()
            self.probe.requires_grad_(False)
        with self.autocast():
            if self.probe is not None:
                fake, ws = self.g_forward(z, crossover, self.noise, with_ws=True)
            else:
                fake = self.g_forward(z, crossover, self.noise)
            logits = self.d_judge(fake)
            if self.detail_judge is not None:
                detail_logits = self.detail_judge(self.detail(fake))
            if self.guide is not None:
                # one pass over the fakes and, for the mirror term, their mirror composites
                seen = torch.cat([fake, *mirror_halves(fake)]) if self.mirrored else fake
                readings = self.guide(seen)
        loss = g_nonsaturating_loss(logits)
        if self.detail_judge is not None:
            loss = loss + self.config.detail_weight * g_nonsaturating_loss(detail_logits)
        if self.guide is not None:
            n = len(fake)
            loss = loss + self.config.guide_weight * clarity_loss(
                {k: v[:n] for k, v in readings.items()}, self.shares
            )
            if self.mirrored:
                loss = loss + self.config.mirror_weight * mirror_loss(
                    {k: readings[k][n : 2 * n] for k in self.mirrored},
                    {k: readings[k][2 * n :] for k in self.mirrored},
                )
            if self.probe is not None:
                read = {k: v[:n] for k, v in readings.items()}
                predicted = self.probe(ws.detach())  # a target: the latents are not moved
                loss = loss + self.config.linear_weight * probe_loss(read, predicted)
        self.g_optim.zero_grad(set_to_none=True)
        self.g_scaler.scale(loss).backward()
        self.g_scaler.step(self.g_optim)
        self.g_scaler.update()
        self.D.requires_grad_(True)
        if self.D_detail is not None:
            self.D_detail.requires_grad_(True)
        if self.probe is not None:
            # the probe follows the generator: one step toward this batch's readings
            self.probe_step(ws.detach(), {k: v.detach() for k, v in read.items()})
        return loss.detach()

    def probe_step(self, ws: Tensor, readings: Mapping[str, Tensor]) -> None:
        """One Adam step of the probe toward the guide's ``readings`` of the faces ``ws``."""
        assert self.probe is not None and self.probe_train is not None
        assert self.probe_optim is not None
        self.probe.requires_grad_(True)
        self.probe_optim.zero_grad(set_to_none=True)
        probe_loss(readings, self.probe_train(ws)).backward()
        self.probe_optim.step()

    PROBE_FIT_FACES = 4096  # the generator's faces the probe is first fitted to
    PROBE_FIT_STEPS = 300

    def fit_probe(self) -> None:
        """Fit the probe to the guide's readings of the generator's faces (seeded, mixed as
        in training) before the linear term first steers the generator: a probe still at
        zero would ask every face to look like the average reading. The same on every
        process (same seed, same generator)."""
        assert self.probe is not None and self.guide is not None
        z_dim = self.config.generator.z_dim
        choices = torch.Generator().manual_seed(derive_seed(self.seed, 0x9B0E))
        noise = torch.Generator(device=self.device).manual_seed(derive_seed(self.seed, 0x9B0F))
        ws_all, read_all = [], []
        with torch.no_grad(), self.autocast():
            for _ in range(0, self.PROBE_FIT_FACES, 256):
                z = torch.randn(2, 256, z_dim, device=self.device, generator=noise)
                fake, ws = self.g_module(z, self.crossover(choices), noise, with_ws=True)
                ws_all.append(ws.float())
                read_all.append({k: v.float() for k, v in self.guide(fake).items()})
        ws = torch.cat(ws_all)
        readings = {k: torch.cat([r[k] for r in read_all]) for k in read_all[0]}
        optim = torch.optim.Adam(self.probe.parameters(), lr=1e-2)
        self.probe.requires_grad_(True)
        for _ in range(self.PROBE_FIT_STEPS):
            optim.zero_grad(set_to_none=True)
            probe_loss(readings, self.probe(ws)).backward()
            optim.step()
        self.probe_fitted = True

    def update_ema(self) -> None:
        c = self.config
        beta = ema_beta(c.batch_size, c.ema_half_life_images, self.images_seen, c.ema_rampup)
        ema_update(self.G_ema, self.G, beta)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.device.type != "cuda" or self.config.amp == "none":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.config.amp == "bf16" else torch.float16
        return torch.autocast("cuda", dtype=dtype)

    # ----------------------------------------------------------------------------------------
    # state

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs to continue exactly (tensors and plain data)."""
        return {
            "step": self.step,
            "images_seen": self.images_seen,
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "generator_ema": self.G_ema.state_dict(),
            "g_optim": self.g_optim.state_dict(),
            "d_optim": self.d_optim.state_dict(),
            "g_scaler": self.g_scaler.state_dict(),
            "d_scaler": self.d_scaler.state_dict(),
            **(
                {
                    "detail_discriminator": self.D_detail.state_dict(),
                    "detail_optim": self.detail_optim.state_dict(),
                }
                if self.D_detail is not None and self.detail_optim is not None
                else {}
            ),
            **(
                {
                    "probe": self.probe.state_dict(),
                    "probe_optim": self.probe_optim.state_dict(),
                }
                if self.probe is not None and self.probe_optim is not None and self.probe_fitted
                else {}
            ),
            **(
                {
                    "guide": {
                        "config": self.guide.config.to_dict(),
                        "weights": self.guide.state_dict(),
                    }
                }
                if self.guide is not None
                else {}
            ),
        }

    @staticmethod
    def saved_guide(state: dict[str, Any]) -> AttributeClassifier | None:
        """The guide classifier a checkpoint's state carries, or None."""
        saved = state.get("guide")
        if saved is None:
            return None
        guide = AttributeClassifier(ClassifierConfig.from_dict(saved["config"]))
        guide.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in saved["weights"].items()}
        )
        return guide

    def start_detail_from_main(self) -> None:
        """Copy into the detail discriminator every layer of the main one that it shares
        (same name and shape: its channels are the main one's at the same pixel scale, so
        with a native-size square that is every layer but the main one's coarsest block).
        A fresh discriminator beside a trained generator learns too slowly to matter: on the
        64 px default model, after 900 steps at 5e-4 it still told real squares from fake
        ones on 0.48 of faces (chance), while the main one did on 0.91."""
        assert self.D_detail is not None
        main = self.D.state_dict()
        with torch.no_grad():
            for name, value in self.D_detail.state_dict().items():
                if name in main and main[name].shape == value.shape:
                    value.copy_(main[name])

    def _adam_settings(self) -> tuple[tuple[float, tuple[float, float]], ...]:
        """(lr, betas) of G's and of D's Adam by the config (D's scaled for lazy R1)."""
        c = self.config
        return (c.g_lr, tuple(c.betas)), lazy_adam_hyper(c.d_lr, c.betas, c.r1_interval)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.G_ema.load_state_dict(state["generator_ema"])
        self.g_optim.load_state_dict(state["g_optim"])
        self.d_optim.load_state_dict(state["d_optim"])
        # a run begun from a checkpoint without a detail discriminator, or with one for
        # another square, starts its detail discriminator from the main one's layers
        saved_box = state.get("config", {}).get("detail_box")
        same_box = saved_box is not None and tuple(saved_box) == self.config.detail_box
        if self.D_detail is not None and self.detail_optim is not None:
            if same_box:
                self.D_detail.load_state_dict(state["detail_discriminator"])
                self.detail_optim.load_state_dict(state["detail_optim"])
            else:
                self.start_detail_from_main()
        # an optimiser's state carries the learning rate it was saved with: a run begun from
        # a checkpoint with a retuned one (--start-from) must go on at its own config's
        g_adam, d_adam = self._adam_settings()
        optims = [(self.g_optim, g_adam), (self.d_optim, d_adam)]
        if self.detail_optim is not None:
            optims.append((self.detail_optim, d_adam))
        for optim, (lr, betas) in optims:
            for group in optim.param_groups:
                group["lr"], group["betas"] = lr, betas
        # a run begun from a checkpoint without a probe (or with one of other classes) fits
        # its own before its first step
        saved_probe = state.get("probe")
        if self.probe is not None and self.probe_optim is not None and saved_probe is not None:
            shapes = {k: tuple(v.shape) for k, v in self.probe.state_dict().items()}
            if shapes == {k: tuple(v.shape) for k, v in saved_probe.items()}:
                self.probe.load_state_dict(saved_probe)
                self.probe_optim.load_state_dict(state["probe_optim"])
                self.probe_fitted = True
        if state.get("g_scaler"):
            self.g_scaler.load_state_dict(state["g_scaler"])
        if state.get("d_scaler"):
            self.d_scaler.load_state_dict(state["d_scaler"])
        self.step = int(state["step"])
        self.images_seen = int(state["images_seen"])

"""GAN losses and the EMA: small pure functions (StyleGAN2's, as in rosinality's train.py)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def d_logistic_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Discriminator logistic loss: mean softplus(-D(real)) + mean softplus(D(fake)).

    Logits (N, 1) of any float dtype; the loss is a float32 scalar.
    """
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def g_nonsaturating_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss: mean softplus(-D(G(z))); a float32 scalar."""
    return F.softplus(-fake_logits.float()).mean()


def clarity_loss(
    logits: Mapping[str, Tensor], shares: Mapping[str, Tensor] | None = None
) -> Tensor:
    """How unclearly a classifier reads a batch: per attribute (logits (N, classes)), the mean
    entropy of each image's reading plus how far the batch's mean reading is from the
    attribute's class ``shares`` (Kullback-Leibler; shares (classes,) summing to 1), summed
    over attributes. An attribute without shares is measured against the uniform: its batch
    term is minus the entropy of the mean reading, and the whole minus the mutual information
    between image and class, as InfoGAN maximises it. Low when every image reads as one
    class and the batch as the shares say; a float32 scalar. The batch term keeps a generator
    guided by it from drawing every face alike, and with the data's shares from drawing rare
    classes as often as common ones."""
    shares = shares or {}
    total = torch.zeros((), device=next(iter(logits.values())).device)
    for name, values in logits.items():
        log_p = F.log_softmax(values.float(), dim=1)
        p = log_p.exp()
        each = -(p * log_p).sum(dim=1).mean()
        mean = p.mean(dim=0)
        log_mean = mean.clamp_min(1e-12).log()
        if name in shares:
            log_mean = log_mean - shares[name].to(mean).log()
        total = total + each + (mean * log_mean).sum()
    return total


def mirror_halves(images: Tensor) -> tuple[Tensor, Tensor]:
    """Images (N, C, H, W) -> their left halves beside their mirror images, and their right
    halves likewise (each (N, C, H, W)): a face with both eyes drawn alike reads the same
    in both."""
    half = images.shape[-1] // 2
    left, right = images[..., :half], images[..., images.shape[-1] - half :]
    return torch.cat([left, left.flip(-1)], dim=-1), torch.cat([right.flip(-1), right], dim=-1)


def mirror_loss(left: Mapping[str, Tensor], right: Mapping[str, Tensor]) -> Tensor:
    """How differently a classifier reads the two mirror composites of the same images
    (:func:`mirror_halves`; logits (N, classes) per attribute, same keys): per attribute the
    symmetric Kullback-Leibler divergence of the two readings, averaged over the batch,
    summed over attributes; 0 when they agree. A float32 scalar."""
    total = torch.zeros((), device=next(iter(left.values())).device)
    for name, values in left.items():
        log_l = F.log_softmax(values.float(), dim=1)
        log_r = F.log_softmax(right[name].float(), dim=1)
        total = total + ((log_l.exp() - log_r.exp()) * (log_l - log_r)).sum(dim=1).mean() / 2
    return total


def probe_loss(readings: Mapping[str, Tensor], predicted: Mapping[str, Tensor]) -> Tensor:
    """How far a classifier's readings are from what a probe predicts (logits (N, classes) per
    attribute, the same keys): per attribute the Kullback-Leibler divergence of the
    prediction from the reading, KL(reading || prediction), averaged over the batch, summed
    over attributes; 0 when they agree. Minimised over the probe, it fits the probe to the
    readings (cross-entropy with soft targets); over the generator, it draws each face as
    the probe reads its latent. A float32 scalar."""
    total = torch.zeros((), device=next(iter(readings.values())).device)
    for name, values in readings.items():
        log_r = F.log_softmax(values.float(), dim=1)
        log_p = F.log_softmax(predicted[name].float(), dim=1)
        total = total + (log_r.exp() * (log_r - log_p)).sum(dim=1).mean()
    return total


def r1_penalty(real_logits: Tensor, real_images: Tensor) -> Tensor:
    """R1: mean over the batch of |d D(x) / d x|^2 at real images x (N, C, H, W).

    ``real_images`` must require grad and ``real_logits`` (N, 1) come from them; the
    gradient is taken with ``create_graph=True`` so the penalty itself can be minimised.
    """
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_images, create_graph=True)
    return grad.float().square().flatten(1).sum(1).mean()


def lazy_r1_loss(penalty: Tensor, gamma: float, interval: int) -> Tensor:
    """The R1 term for a lazy step: gamma / 2 * penalty, times ``interval`` because it is
    applied only every ``interval`` steps (StyleGAN2's lazy regularisation)."""
    return penalty * (gamma / 2 * interval)


def lazy_adam_hyper(lr: float, betas: tuple[float, float], interval: int) -> tuple:
    """Adam's lr and betas for a network regularised every ``interval`` steps: both scaled
    by interval / (interval + 1), so that main and lazy steps together behave as intended."""
    ratio = interval / (interval + 1)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)


def ema_beta(
    batch_size: int, half_life_images: float, images_seen: int, rampup: float | None
) -> float:
    """EMA decay per step for a half-life in images; with ``rampup`` the half-life is at most
    ``rampup * images_seen`` (StyleGAN2-ADA), so short runs average over recent weights."""
    half_life = half_life_images
    if rampup is not None:
        half_life = min(half_life, images_seen * rampup)
    if half_life <= 0:
        return 0.0
    return 0.5 ** (batch_size / half_life)


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """In place: ema parameters <- beta * ema + (1 - beta) * model; buffers copied."""
    for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
        p_ema.lerp_(p.detach(), 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)

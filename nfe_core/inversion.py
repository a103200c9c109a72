"""Hybrid GAN inversion: the encoder's guess, refined by a few optimisation steps on the latent.

As in in-domain inversion (Zhu et al. 2020): the encoder gives the start; Adam then lowers
pixel + feature reconstruction losses with the model's fixed noise, while a regulariser keeps
the latent where the encoder would put its own reconstruction (``E(G(w)) ~ w``), so the result
stays in the region the boundaries were fitted in and edits behave as on sampled faces. The
steps move each W+ row, or one w shared by every row when pivotal tuning follows at a
one-w pivot (below).

The feature loss compares activation maps of the bundle's attribute classifier (a network we
trained ourselves: no pretrained VGG can be downloaded).

Then pivotal tuning (Roich et al. 2022, :func:`tune`): the latent's rows are pulled to their
mean (:func:`pivot`: one w for every layer, as the paper's pivot lives in W) and, with that
held as the pivot, a copy of the generator's synthesis network is tuned until it draws the
picture there. The pivot is a latent like the sampled ones the boundaries were fitted on, so
edits move it as they move any face, and the tuned network draws the edited face with the
picture's own details; the model's generator is never changed (a face carries its tuned
weights, :func:`tuned_generator`). :func:`hybrid` runs the whole of it.

``invert``, ``tune`` and ``hybrid`` are pure functions of their inputs (deterministic for a
given image and options); ``progress(step, total)`` is called after each step and
``should_stop()`` between steps - cancelling returns at once with the best found so far.
"""

from __future__ import annotations

import itertools
import math
import time
import weakref
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.adam import adam

from nfe_core.defaults import DEFAULT_STEPS as DEFAULT_STEPS  # re-exported
from nfe_core.defaults import DEFAULT_TUNE_STEPS as DEFAULT_TUNE_STEPS  # re-exported
from nfe_core.editing import AttributeInfo, Boundaries, class_shortfall
from nfe_core.jobs import ProgressFn, StopFn
from nfe_core.models import Generator
from nfe_core.models.classifier import AttributeClassifier
from nfe_core.models.encoder import Encoder


class _Adam:
    """Adam on a few tensors, through torch's functional ``adam``: the same update as
    ``torch.optim.Adam``, without its first construction in a process importing
    ``torch._dynamo`` (about 1.5 s on 2 CPU cores, which the app's first inversion and every
    ``nfe edit IMAGE`` paid)."""

    def __init__(self, *tensors: Tensor) -> None:
        self.tensors = list(tensors)
        self.m = [torch.zeros_like(t) for t in tensors]
        self.v = [torch.zeros_like(t) for t in tensors]
        self.counts = [torch.zeros((), dtype=torch.float32) for _ in tensors]

    @torch.no_grad()
    def step(self, lr: float) -> None:
        grads = [t.grad if t.grad is not None else torch.zeros_like(t) for t in self.tensors]
        adam(
            self.tensors, grads, self.m, self.v, [], self.counts,
            foreach=True, capturable=False, differentiable=False, fused=None, grad_scale=None,
            found_inf=None, has_complex=False, amsgrad=False, beta1=0.9, beta2=0.999, lr=lr,
            weight_decay=0.0, eps=1e-8, maximize=False,
        )  # fmt: skip


class ImageFeatures(nn.Module):
    """Activation maps of a classifier's stem and stages for images (N, 3, H, W) in -1..1
    (resized to the classifier's input): the space of the feature loss."""

    def __init__(self, classifier: AttributeClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: Tensor) -> list[Tensor]:
        r = self.classifier.config.resolution
        x = images
        if x.shape[-2:] != (r, r):
            x = F.interpolate(x, size=(r, r), mode="bilinear", align_corners=False)
        maps = [self.classifier.stem(x)]
        for stage in self.classifier.stages:
            maps.append(stage(maps[-1]))
        return maps


def feature_loss(a: list[Tensor], b: list[Tensor]) -> Tensor:
    """Mean over levels of the mean squared difference of two feature lists."""
    return sum((F.mse_loss(x, y) for x, y in zip(a, b, strict=True)), start=a[0].new_zeros(()))


@dataclass(frozen=True)
class InversionOptions:
    """The optimisation's settings; the defaults are the measured ones."""

    steps: int = DEFAULT_STEPS
    lr: float = 0.03
    pixel_weight: float = 1.0
    feature_weight: float = 1.0
    encoder_weight: float = 0.5  # pull towards E(G(w)): keeps the latent editable
    warmup: float = 0.05  # share of the steps with a rising learning rate
    rampdown: float = 0.25  # share of the steps at the end with a falling one (cosine)
    # Given the model's boundaries, the refinement also holds the latent in the class the
    # classifier reads on the picture, for these attributes: their
    # :func:`~nfe_core.editing.class_shortfall` (spreads short of where ``ATTR=CLASS`` puts a
    # face), times ``class_weight``, joins the loss. Pivotal tuning can draw the picture at a
    # pivot the boundaries put in another class (brown hair where the model draws blue), and
    # there a class edit fails: it starts from the class the latent is in, not the one the
    # face shows (hair_color=blue moved such a face nowhere). On 100 of the quality report's
    # held-out faces of the 64 px default model, the model's own render of the one-w pivot
    # showed the picture's hair colour on 0.79 of them, and hair colour edits (judged)
    # reached their class on 0.95 of those, 0.57 of the rest; holding hair colour (weight 1),
    # the pivot's render on 0.96. On all 200 (the report): hair colour edits 0.89 -> 0.94,
    # PSNR 26.65 -> 26.69 dB; the drawn pictures of benchmarks/bench_drawn_edits.py 38 -> 43
    # of 48 targets; the other edits 0.04 or less apart, most down (hair length 0.855 ->
    # 0.835, eye colour 0.695 -> 0.655).
    # On 100 faces, every attribute held: glasses 0.85 -> 0.66, blush 0.66 -> 0.54, 26.1 dB;
    # the annotator's reading of the render (cross-entropy, weight 0.1) instead of the
    # boundaries left the pivot's hair colour as it was (0.79).
    class_weight: float = 1.0
    held_classes: tuple[str, ...] = ("hair_color",)

    def __post_init__(self) -> None:
        _check_options(
            self, ("lr", "pixel_weight", "feature_weight", "encoder_weight", "class_weight")
        )
        held = self.held_classes
        if not isinstance(held, tuple) or not all(isinstance(n, str) for n in held):
            raise ValueError(f"held_classes must be a tuple of attribute names, got {held!r}")

    def learning_rate(self, step: int) -> float:
        """StyleGAN's projector schedule: a short warm-up, flat, a cosine ramp-down."""
        return _schedule(step, self.steps, self.lr, self.warmup, self.rampdown)


def _check_options(options: InversionOptions | TuningOptions, numbers: Sequence[str]) -> None:
    """ValueError unless ``options.steps`` is a whole number and each of ``numbers`` a finite
    number, all at least 0."""
    steps = options.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a whole number of at least 0, got {steps!r}")
    for name in numbers:
        value = getattr(options, name)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a number of at least 0, got {value!r}")


def _target(image: Tensor, generator: Generator) -> Tensor:
    """``image`` (3, R, R) or (1, 3, R, R) in -1..1 at the generator's resolution, as a
    float32 batch of one on the generator's device; ValueError in words otherwise."""
    r = generator.config.resolution
    x = image.unsqueeze(0) if image.ndim == 3 else image
    if x.ndim != 4 or x.shape[0] != 1 or x.shape[1:] != (3, r, r):
        raise ValueError(f"image: expected (3, {r}, {r}) in -1..1, got {tuple(image.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("image: NaN or infinite values")
    return x.to(device=next(generator.parameters()).device, dtype=torch.float32)


def _reconstruction_loss(
    rec: Tensor,
    x: Tensor,
    features: ImageFeatures,
    target: list[Tensor],
    options: InversionOptions | TuningOptions,
) -> Tensor:
    """Pixel + feature loss of render ``rec`` against image ``x`` (``target``: its features)."""
    return _loss_of(rec, x, features(rec), target, options)


def _loss_of(
    rec: Tensor,
    x: Tensor,
    maps: list[Tensor],
    target: list[Tensor],
    options: InversionOptions | TuningOptions,
) -> Tensor:
    """:func:`_reconstruction_loss` with the render's features ``maps`` given."""
    pixel = options.pixel_weight * F.mse_loss(rec, x)
    return pixel + options.feature_weight * feature_loss(maps, target)


def _schedule(step: int, steps: int, lr: float, warmup: float, rampdown: float) -> float:
    t = step / max(1, steps)
    up = min(1.0, t / warmup) if warmup > 0 else 1.0
    down = min(1.0, (1 - t) / rampdown) if rampdown > 0 else 1.0
    return lr * up * (0.5 - 0.5 * math.cos(math.pi * down))


@dataclass(frozen=True)
class Inversion:
    """What an inversion found: W+ (num_ws, w_dim) on the CPU and how it got there."""

    latent: Tensor  # the best latent: the lowest reconstruction loss seen
    encoder_latent: Tensor  # the encoder's guess (step 0)
    steps_done: int
    loss: float  # reconstruction loss (pixel + feature) of ``latent``
    seconds: float
    cancelled: bool


def invert(
    image: Tensor,
    generator: Generator,
    encoder: Encoder,
    classifier: AttributeClassifier,
    options: InversionOptions | None = None,
    *,
    one_w: bool = False,
    boundaries: Boundaries | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Inversion:
    """Invert ``image`` (3, R, R) or (1, 3, R, R) in -1..1 at the generator's resolution.

    The networks stay frozen; only the latent is optimised, on the generator's device: each
    W+ row, or with ``one_w`` one w shared by every row (W space, starting at the mean of the
    encoder's rows; the latent comes back as W+ with equal rows). Given the model's
    ``boundaries``, the latent is also held in the classes ``classifier`` reads on the picture
    for ``options.held_classes`` (see :class:`InversionOptions`); the latent kept is the one
    with the lowest loss of the two together.
    """
    options = options or InversionOptions()
    started = time.perf_counter()
    x = _target(image, generator)
    features = ImageFeatures(classifier)
    modules = (generator, encoder, classifier)
    modes = [m.training for m in modules]
    grads = [[p.requires_grad for p in m.parameters()] for m in modules]
    for m in modules:
        m.eval().requires_grad_(False)
    try:
        with torch.no_grad():
            start = encoder(x)
            target = features(x)
            held = _held_classes(classifier, boundaries, x, options)
        w = (start.mean(dim=1, keepdim=True) if one_w else start).clone().requires_grad_(True)
        optimizer = _Adam(w)
        best, best_loss, best_rec = w.detach().clone(), math.inf, math.inf
        done, cancelled = 0, False
        for step in range(options.steps + 1):
            rows = w.expand_as(start)
            rec = generator.synthesis(rows, noise_mode="const")
            reconstruction = _reconstruction_loss(rec, x, features, target, options)
            loss = reconstruction
            for info, name in held:
                loss = loss + options.class_weight * class_shortfall(rows[0], info, name)
            value = float(loss.detach())
            if value < best_loss:
                best, best_loss = w.detach().clone(), value
                best_rec = float(reconstruction.detach())
            if step == options.steps:
                break  # the last step only measures
            if should_stop is not None and should_stop():
                cancelled = True
                break
            if options.encoder_weight > 0:
                loss = loss + options.encoder_weight * F.mse_loss(rows, encoder(rec))
            w.grad = None
            loss.backward()
            optimizer.step(options.learning_rate(step))
            done = step + 1
            if progress is not None:
                progress(done, options.steps)
    finally:
        for m, mode, flags in zip(modules, modes, grads, strict=True):
            m.train(mode)
            for p, flag in zip(m.parameters(), flags, strict=True):
                p.requires_grad_(flag)
    return Inversion(
        latent=best.expand_as(start)[0].float().cpu().contiguous(),
        encoder_latent=start[0].float().cpu(),
        steps_done=done,
        loss=best_rec,
        seconds=time.perf_counter() - started,
        cancelled=cancelled,
    )


def _held_classes(
    classifier: AttributeClassifier,
    boundaries: Boundaries | None,
    x: Tensor,
    options: InversionOptions,
) -> list[tuple[AttributeInfo, str]]:
    """The attributes of ``options.held_classes`` that the boundaries and the classifier
    both know with the same classes, each with the class the classifier reads on picture
    ``x``; none without boundaries or with ``class_weight`` 0."""
    if boundaries is None or options.class_weight == 0:
        return []
    reads = dict(classifier.config.attributes)
    names = [name for name in boundaries.read_alike(reads) if name in options.held_classes]
    if not names:
        return []
    probs = classifier.predict(x)
    return [
        (boundaries.attributes[name], reads[name][int(probs[name][0].argmax())]) for name in names
    ]


# --- pivotal tuning -----------------------------------------------------------------------


@dataclass(frozen=True)
class TuningOptions:
    """Pivotal tuning's settings; the defaults are the measured ones."""

    steps: int = DEFAULT_TUNE_STEPS
    lr: float = 1e-3
    pixel_weight: float = 1.0
    # The feature loss keeps what the classifier sees; the pixel loss, the picture's own
    # lines. On 80 held-out faces of the 64 px default model (30 + 55 steps; PSNR, the
    # judge's attribute agreement, edit success on the inverted faces summed over the seven
    # attributes): weight 1 25.0 dB, 0.973, 3.93; 0.3 26.0 dB, 0.961, 3.89; 0.2 26.4 dB,
    # 0.968, 3.93; with a learning rate of 2e-3 and 0.3 26.5 dB but edits 3.46. On 32 faces
    # 0.1 gave 27.2 dB and 0 28.0 dB, with agreement 0.955 and 0.875.
    feature_weight: float = 0.2
    warmup: float = 0.05
    rampdown: float = 0.25
    # only the layers that draw at this resolution and above are tuned (0: every layer)
    from_resolution: int = 0
    # How much of each W+ row's difference from the rows' mean the pivot keeps (:func:`pivot`;
    # 0: one w for every layer, 1: the refined W+ as it is). The refined rows sit far apart
    # (row 6 about twice as far from the mean as sampled faces' rows), and there edits
    # behave unlike on sampled faces: on the drawn pictures of benchmarks/bench_drawn_edits.py
    # the GAN of step 90,051 turned no hair pink (0 of 8) from the W+ pivot, 8 of 8 from one
    # w (all six targets reached on the pasted pictures 28 -> 34 of 48 at 55 tuning steps, 33
    # at 110; the other attributes kept 41 -> 47, 45); 0.5: pink still 0 of 8. See
    # DEFAULT_TUNE_STEPS for what it costs in PSNR and steps.
    spread: float = 0.0
    # PTI's locality regulariser: at each step a latent part of the way (``locality_step``,
    # 0..1; 1: the random face itself) from the pivot toward a random face should still be
    # drawn as the model draws it (pixel + feature loss, times ``locality_weight``; 0: none),
    # so that the tuned network bends only near the pivot and an edit that moves away from
    # it is drawn in full. Without it, hair colour edits of 60 held-out inverted faces of the
    # 64 px default model reached the judge's class on 0.867 of faces drawn by the tuned
    # network, 1.0 by the model's own at the same pivot (scratch measurement, 30 + 110 steps:
    # PSNR 26.46 dB, 2.7 s). With it (weight, step: PSNR, edits, seconds on 2 threads):
    # 1, 0.5: 21.70 dB, 1.0, 3.3 s; 0.3, 1: 24.94, 1.0, 4.0; 0.1, 0.5: 25.86, 0.95, 3.7;
    # 0.1, 1: 26.07, 0.967, 4.0; 0.05, 1: 26.31, 0.933, 4.0 (the default).
    locality_weight: float = 0.05
    locality_step: float = 1.0

    def __post_init__(self) -> None:
        _check_options(self, ("lr", "pixel_weight", "feature_weight", "spread", "locality_weight"))
        for name in ("spread", "locality_step"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}")
        if not isinstance(self.from_resolution, int) or self.from_resolution < 0:
            raise ValueError(
                f"from_resolution: expected a whole number, got {self.from_resolution!r}"
            )

    def learning_rate(self, step: int) -> float:
        return _schedule(step, self.steps, self.lr, self.warmup, self.rampdown)

    @property
    def holds_one_w(self) -> bool:
        """Whether tuning holds one w in every row (steps to run, a pivot of spread 0): then
        :func:`hybrid` refines that one w itself."""
        return bool(self.steps) and self.spread == 0


@dataclass(frozen=True)
class Tuning:
    """What pivotal tuning found: the synthesis network's weights for one face."""

    weights: dict[str, Tensor]  # tuned synthesis parameters by name, float32 on the CPU
    steps_done: int
    loss: float  # reconstruction loss (pixel + feature) with ``weights``
    seconds: float
    cancelled: bool
    generator: Generator  # the tuned copy holding ``weights`` (frozen, eval mode)


def pivot(latent: Tensor, spread: float = 0.0) -> Tensor:
    """The pivot tuning holds for a refined W+ ``latent`` (num_ws, w_dim): each row pulled to
    the rows' mean, keeping ``spread`` (0..1) of its difference from it (0: the mean in
    every row, one w; 1: ``latent`` itself)."""
    if latent.ndim != 2:
        raise ValueError(f"latent: expected W+ (num_ws, w_dim), got {tuple(latent.shape)}")
    return torch.lerp(latent.mean(dim=0, keepdim=True).expand_as(latent), latent, spread)


def tunable_names(generator: Generator, from_resolution: int = 0) -> list[str]:
    """The parameters pivotal tuning may move: the synthesis network's (never the mapping's,
    so the latent space and its boundaries stay as they were), of the layers that draw at
    ``from_resolution`` and above."""
    return [
        name
        for name, _ in generator.named_parameters()
        if not name.startswith("style.") and _drawn_at(name) >= from_resolution
    ]


def _drawn_at(name: str) -> int:
    """The resolution at which the synthesis layer holding parameter ``name`` draws."""
    parts = name.split(".")
    if parts[0] == "convs":
        return 2 ** (3 + int(parts[1]) // 2)
    if parts[0] == "to_rgbs":
        return 2 ** (3 + int(parts[1]))
    return 4  # the constant input, conv1, to_rgb1


def tuned_generator(generator: Generator, weights: Mapping[str, Tensor]) -> Generator:
    """A copy of ``generator`` (on its device, frozen, in eval mode) with the synthesis
    weights of one face (:func:`tune`); ``generator`` itself is left as it is.

    Raises:
        ValueError: ``weights`` are not this generator's tunable parameters (another model).
    """
    params = dict(generator.named_parameters())
    names = list(weights)
    if not names or not set(names) <= set(tunable_names(generator)):
        raise ValueError(
            "the face's tuned weights are not this model's: they name other parameters "
            "(made by another model)"
        )
    for name in names:
        if tuple(weights[name].shape) != tuple(params[name].shape):
            raise ValueError(
                f"the face's tuned weights are not this model's: {name} is "
                f"{tuple(weights[name].shape)}, the model's {tuple(params[name].shape)}"
            )
    copy = deepcopy(generator).eval().requires_grad_(False)
    copied = dict(copy.named_parameters())
    with torch.no_grad():
        for name in names:
            value = torch.as_tensor(weights[name])
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"the face's tuned weights hold NaN or infinite values ({name})")
            copied[name].copy_(value)
    return copy


_LOCALITY_SEED = 0x10CA1  # the random faces of the locality regulariser: the same every time


def _locality_targets(
    generator: Generator, w: Tensor, features: ImageFeatures, options: TuningOptions
) -> tuple[Tensor | None, Tensor | None, list[Tensor]]:
    """For the locality regulariser (``options.locality_weight`` above 0): one latent per
    tuning step, ``locality_step`` of the way from the pivot ``w`` (1, num_ws, w_dim) to a
    seeded random face, with the model's renders of them and their features; else Nones."""
    if options.locality_weight == 0 or options.steps == 0:
        return None, None, []
    # a whole step from the pivot reaches the random faces themselves, the same for every
    # picture: their renders are kept with the model (until its weights change)
    reusable = options.locality_step == 1
    if reusable:
        key = (options.steps, str(w.device), weakref.ref(features.classifier))
        key += _versions(generator) + _versions(features.classifier)
        kept = _LOCALITY_CACHE.get(generator)
        if kept is not None and kept[0] == key:
            return kept[1]
    noise = torch.Generator().manual_seed(_LOCALITY_SEED)
    z = torch.randn(options.steps, generator.config.z_dim, generator=noise).to(w.device)
    faces = generator.mapping(z).unsqueeze(1).expand(-1, w.shape[1], -1)
    near = faces if reusable else torch.lerp(w.expand_as(faces), faces, options.locality_step)
    drawn = torch.cat(
        [generator.synthesis(part, noise_mode="const") for part in near.split(32)]
    ).float()
    found = (near, drawn, features(drawn))
    if reusable:
        _LOCALITY_CACHE[generator] = (key, found)
    return found


_LOCALITY_CACHE: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, tuple]] = (
    weakref.WeakKeyDictionary()
)


def _versions(module: nn.Module) -> tuple[int, ...]:
    """Counters that change whenever a weight or buffer of ``module`` is written in place."""
    return tuple(t._version for t in itertools.chain(module.parameters(), module.buffers()))


def tune(
    image: Tensor,
    generator: Generator,
    latent: Tensor,
    classifier: AttributeClassifier,
    options: TuningOptions | None = None,
    *,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Tuning:
    """Pivotal tuning (Roich et al. 2022): with the inverted ``latent`` (num_ws, w_dim) held
    fixed as the pivot, Adam moves a copy of the synthesis network's weights until its
    render of the pivot matches ``image`` (3, R, R) in -1..1 (pixel + feature loss, fixed
    noise). The latent stays where inversion put it, so edits move it as they move any
    face, and the tuned network draws the edited face in the picture's own details.

    ``generator`` is not changed; the weights with the lowest loss seen come back.
    ``progress(step, total)`` after each step; ``should_stop()`` between steps returns at
    once with the best weights so far.
    """
    options = options or TuningOptions()
    started = time.perf_counter()
    x = _target(image, generator)
    shape = (generator.num_ws, generator.config.w_dim)
    if tuple(latent.shape) != shape:
        raise ValueError(f"latent: expected W+ {shape}, got {tuple(latent.shape)}")
    w = latent.to(device=x.device, dtype=torch.float32).unsqueeze(0)
    tuned = deepcopy(generator).eval().requires_grad_(False)
    params = dict(tuned.named_parameters())
    names = tunable_names(tuned, options.from_resolution)
    if not names:
        raise ValueError(f"no layer draws at {options.from_resolution} px or above")
    for name in names:
        params[name].requires_grad_(True)
    features = ImageFeatures(classifier)
    mode, flags = classifier.training, [p.requires_grad for p in classifier.parameters()]
    classifier.eval().requires_grad_(False)
    try:
        with torch.no_grad():
            target = features(x)
            near, drawn, drawn_features = _locality_targets(generator, w, features, options)
        optimizer = _Adam(*(params[name] for name in names))
        best_loss, done, cancelled = math.inf, 0, False
        best = {name: params[name].detach().clone() for name in names}
        for step in range(options.steps + 1):
            local = near is not None and step < options.steps
            both = torch.cat([w, near[step : step + 1]]) if local else w
            renders = tuned.synthesis(both, noise_mode="const")
            maps = features(renders)  # the pivot's and the random face's in one pass
            loss = _loss_of(renders[:1], x, [m[:1] for m in maps], target, options)
            value = float(loss.detach())
            if local:
                there = [f[step : step + 1] for f in drawn_features]
                away = _loss_of(
                    renders[1:], drawn[step : step + 1], [m[1:] for m in maps], there, options
                )
                loss = loss + options.locality_weight * away
            if value < best_loss:
                best_loss = value
                if step > 0:
                    best = {name: params[name].detach().clone() for name in names}
            if step == options.steps:
                break  # the last step only measures
            if should_stop is not None and should_stop():
                cancelled = True
                break
            for name in names:
                params[name].grad = None
            loss.backward()
            optimizer.step(options.learning_rate(step))
            done = step + 1
            if progress is not None:
                progress(done, options.steps)
    finally:
        classifier.train(mode)
        for p, flag in zip(classifier.parameters(), flags, strict=True):
            p.requires_grad_(flag)
    tuned.requires_grad_(False)
    with torch.no_grad():
        for name in names:
            params[name].copy_(best[name])
    return Tuning(
        weights={name: value.float().cpu() for name, value in best.items()},
        steps_done=done,
        loss=best_loss,
        seconds=time.perf_counter() - started,
        cancelled=cancelled,
        generator=tuned,
    )


# --- the two together -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hybrid:
    """A picture's face, inverted and tuned (:func:`hybrid`)."""

    latent: Tensor  # what edits start from: the pivot, or the refined W+ when nothing was tuned
    inversion: Inversion  # the latent's refinement (its ``latent``: the refined W+)
    tuning: Tuning | None  # None: no tuning asked for, or stopped before a tuning step
    generator: Generator  # what draws ``latent``: the tuned copy, or the model's own
    loss: float  # the reconstruction loss of ``latent`` drawn by ``generator``
    seconds: float
    cancelled: bool


def hybrid(
    image: Tensor,
    generator: Generator,
    encoder: Encoder,
    classifier: AttributeClassifier,
    options: InversionOptions | None = None,
    tuning: TuningOptions | None = None,
    *,
    boundaries: Boundaries | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Hybrid:
    """Invert ``image`` (:func:`invert`), then tune a copy of the generator (:func:`tune`) at
    the refined latent's :func:`pivot`. ``progress(step, total)`` counts both runs' steps in
    one total; ``should_stop()`` between steps ends it with the best found so far (stopped
    before the first tuning step: the refined latent on the model's generator, untuned).

    The refinement looks for what tuning will hold: with a one-w pivot (``tuning.spread`` 0)
    it refines that one w itself (``invert(one_w=True)``), else each W+ row; with no tuning,
    W+. Refining each W+ row and then pulling the rows to their mean threw most of the
    refinement away: the one w refined for 20 steps takes tuning further in fewer steps
    (figures at :data:`~nfe_core.defaults.DEFAULT_STEPS`). Given the model's ``boundaries``,
    the refinement holds the pivot in the classes the picture shows (:func:`invert`), where
    the sliders expect it."""
    options = options or InversionOptions()
    tuning = tuning or TuningOptions()
    total = options.steps + tuning.steps
    inversion = invert(
        image, generator, encoder, classifier, options,
        one_w=tuning.holds_one_w,
        boundaries=boundaries,
        progress=None if progress is None else lambda done, _: progress(done, total),
        should_stop=should_stop,
    )  # fmt: skip
    untuned = Hybrid(
        latent=inversion.latent,
        inversion=inversion,
        tuning=None,
        generator=generator,
        loss=inversion.loss,
        seconds=inversion.seconds,
        cancelled=inversion.cancelled,
    )
    if not tuning.steps or inversion.cancelled:
        return untuned
    held = pivot(inversion.latent, tuning.spread)
    result = tune(
        image, generator, held, classifier, tuning,
        progress=None
        if progress is None
        else lambda done, _: progress(options.steps + done, total),
        should_stop=should_stop,
    )  # fmt: skip
    if result.steps_done == 0:
        return replace(untuned, cancelled=True, seconds=inversion.seconds + result.seconds)
    return Hybrid(
        latent=held,
        inversion=inversion,
        tuning=result,
        generator=result.generator,
        loss=result.loss,
        seconds=inversion.seconds + result.seconds,
        cancelled=result.cancelled,
    )

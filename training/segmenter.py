"""Train a bundle's segmenter on procedural renders: ``nfe-train segmenter`` calls this.

The renderer knows exactly which region each of a pixel's supersamples shows, so the targets
are soft: the share of each region in each pixel (``render_face(..., fractions=True)``). The
loss is the cross-entropy against those shares. The renders are drawn once into memory (most
pixels show one region: they keep its index, and only the mixed ones their shares), then
trained on for a few epochs with random horizontal flips and a light augmentation towards
the GAN's look (a random blend with a 3x3 box blur, a little gaussian noise). Which regions
each attribute draws is :data:`training.synth.schema.ATTRIBUTE_REGIONS`, stored in the
network's config.

Metrics, on ``test_count`` renders drawn with another seed (fractions in 0..1; null where a
region never appears):

- ``region_iou`` / ``region_accuracy``: per region, the IoU of the predicted regions (argmax)
  against the true ones, and the share of its pixels found, over the *pure* pixels (those
  whose largest share is above 0.99); ``pixel_accuracy``: over all pure pixels;
- ``soft_error``: the mean over all pixels of half the L1 distance between the predicted
  probabilities and the true shares (0: the same; 1: disjoint);
- ``attribute_iou``: per attribute, the IoU of its area (the summed probabilities of its
  regions above 0.5) against the true one (its summed shares above 0.5).

The renders are drawn with seeds derived from the options' seed and a salt of their own, so
they are never the GAN's, the classifiers' or the report's faces.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from nfe_core.bundle import Bundle, load_bundle, resave_bundle
from nfe_core.device import resolve_device
from nfe_core.facebox import FaceBox, crop_face
from nfe_core.fileio import write_atomically
from nfe_core.jobs import ProgressFn, StopFn, check_stop
from nfe_core.models.segmenter import (
    PALETTE_SURE,
    Segmenter,
    SegmenterConfig,
    Swatch,
    Swatches,
    region_colours,
)
from nfe_core.sampling import pixels_to_images
from training.gan.data import derive_seed
from training.synth.params import FIGURE_COLORS, face_rng, sample_face
from training.synth.render import MAX_SIZE, MIN_SIZE, REGION_NAMES, render_face, supersampling
from training.synth.schema import (
    ATTRIBUTE_BY_NAME,
    ATTRIBUTE_PALETTES,
    ATTRIBUTE_PICTURE_PALETTES,
    ATTRIBUTE_RECOLOURS,
    ATTRIBUTE_REGIONS,
    ATTRIBUTE_SPILLS,
    BELOW_EYES,
    FIGURE_CLASSES,
    STROKE_HOLDS,
    STROKE_REGIONS,
)

Log = Callable[[str], None]
METRICS_FILE = "metrics.json"
PURE = 0.99  # a pixel whose largest region share is above this shows that region only
_SALT = 0x5E6  # the segmenter's renders, initial weights and batches: seeds of their own
_MIXED = 255  # in a pure-region map: the pixel shows more than one region


@dataclass(frozen=True)
class SegmenterOptions:
    """One segmenter training run."""

    count: int = 8000  # training renders
    epochs: int = 4
    batch_size: int = 64
    lr: float = 3e-3  # the one-cycle schedule's peak
    seed: int = 0
    channels: tuple[int, ...] = (16, 32, 64)
    test_count: int = 500  # held-out renders for the metrics
    weight_decay: float = 0.01
    max_blur: float = 0.6  # each render is blended with its 3x3 box blur by up to this
    max_noise: float = 0.03  # and gets gaussian noise of a standard deviation up to this
    workers: int | None = None  # render processes; default: every core
    # an attribute's edits are kept to its area only where the held-out IoU of that area is
    # at least this; the others are left whole (see trusted_owners)
    min_area_iou: float = 0.5
    # attributes whose edits are left whole whatever their area's IoU: on the 64 px default
    # model, blush and glasses edits kept to areas found at IoU 0.80 and 0.69 reached their
    # class (judged) on 0.46 and 0.66 of 100 sampled faces against 0.88 and 0.99 whole: the
    # judge reads those attributes from more of the face than the regions drawn for them
    whole: tuple[str, ...] = ()
    # the class palettes (see class_palettes): generated faces measured, the annotator's
    # least probability for a face to count, and the fewest faces a class needs
    palette_faces: int = 3000
    palette_confidence: float = 0.9
    palette_min_faces: int = 20
    # the picture palettes (see picture_palettes): procedural faces drawn and measured
    picture_faces: int = 800

    def __post_init__(self) -> None:
        whole_numbers = ("count", "epochs", "batch_size", "test_count")
        for name in (*whole_numbers, "palette_faces", "palette_min_faces", "picture_faces"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative whole number, got {self.seed!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not 0 <= self.weight_decay < 1:
            raise ValueError(f"weight_decay must be from 0 to 1, got {self.weight_decay!r}")
        if not 0 <= self.max_blur <= 1:
            raise ValueError(f"max_blur must be from 0 to 1, got {self.max_blur!r}")
        if not 0 <= self.max_noise <= 1:
            raise ValueError(f"max_noise must be from 0 to 1, got {self.max_noise!r}")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers < 0):
            raise ValueError(f"workers must be a whole number or None, got {self.workers!r}")
        if not 0 <= self.min_area_iou <= 1:
            raise ValueError(f"min_area_iou must be from 0 to 1, got {self.min_area_iou!r}")
        if not 0 < self.palette_confidence < 1:
            raise ValueError(
                f"palette_confidence must be between 0 and 1, got {self.palette_confidence!r}"
            )
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "whole", tuple(self.whole))
        unknown = [a for a in self.whole if a not in ATTRIBUTE_REGIONS]
        if unknown:
            raise ValueError(
                f"whole: {', '.join(map(str, unknown))} is not an attribute with regions "
                f"(those are {', '.join(ATTRIBUTE_REGIONS)})"
            )

    def render_seeds(self) -> tuple[int, int]:
        """(training, held-out) seeds of the procedural faces."""
        return derive_seed(self.seed, _SALT, 1), derive_seed(self.seed, _SALT, 2)

    def network_config(self, resolution: int) -> SegmenterConfig:
        """The segmenter this run trains for a ``resolution`` px generator."""
        owners = tuple(ATTRIBUTE_REGIONS.items())
        recolours = tuple(ATTRIBUTE_RECOLOURS.items())
        spills = tuple(ATTRIBUTE_SPILLS.items())
        return SegmenterConfig(
            resolution,
            REGION_NAMES,
            owners,
            channels=self.channels,
            recolours=recolours,
            spills=spills,
            strokes=STROKE_REGIONS,
            holds=STROKE_HOLDS,
            figures=tuple((a, c, FIGURE_COLORS[a]) for a, c in FIGURE_CLASSES.items()),
            below_eyes=BELOW_EYES,
        )


# --------------------------------------------------------------------------------------------
# The renders


@dataclass(frozen=True)
class RegionRenders:
    """Procedural faces and their region shares, compact: a pure pixel keeps its region's
    index, a mixed one its supersamples per region.

    ``images`` uint8 (N, 3, S, S); ``pure`` uint8 (N, S, S): the region of each pure pixel,
    255 for a mixed one; ``mixed`` uint8 (M, regions): the supersample counts of the mixed
    pixels, image after image, each in row-major order; ``offsets`` (N + 1,): where each
    image's rows of ``mixed`` begin; ``samples``: supersamples per pixel.
    """

    images: Tensor
    pure: Tensor
    mixed: Tensor
    offsets: Tensor
    samples: int

    def __len__(self) -> int:
        return self.images.shape[0]

    def float_images(self, index: Tensor) -> Tensor:
        """Images ``index`` as float (B, 3, S, S) in -1..1."""
        return self.images[index].float().div_(127.5).sub_(1.0)

    def targets(self, index: Tensor) -> Tensor:
        """The region shares of images ``index``: float (B, regions, S, S), summing to 1."""
        k = self.mixed.shape[1]
        pure = self.pure[index].long()
        out = torch.zeros(*pure.shape, k)
        one = pure != _MIXED
        out[one] = F.one_hot(pure[one], k).float()
        rows = [self.mixed[self.offsets[i] : self.offsets[i + 1]] for i in index.tolist()]
        out[~one] = torch.cat(rows).float() / self.samples
        return out.permute(0, 3, 1, 2).contiguous()


class _RegionFaces(Dataset):
    """Face ``i`` of the set drawn with ``seed``: (image (S, S, 3), pure map, mixed counts)."""

    def __init__(self, count: int, size: int, seed: int) -> None:
        self.count, self.size, self.seed = count, size, seed

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        face = render_face(sample_face(face_rng(self.seed, i)), self.size, fractions=True)
        assert face.fractions is not None
        samples = supersampling(self.size) ** 2
        counts = np.rint(face.fractions * samples).astype(np.uint8)
        one = counts.max(axis=-1) == samples
        pure = np.where(one, counts.argmax(axis=-1), _MIXED).astype(np.uint8)
        return np.array(face.image), pure, counts[~one]


def _as_list(batch: list) -> list:
    return batch


def _ignore_sigint(_worker: int) -> None:
    # Ctrl+C reaches the whole process group; the main process cancels cleanly, so a render
    # worker must not die of it first
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def render_regions(
    count: int,
    size: int,
    seed: int,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> RegionRenders:
    """Faces ``0 .. count-1`` drawn with ``seed`` at ``size`` px, with their region shares;
    rendered by ``workers`` processes (default: every core; 0: this one)."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    workers = workers if count > 32 else 0
    loader = DataLoader(
        _RegionFaces(count, size, seed),
        batch_size=32,
        num_workers=workers,
        collate_fn=_as_list,
        worker_init_fn=_ignore_sigint if workers else None,
    )
    images, pure, mixed, offsets = [], [], [], [0]
    for batch in loader:
        check_stop(should_stop)
        for image, one, rows in batch:
            images.append(torch.from_numpy(image).permute(2, 0, 1))
            pure.append(torch.from_numpy(one))
            mixed.append(torch.from_numpy(rows))
            offsets.append(offsets[-1] + len(rows))
        if progress is not None:
            progress(len(images), count)
    return RegionRenders(
        torch.stack(images),
        torch.stack(pure),
        torch.cat(mixed),
        torch.tensor(offsets),
        supersampling(size) ** 2,
    )


# --------------------------------------------------------------------------------------------
# Training


def augment(
    images: Tensor, generator: torch.Generator, max_blur: float, max_noise: float
) -> Tensor:
    """Images (N, 3, S, S) in -1..1 a little more like a GAN's: each blended with its 3x3
    box blur by a random weight up to ``max_blur``, plus gaussian noise of a random standard
    deviation up to ``max_noise``; clamped to -1..1."""
    n = images.shape[0]
    weight = torch.rand(n, 1, 1, 1, generator=generator) * max_blur
    blurred = F.avg_pool2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    std = torch.rand(n, 1, 1, 1, generator=generator) * max_noise
    noise = torch.randn(images.shape, generator=generator)
    return (images + weight * (blurred - images) + std * noise).clamp_(-1, 1)


def flip(images: Tensor, targets: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Images (N, 3, S, S) and their targets (N, K, S, S), half of them mirrored."""
    mirrored = (torch.rand(images.shape[0], generator=generator) < 0.5)[:, None, None, None]
    return (
        torch.where(mirrored, images.flip(-1), images),
        torch.where(mirrored, targets.flip(-1), targets),
    )


def soft_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of logits (N, K, S, S) against shares (N, K, S, S), per pixel, averaged."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def _ratio(part: Tensor | float, whole: Tensor | float) -> float | None:
    return round(float(part) / float(whole), 4) if float(whole) > 0 else None


@torch.no_grad()
def evaluate(segmenter: Segmenter, renders: RegionRenders, batch_size: int = 64) -> dict[str, Any]:
    """The held-out metrics of the module's docstring, on ``renders``."""
    config = segmenter.config
    device = next(segmenter.parameters()).device
    k = len(config.regions)
    owned = [[config.regions.index(r) for r in regions] for _, regions in config.owners]
    inter, union, found = torch.zeros(k), torch.zeros(k), torch.zeros(k)
    a_inter, a_union = torch.zeros(len(owned)), torch.zeros(len(owned))
    soft, pixels = 0.0, 0
    was_training = segmenter.training
    segmenter.eval()
    try:
        for start in range(0, len(renders), batch_size):
            index = torch.arange(start, min(start + batch_size, len(renders)))
            targets = renders.targets(index)
            probabilities = segmenter(renders.float_images(index).to(device)).softmax(1).cpu()
            predicted = probabilities.argmax(1)
            largest, truth = targets.max(1)
            pure = largest > PURE
            for r in range(k):
                p, t = (predicted == r) & pure, (truth == r) & pure
                inter[r] += (p & t).sum()
                union[r] += (p | t).sum()
                found[r] += t.sum()
            for a, channels in enumerate(owned):
                p = probabilities[:, channels].sum(1) > 0.5
                t = targets[:, channels].sum(1) > 0.5
                a_inter[a] += (p & t).sum()
                a_union[a] += (p | t).sum()
            soft += float((probabilities - targets).abs().sum(1).mul(0.5).sum())
            pixels += predicted.numel()
    finally:
        segmenter.train(was_training)
    regions = config.regions
    return {
        "region_iou": {n: _ratio(inter[r], union[r]) for r, n in enumerate(regions)},
        "region_accuracy": {n: _ratio(inter[r], found[r]) for r, n in enumerate(regions)},
        "pixel_accuracy": _ratio(inter.sum(), found.sum()),
        "soft_error": round(soft / pixels, 4),
        "attribute_iou": {
            name: _ratio(a_inter[a], a_union[a]) for a, (name, _) in enumerate(config.owners)
        },
    }


def train_segmenter(
    resolution: int,
    options: SegmenterOptions,
    *,
    device: str | None = None,
    progress: ProgressFn | None = None,
    render_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    log: Log | None = None,
) -> tuple[Segmenter, dict[str, Any]]:
    """Train a segmenter for ``resolution`` px pictures; returns it (eval mode, frozen, on
    ``device``) and its metrics (see the module's docstring) with the losses and timings.

    ``render_progress`` counts rendered faces (training and held-out), ``progress`` training
    steps. ``should_stop`` cancels (:class:`nfe_core.jobs.Cancelled`) between batches."""
    config = options.network_config(resolution)  # a bad resolution fails before any work
    if not MIN_SIZE <= resolution <= MAX_SIZE:
        raise ValueError(f"procedural faces are {MIN_SIZE} to {MAX_SIZE} px, not {resolution}")
    target = resolve_device(device)
    train_seed, test_seed = options.render_seeds()
    started = time.perf_counter()
    total_renders = options.count + options.test_count

    def rendered(offset: int) -> ProgressFn | None:
        if render_progress is None:
            return None
        return lambda done, _total: render_progress(offset + done, total_renders)

    train = render_regions(
        options.count,
        resolution,
        train_seed,
        workers=options.workers,
        progress=rendered(0),
        should_stop=should_stop,
    )
    test = render_regions(
        options.test_count,
        resolution,
        test_seed,
        workers=options.workers,
        progress=rendered(options.count),
        should_stop=should_stop,
    )
    render_seconds = time.perf_counter() - started
    if log is not None:
        log(
            f"rendered {options.count} + {options.test_count} faces of {resolution} px with "
            f"their regions in {render_seconds:.0f} s"
        )

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(options.seed, _SALT, 3))
        segmenter = Segmenter(config)
    segmenter.to(target).train()
    optimizer = torch.optim.AdamW(
        segmenter.parameters(), lr=options.lr, weight_decay=options.weight_decay
    )
    per_epoch = math.ceil(options.count / options.batch_size)
    total = per_epoch * options.epochs
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, options.lr, total_steps=total)
    generator = torch.Generator().manual_seed(derive_seed(options.seed, _SALT, 4))
    started = time.perf_counter()
    epoch_losses: list[float] = []
    step = 0
    for epoch in range(options.epochs):
        order = torch.randperm(options.count, generator=generator)
        summed = 0.0
        for index in order.split(options.batch_size):
            check_stop(should_stop)
            images, targets = flip(train.float_images(index), train.targets(index), generator)
            images = augment(images, generator, options.max_blur, options.max_noise)
            loss = soft_cross_entropy(segmenter(images.to(target)), targets.to(target))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            value = float(loss.detach())
            if not math.isfinite(value):
                raise ValueError(f"the segmenter's loss became {value} at step {step + 1}")
            summed += value * len(index)
            step += 1
            if progress is not None:
                progress(step, total)
        epoch_losses.append(round(summed / options.count, 5))
        if log is not None:
            log(
                f"epoch {epoch + 1}/{options.epochs}: loss {epoch_losses[-1]:.4f} "
                f"({time.perf_counter() - started:.0f} s)"
            )
    train_seconds = time.perf_counter() - started
    segmenter.eval().requires_grad_(False)
    metrics = evaluate(segmenter, test, options.batch_size)
    metrics.update(
        epoch_losses=epoch_losses,
        render_seconds=round(render_seconds, 1),
        train_seconds=round(train_seconds, 1),
        parameters=sum(p.numel() for p in segmenter.parameters()),
    )
    segmenter = trusted_owners(
        segmenter, metrics["attribute_iou"], options.min_area_iou, options.whole
    )
    metrics["confined"] = [name for name, _ in segmenter.config.owners]
    if log is not None:
        left = [a for a in ATTRIBUTE_REGIONS if a not in metrics["confined"]]
        log(
            f"edits kept to their area: {', '.join(metrics['confined']) or 'none'}; left whole "
            f"(area IoU below {options.min_area_iou}, or asked): {', '.join(left) or 'none'}"
        )
        weak = {n: v for n, v in metrics["region_iou"].items() if v is not None}
        log(
            f"held out: pure-pixel accuracy {metrics['pixel_accuracy']}, soft error "
            f"{metrics['soft_error']}, IoU " + ", ".join(f"{n} {v:.3f}" for n, v in weak.items())
        )
    return segmenter, metrics


def trusted_owners(
    segmenter: Segmenter,
    attribute_iou: dict[str, float | None],
    minimum: float,
    whole: tuple[str, ...] = (),
) -> Segmenter:
    """``segmenter`` (same weights) owning only the attributes whose area it finds: held-out
    IoU at least ``minimum``, and not in ``whole``. An edit of any other attribute is left
    whole rather than kept to an area the segmenter misses: at 64 px after 4 epochs the
    areas of mouth, blush and glasses (a few pixels each) scored IoU 0.0, 0.0 and 0.01, and
    kept to them those edits would all but vanish (after 12 epochs: 0.79, 0.80, 0.69)."""
    config = segmenter.config
    owners = tuple(
        (a, r)
        for a, r in config.owners
        if (attribute_iou.get(a) or 0.0) >= minimum and a not in whole
    )
    recolours = tuple((a, n) for a, n in config.recolours if a in dict(owners))
    spills = tuple((a, r) for a, r in config.spills if a in dict(owners))
    palettes = tuple(p for p in config.palettes if p[0] in dict(recolours))
    pictures = tuple(p for p in config.picture_palettes if p[0] in dict(recolours))
    drawn = {r for _, named in owners for r in named}
    strokes = tuple(r for r in config.strokes if r in drawn)
    figures = tuple(f for f in config.figures if f[0] in dict(owners))
    below = tuple(a for a in config.below_eyes if a in dict(owners))
    return reconfigured(
        segmenter,
        owners=owners,
        recolours=recolours,
        spills=spills,
        palettes=palettes,
        picture_palettes=pictures,
        strokes=strokes,
        holds=config.holds if strokes or figures or below else (),
        figures=figures,
        below_eyes=below,
    )


def reconfigured(segmenter: Segmenter, **changes: Any) -> Segmenter:
    """``segmenter``'s weights under its config with ``changes`` (eval mode, frozen, on its
    device)."""
    again = Segmenter(dataclasses.replace(segmenter.config, **changes))
    again.load_state_dict(segmenter.state_dict())
    return again.to(next(segmenter.parameters()).device).eval().requires_grad_(False)


# --------------------------------------------------------------------------------------------
# The class palettes


@torch.no_grad()
def class_palettes(
    bundle: Bundle,
    segmenter: Segmenter,
    options: SegmenterOptions,
    *,
    wanted: Mapping[str, str] = ATTRIBUTE_PALETTES,
    should_stop: StopFn | None = None,
) -> tuple[tuple[str, str, Swatches], ...]:
    """The colours the bundle's generator draws each class of the ``wanted`` attributes
    with (default :data:`ATTRIBUTE_PALETTES`: attribute -> region), in their region, for the
    segmenter config's ``palettes``: on ``options.palette_faces`` generated faces (seeded, no
    truncation) that the bundle's annotator reads as a class with at least
    ``palette_confidence``, the mean over faces of each face's mean and spread per channel
    over the pixels ``segmenter`` surely shows the region at (at least 4 of them). A class
    read on fewer than ``palette_min_faces`` such faces gets no swatch; an attribute the
    annotator does not read, or that the segmenter does not recolour, no palette. Colours in
    0..255."""
    classifier = bundle.classifier
    if classifier is None:
        return ()
    recolours = dict(segmenter.config.recolours)
    measured = [
        (a, region)
        for a, region in wanted.items()
        if a in recolours and region in segmenter.config.regions and a in classifier.config.classes
    ]
    if not measured:
        return ()
    generator = bundle.generator
    device = next(generator.parameters()).device
    segmenter = segmenter.to(device)
    seed = derive_seed(options.seed, _SALT, 3)
    z = torch.randn(
        options.palette_faces,
        generator.config.z_dim,
        generator=torch.Generator().manual_seed(seed),
    )
    sums: dict[str, dict[str, list[Tensor]]] = {a: {} for a, _ in measured}
    for start in range(0, len(z), options.batch_size):
        check_stop(should_stop)
        w = generator.mapping(z[start : start + options.batch_size].to(device))
        images = generator.synthesis(w, noise_mode="const").float().clamp(-1, 1)
        probs = classifier.predict(images)
        regions = segmenter.probabilities(images)
        pixels = (images + 1) * 127.5
        for attribute, region in measured:
            sure = (regions[:, segmenter.config.regions.index(region)] >= PALETTE_SURE).float()
            count = sure.sum(dim=(1, 2))
            mean, spread = region_colours(pixels, sure)
            best, label = probs[attribute].max(dim=1)
            counted = (best >= options.palette_confidence) & (count >= 4)
            classes = classifier.config.classes[attribute]
            for i in torch.nonzero(counted).flatten().tolist():
                faces = sums[attribute].setdefault(classes[int(label[i])], [])
                faces.append(torch.stack([mean[i], spread[i]]))
    return _swatches(measured, sums, classifier.config.classes, options.palette_min_faces)


def _swatches(
    measured: list[tuple[str, str]],
    sums: Mapping[str, Mapping[str, list[Tensor]]],
    classes: Mapping[str, tuple[str, ...]],
    least: int,
) -> tuple[tuple[str, str, Swatches], ...]:
    """The palettes of the ``measured`` (attribute, region) pairs: per class (in the order of
    ``classes``) the mean over its faces of each face's (mean, spread) in ``sums``
    (attribute -> class -> stacked pairs), for classes of at least ``least`` faces;
    attributes with none left out."""
    found = []
    for attribute, region in measured:
        swatches = []
        for name in classes[attribute]:
            faces = sums[attribute].get(name, [])
            if len(faces) < least:
                continue
            mean, spread = torch.stack(faces).mean(dim=0).cpu()
            swatches.append((name, _triple(mean.clamp(0, 255)), _triple(spread.clamp(0, 128))))
        if swatches:
            found.append((attribute, region, tuple(swatches)))
    return tuple(found)


PICTURE_SCALE = 4
"""Picture palettes are measured on faces drawn this many times the model's size (at most
the renderer's largest), brought down to it as the app crops a picture's face box."""


@torch.no_grad()
def picture_palettes(
    segmenter: Segmenter,
    options: SegmenterOptions,
    *,
    wanted: Mapping[str, str] = ATTRIBUTE_PICTURE_PALETTES,
    should_stop: StopFn | None = None,
) -> tuple[tuple[str, str, Swatches], ...]:
    """The colours each class of the ``wanted`` attributes (attribute -> region; default
    :data:`~training.synth.schema.ATTRIBUTE_PICTURE_PALETTES`) shows in its region on a
    picture, for the segmenter config's ``picture_palettes``: on
    ``options.picture_faces`` procedural faces (seeded) drawn at :data:`PICTURE_SCALE` times
    the segmenter's size and brought down to it with :func:`~nfe_core.facebox.crop_face`,
    per face the mean and spread of its colours there, each pixel weighted by the squared
    probability ``segmenter`` gives it (as :func:`~nfe_core.models.segmenter.hue_turns_to`
    weighs a picture's), averaged over the faces of each class (at least
    ``palette_min_faces`` of them; fewer: no swatch). Colours in 0..255."""
    names = segmenter.config.regions
    recolours = dict(segmenter.config.recolours)
    measured = [(a, r) for a, r in wanted.items() if a in recolours and r in names]
    if not measured:
        return ()
    size = segmenter.config.resolution
    drawn = max(MIN_SIZE, min(MAX_SIZE, PICTURE_SCALE * size))
    box = FaceBox(0, 0, drawn, drawn)
    device = next(segmenter.parameters()).device
    seed = derive_seed(options.seed, _SALT, 4)
    sums: dict[str, dict[str, list[Tensor]]] = {a: {} for a, _ in measured}
    for start in range(0, options.picture_faces, options.batch_size):
        check_stop(should_stop)
        faces = [
            sample_face(face_rng(seed, i))
            for i in range(start, min(start + options.batch_size, options.picture_faces))
        ]
        crops = [crop_face(np.asarray(render_face(f, drawn).image), box, size) for f in faces]
        images = pixels_to_images(torch.from_numpy(np.stack(crops))).to(device)
        regions = segmenter.probabilities(images)
        pixels = (images + 1) * 127.5
        for attribute, region in measured:
            p = regions[:, names.index(region)]
            mean, spread = region_colours(pixels, p * p)
            shown = (p * p).sum(dim=(1, 2)) >= 1.0
            for i in torch.nonzero(shown).flatten().tolist():
                label = str(getattr(faces[i], attribute))
                sums[attribute].setdefault(label, []).append(torch.stack([mean[i], spread[i]]))
    classes = {a: ATTRIBUTE_BY_NAME[a].classes for a, _ in measured}
    return _swatches(measured, sums, classes, options.palette_min_faces)


def picture_record(
    options: SegmenterOptions, found: tuple[tuple[str, str, Swatches], ...]
) -> dict[str, Any]:
    """How :func:`picture_palettes` measured ``found``, for the bundle's training record."""
    return {
        "faces": options.picture_faces,
        "scale": PICTURE_SCALE,
        "min_faces": options.palette_min_faces,
        "seed": derive_seed(options.seed, _SALT, 4),
        "classes": {a: [c for c, _, _ in swatches] for a, _, swatches in found},
    }


def _triple(values: Tensor) -> Swatch:
    """Three values as an RGB :data:`Swatch`, to two decimals."""
    r, g, b = (round(float(v), 2) for v in values.tolist())
    return (r, g, b)


# --------------------------------------------------------------------------------------------
# Into a bundle


@dataclass(frozen=True)
class SegmenterResult:
    bundle: Path
    metrics: dict[str, Any]  # the record written to WORK/metrics.json and the bundle
    seconds: float


def add_segmenter(
    model: str | os.PathLike[str],
    work: str | os.PathLike[str],
    options: SegmenterOptions,
    *,
    device: str | None = None,
    progress: ProgressFn | None = None,
    render_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    log: Log | None = None,
    palettes_only: bool = False,
) -> SegmenterResult:
    """Train a segmenter for bundle ``model`` and write it into the bundle, replacing one it
    had, with the class palettes measured with it on the bundle's faces (:func:`class_palettes`);
    the run's record (options, seeds, metrics, library versions) goes to
    ``work/metrics.json`` and into the bundle's ``training["segmenter"]``. The bundle's
    report is cleared (edits kept to their regions change its figures). A cancelled run
    leaves the bundle and ``work`` as they were. ``palettes_only``: measure the palettes with
    the bundle's own segmenter, without training one (ValueError when it has none)."""
    started = time.perf_counter()
    bundle = load_bundle(model, "cpu")  # a bad bundle fails before minutes of rendering
    work = Path(work)
    if work.exists() and not work.is_dir():
        raise ValueError(f"--work: {work} is a file, not a folder")
    if palettes_only:
        if bundle.segmenter is None:
            raise ValueError(f"{bundle.root}: the bundle has no segmenter to measure palettes with")
        segmenter = bundle.segmenter
        record = dict(bundle.training.get("segmenter") or {})
    else:
        segmenter, metrics = train_segmenter(
            bundle.resolution,
            options,
            device=device,
            progress=progress,
            render_progress=render_progress,
            should_stop=should_stop,
            log=log,
        )
        train_seed, test_seed = options.render_seeds()
        record = {
            "options": dataclasses.asdict(options),
            "render_seeds": {"train": train_seed, "test": test_seed},
            "metrics": metrics,
            "versions": {"torch": torch.__version__, "numpy": np.__version__},
        }
    palettes = class_palettes(bundle, segmenter, options, should_stop=should_stop)
    pictures = picture_palettes(segmenter, options, should_stop=should_stop)
    segmenter = reconfigured(segmenter.cpu(), palettes=palettes, picture_palettes=pictures)
    record["palettes"] = {
        "faces": options.palette_faces,
        "confidence": options.palette_confidence,
        "min_faces": options.palette_min_faces,
        "seed": derive_seed(options.seed, _SALT, 3),
        "classes": {a: [c for c, _, _ in swatches] for a, _, swatches in palettes},
    }
    record["picture_palettes"] = picture_record(options, pictures)
    if log is not None:
        for kind, found in (("palette", palettes), ("picture palette", pictures)):
            for attribute, region, swatches in found:
                log(
                    f"{attribute} {kind} ({region}): "
                    + ", ".join(f"{c} {tuple(round(v) for v in m)}" for c, m, _ in swatches)
                )
    text = json.dumps(record, indent=2) + "\n"
    work.mkdir(parents=True, exist_ok=True)
    write_atomically(work / METRICS_FILE, lambda stream: stream.write(text.encode("utf-8")))
    training = dict(bundle.training)
    training["segmenter"] = record
    resave_bundle(bundle, segmenter=segmenter, training=training, report=None)
    return SegmenterResult(bundle.root, record, time.perf_counter() - started)

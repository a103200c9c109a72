"""Train an attribute classifier on procedural renders; ``nfe-train classifier`` calls this.

The run folder (written completely or not at all):

RUN_DIR/options.json                 options, role, render seeds, library versions
RUN_DIR/metrics.json                 held-out accuracy per attribute (0..1), losses, timing
RUN_DIR/classifier.json              the ClassifierConfig (rebuilds the network)
RUN_DIR/classifier.safetensors       the weights

Data: the renders are drawn once into an in-memory uint8 cache (rendering a 64 px face costs
about 6 ms of CPU, a training step of the default network well under 1 ms per image, so
re-rendering every epoch would spend most of the time drawing, and DataLoader render workers
would take the two cores the convolutions need). Rendering the cache uses every core through
DataLoader workers. The held-out faces come from another seed than the training faces, and
the judge draws both from seeds other than the annotator's: it never sees the same faces.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from nfe_core.device import resolve_device
from nfe_core.fileio import write_folder_atomically
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from training.gan.data import derive_seed
from training.synth.dataset import SyntheticFaces, TwinFaces
from training.synth.schema import ATTRIBUTES

Progress = Callable[[int, int], None]
Log = Callable[[str], None]

CONFIG_FILE = "classifier.json"
WEIGHTS_FILE = "classifier.safetensors"
OPTIONS_FILE = "options.json"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class Role:
    """What makes the annotator and the judge independent: architecture knobs and a salt
    that gives each its own training and held-out renders (and initialisation)."""

    name: str
    salt: int
    width: int
    norm: str


ROLES: dict[str, Role] = {
    "annotator": Role("annotator", 1, width=24, norm="batch"),
    "judge": Role("judge", 2, width=32, norm="group"),
}


@dataclass(frozen=True)
class ClassifierOptions:
    """One classifier training run."""

    size: int
    out: Path
    role: str = "annotator"
    train_count: int = 20_000
    test_count: int = 2_000
    epochs: int = 20
    seed: int = 0
    device: str | None = None
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_fraction: float = 0.03
    max_shift: float = 0.02  # of the image side, each way
    max_scale: float = 0.02  # zoom 1 +- this
    # weight of the twin consistency loss (:func:`twin_consistency`); 0 trains without twins
    consistency: float = 0.0
    workers: int | None = None  # render processes; default: every core

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {self.role!r}")
        for name in ("train_count", "test_count", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (self.consistency >= 0 and math.isfinite(self.consistency)):
            raise ValueError(f"consistency must be 0 or more, got {self.consistency!r}")
        for name in ("max_shift", "max_scale"):
            if not 0 <= getattr(self, name) < 0.5:
                raise ValueError(f"{name} must be from 0 to 0.5, got {getattr(self, name)!r}")

    def render_seeds(self) -> tuple[int, int]:
        """(training, held-out) seeds of the procedural faces: distinct, and per role."""
        salt = ROLES[self.role].salt
        return derive_seed(self.seed, salt, 1), derive_seed(self.seed, salt, 2)

    def network_config(self) -> ClassifierConfig:
        role = ROLES[self.role]
        attributes = tuple((a.name, a.classes) for a in ATTRIBUTES)
        depth = 3 if self.size <= 64 else int(math.log2(self.size)) - 4
        # Below 64 px eyes and accessories are a few pixels wide: a stride-2 stem loses them
        # (32 px with stride 2: eye colour and hair length 0.95, accessory 0.92 held out).
        stem_stride = 1 if self.size < 64 else 2
        return ClassifierConfig(
            resolution=self.size,
            attributes=attributes,
            width=role.width,
            depth=depth,
            stem_stride=stem_stride,
            norm=role.norm,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class ClassifierResult:
    run_dir: Path
    accuracy: dict[str, float]
    twin_agreement: dict[str, float]
    epoch_losses: list[float]
    train_seconds: float
    parameters: int


# --------------------------------------------------------------------------------------------
# Data


def render_cache(
    dataset: SyntheticFaces, workers: int | None = None, progress: Progress | None = None
) -> tuple[Tensor, Tensor]:
    """Every face of ``dataset`` as uint8 images (N, 3, S, S) and labels (N, A); of a
    :class:`TwinFaces` set, each face and its twin: images (N, 2, 3, S, S), labels (N, 2, A)."""
    n = len(dataset)
    workers = (os.cpu_count() or 1) if workers is None else workers
    loader = DataLoader(dataset, batch_size=64, num_workers=workers if n > 64 else 0)
    keys = [("image", "labels")]
    if isinstance(dataset, TwinFaces):
        keys.append(("twin_image", "twin_labels"))
    s = dataset.size
    images = torch.empty((n, len(keys), 3, s, s), dtype=torch.uint8)
    labels = torch.empty((n, len(keys), len(ATTRIBUTES)), dtype=torch.long)
    done = 0
    for batch in loader:
        k = len(batch["labels"])
        for j, (image, label) in enumerate(keys):
            images[done : done + k, j] = batch[image].add(1).mul(127.5).round().to(torch.uint8)
            labels[done : done + k, j] = batch[label]
        done += k
        if progress is not None:
            progress(done, n)
    if len(keys) == 1:
        return images[:, 0], labels[:, 0]
    return images, labels


def to_float(images: Tensor) -> Tensor:
    """uint8 images (N, 3, S, S) -> float (N, 3, S, S) in -1..1."""
    return images.float().div_(127.5).sub_(1.0)


def augment(
    images: Tensor, generator: torch.Generator, max_shift: float, max_scale: float
) -> Tensor:
    """Label-preserving jitter of images (N, 3, S, S): a random shift, zoom and horizontal
    flip per image; colours are never touched (they are labels)."""
    n = images.shape[0]

    def uniform(k: int) -> Tensor:
        return torch.rand(n, k, generator=generator) * 2 - 1

    scale = 1 + max_scale * uniform(1)[:, 0]
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    shift = 2 * max_shift * uniform(2)  # normalised coordinates span 2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = flip / scale
    theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta.to(images.device), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


# --------------------------------------------------------------------------------------------
# Loss and evaluation


def classification_loss(
    logits: Mapping[str, Tensor], labels: Tensor, names: tuple[str, ...]
) -> Tensor:
    """Cross-entropy summed over attributes; labels (N, A) in ``names`` order, -1 = unknown."""
    return sum(
        (
            F.cross_entropy(logits[name], labels[:, i], ignore_index=-1)
            for i, name in enumerate(names)
        ),
        start=torch.zeros((), device=labels.device),
    )


def twin_consistency(
    logits: Mapping[str, Tensor], labels: Tensor, names: tuple[str, ...]
) -> Tensor:
    """How far the readings of faces and their twins part on the attributes they share:
    ``logits`` of 2B images, the B faces then their B twins; ``labels`` (B, 2, A). Per pair,
    the symmetric Kullback-Leibler divergence of the two readings of every attribute whose
    class the pair shares, summed over attributes, mean over pairs. A hair colour change then
    teaches the other heads to look away from the hair."""
    b = labels.shape[0]
    total = torch.zeros((), device=labels.device)
    for i, name in enumerate(names):
        shared = (labels[:, 0, i] == labels[:, 1, i]) & (labels[:, 0, i] >= 0)
        log_p = F.log_softmax(logits[name].float(), dim=1)
        face, twin = log_p[:b], log_p[b:]
        divergence = 0.5 * ((face.exp() - twin.exp()) * (face - twin)).sum(dim=1)
        total = total + (divergence * shared).sum() / b
    return total


@torch.no_grad()
def read_classes(
    model: nn.Module,
    images: Tensor,
    names: tuple[str, ...],
    batch_size: int = 256,
    device: torch.device | None = None,
) -> dict[str, Tensor]:
    """The class ``model`` (images -> {name: logits}) reads per attribute of uint8 images
    (N, 3, S, S), in eval mode and in batches: {name: (N,) class indices} on the CPU."""
    was_training = model.training
    model.eval()
    parts: dict[str, list[Tensor]] = {name: [] for name in names}
    try:
        for start in range(0, images.shape[0], batch_size):
            x = to_float(images[start : start + batch_size])
            if device is not None:
                x = x.to(device)
            logits = model(x)
            for name in names:
                parts[name].append(logits[name].argmax(dim=1).cpu())
    finally:
        model.train(was_training)
    return {name: torch.cat(chunks) for name, chunks in parts.items()}


def twin_agreement(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    names: tuple[str, ...],
    batch_size: int = 256,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Per attribute, the share of twin pairs (uint8 images (N, 2, 3, S, S), labels
    (N, 2, A)) sharing its class whose two readings of it agree: 1 for a classifier that
    reads each attribute from its own pixels only. NaN where no pair shares it."""
    faces, twins = (read_classes(model, images[:, j], names, batch_size, device) for j in (0, 1))
    out = {}
    for i, name in enumerate(names):
        shared = (labels[:, 0, i] == labels[:, 1, i]) & (labels[:, 0, i] >= 0)
        agree = ((faces[name] == twins[name]) & shared).sum().item()
        out[name] = agree / shared.sum().item() if shared.any() else math.nan
    return out


def evaluate(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    names: tuple[str, ...],
    batch_size: int = 256,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Accuracy (0..1) per attribute of ``model`` (images -> {name: logits}) on uint8 images
    (N, 3, S, S) with labels (N, A) in ``names`` order; unknown labels (-1) are skipped."""
    if labels.shape != (images.shape[0], len(names)):
        raise ValueError(
            f"expected labels ({images.shape[0]}, {len(names)}), got {tuple(labels.shape)}"
        )
    read = read_classes(model, images, names, batch_size, device)
    out = {}
    for i, name in enumerate(names):
        known = labels[:, i] >= 0
        correct = ((read[name] == labels[:, i]) & known).sum().item()
        out[name] = correct / known.sum().item() if known.any() else math.nan
    return out


def cosine_with_warmup(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then cosine to 0."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


# --------------------------------------------------------------------------------------------
# The run


def _versions() -> dict[str, str]:
    import numpy
    import safetensors

    from nfe_core import __version__

    return {
        "nfe": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "safetensors": safetensors.__version__,
    }


def check_out(out: Path) -> None:
    """ValueError unless ``out`` can become the run folder (absent or empty)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out}: already exists and is not an empty folder")
    if not out.absolute().parent.is_dir():
        raise ValueError(f"{out}: the folder it goes in does not exist")


def train_classifier(
    options: ClassifierOptions,
    *,
    render_progress: Progress | None = None,
    train_progress: Progress | None = None,
    log: Log | None = None,
) -> ClassifierResult:
    """Render, train, evaluate on held-out renders and write the run folder."""
    from safetensors.torch import save

    check_out(options.out)
    device = resolve_device(options.device)
    config = options.network_config()
    names = config.names
    train_seed, test_seed = options.render_seeds()

    started = time.perf_counter()
    twins = options.consistency > 0
    faces = TwinFaces if twins else SyntheticFaces
    train_images, train_labels = render_cache(
        faces(options.train_count, options.size, train_seed), options.workers, render_progress
    )
    # held out with twins whatever the training: how far readings hang on other attributes
    test_pairs, test_pair_labels = render_cache(
        TwinFaces(options.test_count, options.size, test_seed), options.workers
    )
    test_images, test_labels = test_pairs[:, 0], test_pair_labels[:, 0]
    render_seconds = time.perf_counter() - started
    if log is not None:
        log(
            f"rendered {options.train_count} + {options.test_count} faces in {render_seconds:.0f} s"
        )

    init_seed = derive_seed(options.seed, ROLES[options.role].salt, 3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        model = AttributeClassifier(config)
    # channels-last convolutions are about 20% faster on CPU (oneDNN); the weights are saved
    # contiguous, so the file does not depend on it
    model = model.to(device, memory_format=torch.channels_last)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=options.lr, weight_decay=options.weight_decay
    )
    steps_per_epoch = math.ceil(options.train_count / options.batch_size)
    total = steps_per_epoch * options.epochs
    warmup = max(1, round(options.warmup_fraction * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: cosine_with_warmup(s, total, warmup)
    )
    generator = torch.Generator().manual_seed(
        derive_seed(options.seed, ROLES[options.role].salt, 4)
    )

    started = time.perf_counter()
    epoch_losses: list[float] = []
    step = 0
    model.train()
    for _ in range(options.epochs):
        order = torch.randperm(options.train_count, generator=generator)
        running, seen = 0.0, 0
        for start in range(0, options.train_count, options.batch_size):
            idx = order[start : start + options.batch_size]
            y = train_labels[idx].to(device)
            if twins:  # a face and its twin get the same jitter; faces first, then twins
                x = augment(
                    to_float(train_images[idx].flatten(1, 2)),
                    generator,
                    options.max_shift,
                    options.max_scale,
                )
                x = x.unflatten(1, (2, 3)).transpose(0, 1).flatten(0, 1)
                logits = model(x.to(device, memory_format=torch.channels_last))
                loss = classification_loss(
                    logits, y.transpose(0, 1).flatten(0, 1), names
                ) + options.consistency * twin_consistency(logits, y, names)
            else:
                x = augment(
                    to_float(train_images[idx]), generator, options.max_shift, options.max_scale
                ).to(device, memory_format=torch.channels_last)
                loss = classification_loss(model(x), y, names)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            running += loss.item() * len(idx)
            seen += len(idx)
            if train_progress is not None:
                train_progress(step, total)
        epoch_losses.append(running / seen)
        if log is not None:
            log(f"epoch {len(epoch_losses)}/{options.epochs}: loss {epoch_losses[-1]:.4f}")
    train_seconds = time.perf_counter() - started

    accuracy = evaluate(model, test_images, test_labels, names, device=device)
    agreement = twin_agreement(model, test_pairs, test_pair_labels, names, device=device)
    model.cpu().eval()
    metrics = {
        "role": options.role,
        "held_out_accuracy": accuracy,
        "min_held_out_accuracy": min(accuracy.values()),
        "held_out_count": options.test_count,
        "held_out_twin_agreement": agreement,
        "epoch_losses": epoch_losses,
        "train_seconds": round(train_seconds, 2),
        "render_seconds": round(render_seconds, 2),
        "parameters": parameters,
    }
    record = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(options).items()},
        "device": str(device),
        "train_render_seed": train_seed,
        "test_render_seed": test_seed,
        "init_seed": init_seed,
        "versions": _versions(),
    }
    weights = save({k: v.contiguous() for k, v in model.state_dict().items()})

    def write(folder: Path) -> None:
        _write_json(folder / OPTIONS_FILE, record)
        _write_json(folder / METRICS_FILE, metrics)
        _write_json(folder / CONFIG_FILE, config.to_dict())
        (folder / WEIGHTS_FILE).write_bytes(weights)

    write_folder_atomically(options.out, write)
    return ClassifierResult(
        options.out, accuracy, agreement, epoch_losses, train_seconds, parameters
    )


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


def load_classifier(run_dir: Path) -> AttributeClassifier:
    """The classifier written by :func:`train_classifier` to ``run_dir``, in eval mode."""
    from safetensors.torch import load_file

    config = ClassifierConfig.from_dict(json.loads((run_dir / CONFIG_FILE).read_text()))
    model = AttributeClassifier(config)
    model.load_state_dict(load_file(run_dir / WEIGHTS_FILE))
    return model.eval()

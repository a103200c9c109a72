"""A whole ``nfe-train gan`` run: check the options, prepare the run folder, train with
checkpoints and sample grids, and write the model bundle at the end.

:func:`train_gan` is the entry point; it knows nothing of the command line. It takes a
``progress(images_done, images_total)`` callable (this session's images: a resumed run counts
from its checkpoint) and a ``should_stop()`` flag (the CLI sets it on Ctrl+C), and stops
between two steps after saving a checkpoint.
"""

from __future__ import annotations

import copy
import os
import platform
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nfe_core.device import resolve_device
from nfe_core.jobs import Cancelled
from nfe_core.models.classifier import AttributeClassifier
from training.classifier.train import load_classifier
from training.gan import distributed as dd
from training.gan.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from training.gan.config import TrainConfig, check_size, load_overrides
from training.gan.data import (
    SYNTHETIC,
    StepBatchSampler,
    make_loader,
    open_dataset,
)
from training.gan.loop import StepLosses, Trainer
from training.gan.run_folder import RunFolder, RunFolderError
from training.gan.samples import fixed_latents, save_grid
from training.synth.dataset import FaceDataset, class_shares
from training.synth.writer import LABELS_FILE

W_AVG_SAMPLES = 10_000


@dataclass(frozen=True)
class TrainOptions:
    """What the user asked for (``nfe-train gan``'s options)."""

    data: str  # "synthetic" or a folder of pictures
    size: int
    steps: int
    out: Path
    config_file: Path | None = None
    resume: bool = False
    seed: int = 0
    device: str | None = None
    batch: int | None = None
    dry_run: bool = False
    start_from: Path | None = None  # a (compact) checkpoint to begin a new RUN_DIR from
    guide: Path | None = None  # a classifier run folder guiding the generator (guide_weight)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "size": self.size,
            "steps": self.steps,
            "out": str(self.out),
            "config_file": None if self.config_file is None else str(self.config_file),
            "resume": self.resume,
            "seed": self.seed,
            "device": self.device,
            "batch": self.batch,
            "start_from": None if self.start_from is None else str(self.start_from),
            "guide": None if self.guide is None else str(self.guide),
        }


@dataclass(frozen=True)
class TrainResult:
    """What a run did: the step it reached, images seen, and where the bundle went."""

    run_dir: Path
    step: int
    images_seen: int
    seconds: float
    images_per_s: float
    bundle: Path | None


@dataclass(frozen=True)
class DryRun:
    """What a run would do (``--dry-run``)."""

    lines: tuple[str, ...]


class TrainingCancelled(Cancelled):
    """Stopped on request; ``saved`` says whether a checkpoint of ``step`` was written."""

    def __init__(self, step: int, saved: bool) -> None:
        self.step, self.saved = step, saved
        what = f"checkpoint saved at step {step}" if saved else f"last checkpoint at step {step}"
        super().__init__(f"cancelled ({what})")


Progress = Callable[[int, int], None]
Log = Callable[[str], None]


def train_gan(
    options: TrainOptions,
    *,
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> TrainResult | DryRun:
    """Run (or with ``options.dry_run`` only check) a GAN training run.

    Under ``torchrun`` every process calls this; they train together with DDP and only
    rank 0 writes files, reports progress and logs.

    Raises:
        ValueError: bad options, config, data or run folder (the message says what).
        TrainingCancelled: ``should_stop()`` became true (or Ctrl+C); a checkpoint was saved.
    """
    info = dd.dist_info_from_env()
    device = dd.process_device(resolve_device(options.device), info)
    dd.init_group(info, device)
    try:
        return _train(options, info, device, should_stop, progress, log)
    finally:
        dd.close_group()


def _train(
    options: TrainOptions,
    info: dd.DistInfo,
    device: torch.device,
    should_stop: Callable[[], bool] | None,
    progress: Progress | None,
    log: Log | None,
) -> TrainResult | DryRun:
    say = log if (log is not None and info.is_main) else (lambda _text: None)
    if info.distributed and device.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // info.local_world_size))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    folder = RunFolder(options.out)
    check_size(options.size)
    if options.resume and options.start_from is not None:
        raise ValueError("--resume continues RUN_DIR; --start-from begins a new one: give one")
    checkpoint = None
    if options.resume:
        checkpoint = _open_checkpoint(folder, folder.latest, options)
    elif options.start_from is not None:
        checkpoint = _open_checkpoint(folder, options.start_from, options)
    config = _resolve_config(options, checkpoint)
    guide = _resolve_guide(options, config, checkpoint)
    _check_batch(config, info)
    dataset = open_dataset(options.data, options.size, options.seed, config.synthetic_count)
    shares = _guide_shares(config, dataset, guide)
    if not options.resume:
        folder.check_new()
    if options.dry_run:
        return _dry_run(options, config, dataset, device, info, checkpoint, guide, shares)

    with folder.hold() if info.is_main else nullcontext():
        dd.barrier(info)  # every process has checked the folder before rank 0 writes to it
        trainer = Trainer(config, device, options.seed, info, guide, shares)
        if checkpoint is not None:
            trainer.load_state_dict(checkpoint)
            set_rng_state(checkpoint["rng"])
        if info.is_main:
            folder.create()
            _write_options(folder, options, config, info, device, trainer.step)
            folder.start_losses(keep_until=trainer.step)
        dd.barrier(info)
        start, start_time = trainer.step, time.perf_counter()
        if start >= options.steps:
            say(f"{folder.root} is already at step {start} of {options.steps}; nothing to train")
        else:
            _loop(trainer, folder, options, dataset, info, should_stop, progress)
        seconds = time.perf_counter() - start_time
        bundle = None
        if info.is_main:
            bundle = _write_bundle(folder, trainer, options, info)
    dd.barrier(info)
    trained = (trainer.step - start) * config.batch_size
    return TrainResult(
        run_dir=folder.root,
        step=trainer.step,
        images_seen=trainer.images_seen,
        seconds=seconds,
        images_per_s=trained / seconds if seconds > 0 else 0.0,
        bundle=bundle,
    )


# --------------------------------------------------------------------------------------------
# checks


def _open_checkpoint(folder: RunFolder, path: Path, options: TrainOptions) -> dict[str, Any]:
    if options.resume:
        folder.check_resumable()
    checkpoint = load_checkpoint(path)
    run = checkpoint["run"]
    asked = {"data": _data_key(options.data), "size": options.size, "seed": options.seed}
    for key, value in asked.items():
        if run.get(key) != value:
            raise RunFolderError(
                f"{folder.root} was started with --{key} {run.get(key)}, not {value}; "
                f"--resume continues a run with its own --data, --size and --seed"
            )
    return checkpoint


RETUNABLE = frozenset(
    {"g_lr", "d_lr", "r1_gamma", "ema_half_life_images", "ema_rampup", "mixing_prob"}
    | {"checkpoint_interval", "keep_interval", "sample_interval", "num_workers"}
    | {"detail_box", "detail_weight", "guide_weight", "mirror_weight", "mirror_attributes"}
    | {"guide_shares", "linear_weight"}
)
"""Settings a new run begun from a checkpoint (``--start-from``) may change: how the same
networks go on being optimised (a learning rate, the R1 weight, the EMA, a detail
discriminator beside the main one, which then starts afresh), not what they are, how the
data are ordered or how Adam's lazy regularisation is scaled (``r1_interval``); or how much a
guide classifier weighs and what it asks (guide_shares, mirror_weight, mirror_attributes,
linear_weight)."""


def _guide_shares(
    config: TrainConfig, dataset: FaceDataset, guide: AttributeClassifier | None
) -> dict[str, list[float]] | None:
    """The class shares the guide's batch term asks for (config ``guide_shares``): None for
    the uniform, else the data's labels of the guide's classes; ValueError when it has none."""
    if guide is None or config.guide_shares == "uniform":
        return None
    shares = class_shares(dataset, guide.config.classes)
    if not shares:
        raise ValueError(
            'config: guide_shares "data" needs labelled training data (procedural faces, or a '
            f"folder with {LABELS_FILE}); these pictures carry no labels of the guide's classes"
        )
    return shares


def _resolve_config(options: TrainOptions, checkpoint: dict | None) -> TrainConfig:
    overrides = load_overrides(options.config_file) if options.config_file else {}
    if options.batch is not None:
        overrides["batch_size"] = options.batch
    if checkpoint is None:
        return TrainConfig.for_size(options.size, overrides)
    saved = TrainConfig.from_dict(checkpoint["config"])
    if not overrides:
        return saved
    asked = TrainConfig.for_size(options.size, {**saved.to_dict(), **overrides})
    changed = [k for k, v in asked.to_dict().items() if saved.to_dict()[k] != v]
    if options.start_from is not None:
        fixed = [k for k in changed if k not in RETUNABLE]
        if fixed:
            raise RunFolderError(
                f"{options.start_from}: a run begun from this checkpoint can retune "
                f"{', '.join(sorted(RETUNABLE))}, but {', '.join(fixed)} would change"
            )
        return asked
    if changed:
        raise RunFolderError(
            f"{options.out}: --resume continues with the run's own settings, but "
            f"{', '.join(changed)} would change; leave out --config/--batch or start a new run"
        )
    return saved


def _resolve_guide(
    options: TrainOptions, config: TrainConfig, checkpoint: dict | None
) -> AttributeClassifier | None:
    """The classifier guiding the generator (config ``guide_weight``): the one ``--guide``
    names for a new run; else the checkpoint's (``--resume`` always goes on with it)."""
    if options.guide is not None and options.resume:
        raise RunFolderError(
            f"{options.out}: --resume goes on with the run's own guide; leave out --guide"
        )
    if config.guide_weight == 0:
        if options.guide is not None:
            raise ValueError("--guide needs guide_weight above 0 in the config (--config)")
        return None
    if options.guide is not None:
        try:
            guide = load_classifier(options.guide)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise ValueError(f"{options.guide}: not a classifier run folder ({exc})") from None
    else:
        guide = None if checkpoint is None else Trainer.saved_guide(checkpoint)
        if guide is None:
            raise ValueError(
                f"config: guide_weight {config.guide_weight} needs a guide classifier: "
                "give --guide CLASSIFIER_RUN (e.g. an 'nfe-train classifier' run folder)"
            )
    if guide.config.resolution != config.resolution:
        raise ValueError(
            f"the guide classifier reads {guide.config.resolution} px faces, "
            f"the GAN draws {config.resolution} px"
        )
    return guide


def _check_batch(config: TrainConfig, info: dd.DistInfo) -> None:
    if config.batch_size % info.world_size:
        raise ValueError(
            f"batch size {config.batch_size} must be a multiple of the number of processes "
            f"({info.world_size})"
        )


def _data_key(data: str) -> str:
    return data if data == SYNTHETIC else str(Path(data).resolve())


# --------------------------------------------------------------------------------------------
# the loop


def _loop(
    trainer: Trainer,
    folder: RunFolder,
    options: TrainOptions,
    dataset,
    info: dd.DistInfo,
    should_stop: Callable[[], bool] | None,
    progress: Progress | None,
) -> None:
    config, device = trainer.config, trainer.device
    sampler = StepBatchSampler(
        len(dataset),
        options.seed,
        config.batch_size,
        start=trainer.step,
        stop=options.steps,
        rank=info.rank,
        world_size=info.world_size,
    )
    loader = make_loader(
        dataset, sampler, workers=config.workers(), pin_memory=device.type == "cuda"
    )
    latents = fixed_latents(config.sample_count, config.generator.z_dim, options.seed)
    if info.is_main and trainer.step == 0:
        save_grid(trainer.G_ema, latents, folder.sample_path(0))
    first, per_step = trainer.step, config.batch_size
    to_do = (options.steps - first) * per_step  # progress counts this session's images
    if progress is not None and info.is_main:
        progress(0, to_do)
    last = time.perf_counter()
    run_start = last
    try:
        for batch in loader:
            real = batch["image"].to(device, non_blocking=True)
            losses = trainer.train_step(real)
            stats = dd.reduce_mean(_stats(losses, should_stop), info).tolist()
            now = time.perf_counter()
            stop = stats[5] > 0
            if info.is_main:
                folder.append_losses([_row(trainer, stats, now - last, now - run_start)])
                _after_step(trainer, folder, options, latents, final=stop)
                if progress is not None:
                    progress((trainer.step - first) * per_step, to_do)
            last = now
            if stop:
                raise TrainingCancelled(trainer.step, saved=True)
    except KeyboardInterrupt:
        # a second Ctrl+C (or one without the CLI's handler): save only a whole step
        if not trainer.consistent or info.distributed:
            raise TrainingCancelled(_saved_step(folder), saved=False) from None
        if info.is_main:
            _save(trainer, folder, options)
        raise TrainingCancelled(trainer.step, saved=True) from None


def _stats(losses: StepLosses, should_stop: Callable[[], bool] | None) -> torch.Tensor:
    stop = 1.0 if (should_stop is not None and should_stop()) else 0.0
    flag = torch.tensor([stop], device=losses.d_loss.device)
    return torch.cat([losses.stacked(), flag])


def _row(trainer: Trainer, stats: list[float], step_seconds: float, seconds: float) -> dict:
    d_loss, g_loss, r1, real, fake, _ = stats
    return {
        "step": trainer.step,
        "images_seen": trainer.images_seen,
        "d_loss": d_loss,
        "g_loss": g_loss,
        "r1": None if np.isnan(r1) else r1,
        "real_logit": real,
        "fake_logit": fake,
        "images_per_s": round(trainer.config.batch_size / max(step_seconds, 1e-9), 2),
        "seconds": round(seconds, 3),
    }


def _after_step(
    trainer: Trainer, folder: RunFolder, options: TrainOptions, latents, final: bool
) -> None:
    step, config = trainer.step, trainer.config
    last = step >= options.steps
    if step % config.sample_interval == 0 or last:
        save_grid(trainer.G_ema, latents, folder.sample_path(step))
    if step % config.checkpoint_interval == 0 or last or final:
        _save(trainer, folder, options)
    if config.keep_interval and step % config.keep_interval == 0:
        _save(trainer, folder, options, folder.kept_checkpoint(step))


def _save(trainer: Trainer, folder: RunFolder, options: TrainOptions, path=None) -> None:
    state = {
        **trainer.state_dict(),
        "config": trainer.config.to_dict(),
        "run": {
            "data": _data_key(options.data),
            "size": options.size,
            "seed": options.seed,
            "steps": options.steps,
            "world_size": trainer.info.world_size,
        },
        "rng": rng_state(),
    }
    save_checkpoint(path or folder.latest, state)


def _saved_step(folder: RunFolder) -> int:
    try:
        return int(load_checkpoint(folder.latest)["step"])
    except ValueError:
        return 0


# --------------------------------------------------------------------------------------------
# files


def library_versions() -> dict[str, str]:
    import PIL
    import safetensors

    import nfe_core

    versions = {
        "nfe": nfe_core.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "safetensors": safetensors.__version__,
    }
    if torch.version.cuda:
        versions["cuda"] = torch.version.cuda
    return versions


def _write_options(
    folder: RunFolder,
    options: TrainOptions,
    config: TrainConfig,
    info: dd.DistInfo,
    device: torch.device,
    step: int,
) -> None:
    previous = folder.read_options() if options.resume else {}
    session = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "from_step": step,
        "to_step": options.steps,
        "options": options.to_dict(),
        "device": str(device),
        "world_size": info.world_size,
        "versions": library_versions(),
    }
    folder.write_options(
        {
            "options": previous.get("options", options.to_dict()),
            "data": _data_key(options.data),
            "size": options.size,
            "seed": options.seed,
            "config": config.to_dict(),
            "versions": library_versions(),
            "sessions": [*previous.get("sessions", []), session],
        }
    )


def _write_bundle(
    folder: RunFolder, trainer: Trainer, options: TrainOptions, info: dd.DistInfo
) -> Path:
    from nfe_core.bundle import save_bundle

    generator = copy.deepcopy(trainer.G_ema).float().cpu().eval()
    generator.compute_w_avg(n=W_AVG_SAMPLES, seed=options.seed)
    discriminator = copy.deepcopy(trainer.D).float().cpu().eval()
    data = "procedural anime faces" if options.data == SYNTHETIC else f"pictures in {options.data}"
    training = {
        "trainer": "nfe-train gan",
        "data": _data_key(options.data),
        "size": options.size,
        "steps": trainer.step,
        "images_seen": trainer.images_seen,
        "seed": options.seed,
        "world_size": info.world_size,
        "config": trainer.config.to_dict(),
        "versions": library_versions(),
    }
    return save_bundle(
        folder.bundle,
        generator,
        name=folder.root.resolve().name,
        description=(
            f"StyleGAN2 at {options.size} px trained by nfe-train gan on {data} "
            f"for {trainer.step} steps ({trainer.images_seen} images)"
        ),
        training=training,
        discriminator=discriminator,
        overwrite=True,
    )


# --------------------------------------------------------------------------------------------
# dry run


def _dry_run(
    options: TrainOptions,
    config: TrainConfig,
    dataset,
    device: torch.device,
    info: dd.DistInfo,
    checkpoint: dict | None,
    guide: AttributeClassifier | None,
    shares: dict[str, list[float]] | None,
) -> DryRun:
    start = int(checkpoint["step"]) if checkpoint else 0
    sampler = StepBatchSampler(
        len(dataset),
        options.seed,
        config.batch_size,
        start=start,
        stop=start + 1,
        rank=info.rank,
        world_size=info.world_size,
    )
    batch = next(iter(make_loader(dataset, sampler, workers=0, pin_memory=False)))["image"]
    trainer = Trainer(config, device, options.seed, info, guide, shares)
    with torch.no_grad():
        fake = trainer.G(torch.zeros(batch.shape[0], config.generator.z_dim, device=device))
        trainer.D(batch.to(device))
    params = {
        name: sum(p.numel() for p in net.parameters())
        for name, net in (("G", trainer.G), ("D", trainer.D))
    }
    data = (
        f"{len(dataset)} procedural faces (seed {options.seed})"
        if options.data == SYNTHETIC
        else f"{len(dataset)} pictures in {options.data}"
    )
    what = f"resume {options.out} at step {start}" if checkpoint else f"start {options.out}"
    guided = []
    if guide is not None:
        line = f"  guided by a classifier of {', '.join(guide.config.names)} "
        line += f"(weight {config.guide_weight:g}"
        if shares is None:
            line += "; batch toward uniform class shares)"
        else:
            line += f"; batch toward the data's class shares of {', '.join(shares)})"
        if config.mirror_weight > 0:
            line += f"; mirror term on {', '.join(config.mirror_attributes)} "
            line += f"(weight {config.mirror_weight:g})"
        if config.linear_weight > 0:
            line += f"; linear term (weight {config.linear_weight:g})"
        guided.append(line)
    lines = (
        f"dry run: would {what} and train to step {options.steps}",
        f"  data: {data}, one batch {tuple(batch.shape)} loaded",
        f"  generator: {params['G']:,} parameters, renders {tuple(fake.shape)}; "
        f"discriminator: {params['D']:,} parameters",
        f"  batch {config.batch_size} on {device} x {info.world_size} process(es), "
        f"{config.workers()} data worker(s); checkpoints every {config.checkpoint_interval} "
        f"steps, samples every {config.sample_interval}",
        *guided,
        "  nothing was written",
    )
    return DryRun(lines)

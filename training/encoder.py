"""Train a bundle's encoder on its own generator's samples: ``nfe-train encoder`` calls this.

Each step samples latents (a random truncation per face and, for half the faces, two styles
mixed at a random layer, so the encoder sees W+ that is not one repeated w), renders them with
the fixed noise, and trains the encoder to give them back. Loss, as the NFE report's encoder
loss: latent MSE + pixel MSE of the re-rendered prediction + a feature loss in the attribute
classifier's activation maps + a small adversarial term from the bundle's (frozen)
discriminator when it has one.

With ``real_batch`` > 0 each step also takes that many real pictures (the GAN's training
data), whose latents nobody knows, and asks only that the generator draw them back from the
encoder's guess (pixel, feature and adversarial terms), as in-domain GAN inversion trains its
encoder on real images: generator samples alone leave the encoder unsure of pictures the
generator does not draw exactly, which are the pictures a user inverts.

The work folder keeps ``checkpoint.pt`` (plain tensors; read with ``weights_only=True``):
a rerun continues from it. A new run may start from the encoder of another bundle of the same
shape (``start_from``: e.g. the last sitting's model, whose GAN the new one continues), so
the encoder's training adds up over sittings. At the end the encoder is written into the
bundle.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nfe_core.bundle import load_bundle, resave_bundle
from nfe_core.fileio import write_atomically
from nfe_core.inversion import ImageFeatures, feature_loss
from nfe_core.jobs import ProgressFn, StopFn, check_stop
from nfe_core.models import Generator
from nfe_core.models.classifier import AttributeClassifier
from nfe_core.models.encoder import Encoder, EncoderConfig
from training.gan.config import SYNTHETIC_COUNT
from training.gan.data import SYNTHETIC, open_dataset
from training.synth.dataset import FaceDataset

Log = Callable[[str], None]
CHECKPOINT = "checkpoint.pt"
_FORMAT = "nfe-encoder-checkpoint"


@dataclass(frozen=True)
class EncoderOptions:
    steps: int = 3000
    batch_size: int = 16
    lr: float = 1e-3
    latent_weight: float = 1.0
    pixel_weight: float = 1.0
    feature_weight: float = 1.0
    adversarial_weight: float = 0.02
    min_truncation: float = 0.5  # each face's truncation is uniform in [this, 1]
    mixing_prob: float = 0.5
    real_batch: int = 0  # real pictures per step (from the ``data`` set), drawn back unsupervised
    width: int = 32
    seed: int = 0
    checkpoint_interval: int = 250

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "width", "checkpoint_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
        if isinstance(self.real_batch, bool) or not isinstance(self.real_batch, int):
            raise ValueError(f"real_batch must be a whole number, got {self.real_batch!r}")
        if self.real_batch < 0:
            raise ValueError(f"real_batch must be 0 or more, got {self.real_batch}")
        if not 0 < self.min_truncation <= 1:
            raise ValueError(f"min_truncation must be in (0, 1], got {self.min_truncation}")


def sample_targets(
    generator: Generator, n: int, options: EncoderOptions, g: torch.Generator
) -> torch.Tensor:
    """W+ (n, num_ws, w_dim) the generator can make: truncated, half of them style-mixed."""
    device = generator.w_avg.device
    k, z_dim = generator.num_ws, generator.config.z_dim
    z = torch.randn(2, n, z_dim, generator=g).to(device)
    psi = torch.empty(n, 1, 1).uniform_(options.min_truncation, 1.0, generator=g).to(device)
    with torch.no_grad():
        w1 = generator.mapping(z[0]).unsqueeze(1).expand(-1, k, -1)
        w2 = generator.mapping(z[1]).unsqueeze(1).expand(-1, k, -1)
        cut = torch.randint(1, k, (n,), generator=g)
        mixed = torch.rand(n, generator=g) < options.mixing_prob
        rows = torch.arange(k)[None, :]
        use_second = ((rows >= cut[:, None]) & mixed[:, None]).to(device)[..., None]
        ws = torch.where(use_second, w2, w1)
        return generator.w_avg + psi * (ws - generator.w_avg)


def real_pictures(
    data: FaceDataset, n: int, g: torch.Generator, device: torch.device
) -> torch.Tensor:
    """``n`` pictures (n, 3, R, R) in -1..1 drawn at random from ``data``."""
    picks = torch.randint(len(data), (n,), generator=g).tolist()
    return torch.stack([data[i]["image"] for i in picks]).to(device)


@dataclass(frozen=True)
class EncoderResult:
    bundle: Path
    step: int
    seconds: float
    last_losses: dict[str, float]


def _checkpoint_state(
    encoder: Encoder,
    optimizer: torch.optim.Optimizer,
    step: int,
    rng: torch.Generator,
    options: EncoderOptions,
) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "step": step,
        "options": dataclasses.asdict(options),
        "config": encoder.config.to_dict(),
        "encoder": encoder.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": rng.get_state(),
    }


def _load_checkpoint(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (
        pickle.UnpicklingError,
        RuntimeError,
        EOFError,
        OSError,
        zipfile.BadZipFile,
        ValueError,
    ) as exc:
        raise ValueError(f"{path}: not a readable encoder checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"{path}: not an nfe-train encoder checkpoint")
    return state


def _start_encoder(encoder: Encoder, source: Path, config: EncoderConfig) -> dict[str, Any]:
    """Copy the encoder of bundle ``source`` into ``encoder``; what it was, for the record."""
    other = load_bundle(source, "cpu")
    if other.encoder is None:
        raise ValueError(f"{source}: the bundle has no encoder to start from")
    if other.encoder.config.to_dict() != config.to_dict():
        raise ValueError(
            f"{source}: its encoder is made for another shape ({other.encoder.config.to_dict()}"
            f", this one needs {config.to_dict()})"
        )
    encoder.load_state_dict(other.encoder.state_dict())
    steps = int(other.training.get("encoder", {}).get("steps", 0))
    earlier = other.training.get("encoder", {}).get("start_from", {})
    return {"name": other.name, "steps": steps + int(earlier.get("steps", 0))}


def train_encoder(
    model: Path,
    options: EncoderOptions,
    *,
    work: Path,
    device: str | None = None,
    progress: ProgressFn | None = None,
    log: Log | None = None,
    should_stop: StopFn | None = None,
    start_from: Path | None = None,
    classifier: AttributeClassifier | None = None,
    data: str = SYNTHETIC,
) -> EncoderResult:
    """Train (or continue training) an encoder for bundle ``model``; write it into the bundle.

    ``start_from``: a bundle whose encoder (same resolution, latent size and width) gives the
    initial weights instead of random ones; a checkpoint in ``work`` takes precedence.
    ``classifier``: the annotator whose activation maps make the feature loss, written into
    the bundle with the encoder (the inversion uses the bundle's); default: the bundle's own.
    ``data``: where the real pictures of ``options.real_batch`` come from: ``"synthetic"``
    (procedural faces drawn with ``options.seed``, as the GAN's) or a folder of pictures.
    A cancelled run keeps its checkpoint in ``work`` and leaves the bundle as it was.
    """
    bundle = load_bundle(model, device)
    pictures = (
        open_dataset(data, bundle.resolution, options.seed, SYNTHETIC_COUNT)
        if options.real_batch
        else None
    )
    if classifier is None:
        classifier = bundle.classifier
    if classifier is None:
        raise ValueError(
            f"{model}: the bundle has no classifier for the feature loss; give one "
            "(--classifier RUN_DIR) or run 'nfe-train attributes' first"
        )
    generator = bundle.generator
    classifier = classifier.to(bundle.device).eval()
    features = ImageFeatures(classifier)
    config = EncoderConfig(
        resolution=bundle.resolution,
        w_dim=generator.config.w_dim,
        num_ws=generator.num_ws,
        width=options.width,
    )
    torch.manual_seed(options.seed)
    encoder = Encoder(config).to(bundle.device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=options.lr, betas=(0.9, 0.99))
    rng = torch.Generator().manual_seed(options.seed)
    step = 0
    work.mkdir(parents=True, exist_ok=True)
    state = _load_checkpoint(work / CHECKPOINT)
    if state is not None:
        if state["config"] != config.to_dict():
            raise ValueError(
                f"{work / CHECKPOINT}: made for another encoder; remove it to start over"
            )
        encoder.load_state_dict(state["encoder"])
        optimizer.load_state_dict(state["optimizer"])
        rng.set_state(state["rng"])
        step = int(state["step"])
        origin = state.get("start_from")
        if log:
            log(f"continuing from step {step} ({work / CHECKPOINT})")
    elif start_from is not None:
        origin = _start_encoder(encoder, start_from, config)
        if log:
            log(f"starting from the encoder of {start_from} ({origin['steps']} steps)")
    else:
        origin = None
    encoder.w_avg.copy_(generator.w_avg)  # the generator's own, if it trained on since
    encoder.train()
    started = time.perf_counter()
    losses: dict[str, float] = {}

    def save() -> None:
        payload = _checkpoint_state(encoder, optimizer, step, rng, options)
        if origin is not None:
            payload["start_from"] = origin
        write_atomically(work / CHECKPOINT, lambda stream: torch.save(payload, stream))

    while step < options.steps:
        if should_stop is not None and should_stop():
            save()
            check_stop(should_stop)
        targets = sample_targets(generator, options.batch_size, options, rng)
        with torch.no_grad():
            images = generator.synthesis(targets, noise_mode="const")
            if options.real_batch:
                real = real_pictures(pictures, options.real_batch, rng, bundle.device)
                images = torch.cat([images, real])
            target_features = features(images)
        predicted = encoder(images)
        rendered = generator.synthesis(predicted, noise_mode="const")
        known = len(targets)  # the real pictures' latents are unknown: no latent term for them
        parts = {
            "latent": F.mse_loss(predicted[:known], targets),
            "pixel": F.mse_loss(rendered, images),
            "feature": feature_loss(features(rendered), target_features),
        }
        if bundle.discriminator is not None and options.adversarial_weight > 0:
            parts["adversarial"] = F.softplus(-bundle.discriminator(rendered)).mean()
        weights = {
            "latent": options.latent_weight,
            "pixel": options.pixel_weight,
            "feature": options.feature_weight,
            "adversarial": options.adversarial_weight,
        }
        loss = sum(weights[k] * v for k, v in parts.items())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        losses = {k: round(float(v.detach()), 5) for k, v in parts.items()}
        if not all(math.isfinite(v) for v in losses.values()):
            raise ValueError(f"the encoder's loss became NaN at step {step}: {losses}")
        if progress is not None:
            progress(step, options.steps)
        if step % options.checkpoint_interval == 0 and step < options.steps:
            save()
            if log:
                log(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in losses.items()))
    save()
    encoder.eval().requires_grad_(False)
    training = dict(bundle.training)
    training["encoder"] = {
        "options": dataclasses.asdict(options),
        "steps": step,
        "last_losses": losses,
    }
    if origin is not None:
        training["encoder"]["start_from"] = origin
    resave_bundle(bundle, encoder=encoder, classifier=classifier, training=training, report=None)
    return EncoderResult(bundle.root, step, time.perf_counter() - started, losses)

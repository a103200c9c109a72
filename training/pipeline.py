"""``nfe-train all``: the whole model pipeline from one config file, stage by stage.

A pipeline config is a TOML file (``training/configs/default64.toml``)::

    name = "NFE 64 px"                     # the bundle's name and description
    description = "..."
    size = 64                              # pixels
    seed = 0                               # every stage derives its seed from this one

    [gan]                                  # nfe-train gan
    steps = 100000
    config = "default64.json"              # --config, relative to this file
    guided = true                          # --guide RUNS/annotator (with guide_weight)

    [annotator]                            # nfe-train classifier (any of its options)
    epochs = 30
    [judge]                                # nfe-train classifier --role judge
    epochs = 20
    [attributes]                           # nfe-train attributes
    count = 20000
    [encoder]                              # nfe-train encoder
    steps = 2000
    start_from = "../../resources/models/default"  # optional: begin from its encoder
    [segmenter]                            # nfe-train segmenter (count, epochs, seed...)
    count = 8000
    epochs = 4
    [finish]                               # float16 = true: ship float16 weights when the
    float16 = true                         # renders stay within 40 dB PSNR of float32 ones
    [report]                               # nfe-train report; out: where report.md goes
    out = "docs/default_report"
    [publish]                              # where the finished bundle is copied
    to = "resources/models/default"

The stages, in order: ``annotator``, ``judge``, ``gan``, ``encoder``, ``attributes``,
``segmenter`` (the regions each edit is kept to; trained on procedural renders alone, it is
the same for any GAN of this size), ``finish``, ``report``, ``publish``.

Every stage writes into ``RUNS`` (``--runs``, default ``runs/<config name>``) and is
skipped when its result is already there; an interrupted stage resumes (the GAN and the
encoder from their checkpoints, the labelling from its cache; the segmenter starts over).
So the same command finishes a run over several sittings, and a second run with nothing
left to do only says so.

The stages run the ``nfe-train`` commands themselves, in this process, with the options the
config gives (``[annotator] epochs = 30`` is ``--epochs 30``).
"""

from __future__ import annotations

import json
import math
import shutil
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nfe_core.fileio import write_folder_atomically

# the annotator before the GAN: it may guide it; the encoder before the attributes: their
# choice of W+ rows is measured on inversions too
STAGES = (
    "annotator",
    "judge",
    "gan",
    "encoder",
    "attributes",
    "segmenter",
    "finish",
    "report",
    "publish",
)
_SECTIONS = set(STAGES)
FLOAT16_MIN_PSNR_DB = 40.0
"""float16 weights ship only if renders of the same faces stay this close to float32 ones."""
_TOP = {"name", "description", "size", "seed"}


class PipelineError(ValueError):
    """A pipeline config that cannot be used, or a stage that failed; the message says which."""


@dataclass(frozen=True)
class PipelineConfig:
    """A parsed pipeline TOML (see the module's docstring)."""

    path: Path
    name: str
    description: str
    size: int
    seed: int
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> PipelineConfig:
        """Read and check ``path``; PipelineError names the file and the problem."""
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineError(f"{file}: the pipeline config does not exist") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise PipelineError(f"{file}: not a readable TOML file ({exc})") from None
        unknown = sorted(set(data) - _TOP - _SECTIONS)
        if unknown:
            raise PipelineError(
                f"{file}: unknown setting {', '.join(unknown)} "
                f"(known: {', '.join(sorted(_TOP | _SECTIONS))})"
            )
        for key, kind in (("name", str), ("size", int), ("seed", int)):
            if key not in data and key != "seed":
                raise PipelineError(f"{file}: '{key}' is missing")
            if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
                raise PipelineError(f"{file}: '{key}' must be a {kind.__name__}")
        sections = {}
        for name in _SECTIONS:
            section = data.get(name, {})
            if not isinstance(section, dict):
                raise PipelineError(f"{file}: [{name}] must be a table of options")
            sections[name] = dict(section)
        if "steps" not in sections["gan"]:
            raise PipelineError(f"{file}: [gan] needs 'steps'")
        return cls(
            path=file,
            name=data["name"],
            description=str(data.get("description", "")),
            size=data["size"],
            seed=data.get("seed", 0),
            sections=sections,
        )

    def relative(self, value: str) -> Path:
        """A path given in the config: relative to the config file's folder."""
        path = Path(value)
        return path if path.is_absolute() else self.path.parent / path


def options(section: dict[str, Any], skip: Sequence[str] = ()) -> list[str]:
    """A config table as command-line options: ``{"epochs": 30}`` -> ``["--epochs", "30"]``;
    True is a bare flag, False (or an empty list) leaves it out, a list gives its items:
    ``{"whole": ["blush", "glasses"]}`` -> ``["--whole", "blush", "glasses"]``."""
    out: list[str] = []
    for key, value in section.items():
        if key in skip or value is False or value == []:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, list):
            out.extend([flag, *map(str, value)])
        else:
            out.extend([flag] if value is True else [flag, str(value)])
    return out


@dataclass
class Pipeline:
    """The stages of one config over one runs folder; :meth:`run` does what is left."""

    config: PipelineConfig
    runs: Path
    device: str | None = None
    quiet: bool = False
    say: Callable[[str], None] = print
    command: Callable[[list[str]], int] | None = None  # nfe-train's main (tests may stub it)

    @property
    def model(self) -> Path:
        """The bundle being built (the GAN's bundle plus everything the stages add)."""
        return self.runs / "model"

    def _run(self, argv: list[str]) -> None:
        if self.device is not None:
            argv = [*argv, "--device", self.device]
        if self.quiet:
            argv = [*argv, "--quiet"]
        self.say("$ nfe-train " + " ".join(argv))
        command = self.command
        if command is None:
            from training.cli import main as command
        status = command(argv)
        if status != 0:
            raise PipelineError(f"'nfe-train {argv[0]}' failed (exit status {status})")

    def _meta(self) -> dict[str, Any]:
        try:
            return json.loads((self.model / "bundle.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    # --- the stages: each says whether it had work, and does it --------------------------

    def gan(self) -> bool:
        config, folder = self.config, self.runs / "gan"
        steps = int(config.sections["gan"]["steps"])
        # done when the bundle is from the newest checkpoint: a sitting stopped with Ctrl+C
        # saves a checkpoint but no bundle, and rerunning exports the bundle from it
        exported = _bundle_step(folder)
        if exported >= max(steps, 1) and exported >= _gan_step(folder):
            return False
        argv = ["gan", "--data", "synthetic", "--size", str(config.size), "--steps", str(steps)]
        argv += ["--out", str(folder), "--seed", str(config.seed)]
        extra = config.sections["gan"]
        if "config" in extra:
            argv += ["--config", str(config.relative(extra["config"]))]
        if (folder / "checkpoints" / "latest.pt").is_file():
            argv.append("--resume")  # with the checkpoint's guide, if any
        else:
            if "start_from" in extra:
                argv += ["--start-from", str(config.relative(extra["start_from"]))]
            if extra.get("guided"):
                argv += ["--guide", str(self.runs / "annotator")]
        self._run(argv + options(extra, skip=("steps", "config", "start_from", "guided")))
        return True

    def _classifier(self, role: str, seed_offset: int) -> bool:
        folder = self.runs / role
        if (folder / "metrics.json").is_file():
            return False
        section = dict(self.config.sections[role])
        section.setdefault("seed", self.config.seed + seed_offset)
        argv = ["classifier", "--size", str(self.config.size), "--out", str(folder)]
        self._run(argv + ["--role", role] + options(section))
        return True

    def annotator(self) -> bool:
        return self._classifier("annotator", 0)

    def judge(self) -> bool:
        return self._classifier("judge", 1)

    def _start_model(self) -> None:
        """Begin the model from the GAN's bundle; a model begun from an earlier GAN step
        (the GAN trained on since) is begun again, with the work of its later stages."""
        gan = self.runs / "gan"
        made_from, trained_to = self._meta().get("training", {}).get("steps"), _bundle_step(gan)
        if self.model.exists() and made_from != trained_to:
            self.say(
                f"{self.model} was made from the GAN at step {made_from}, which has trained "
                f"on to step {trained_to}: its later stages start again"
            )
            later = ("attributes", "encoder", "segmenter")
            for folder in (self.model, *(self.runs / stage for stage in later)):
                shutil.rmtree(folder, ignore_errors=True)
        if not self.model.exists():
            shutil.copytree(gan / "bundle", self.model)

    def attributes(self) -> bool:
        self._start_model()
        if self._meta().get("attributes"):
            return False
        argv = ["attributes", "--model", str(self.model)]
        argv += ["--classifier", str(self.runs / "annotator"), "--judge", str(self.runs / "judge")]
        argv += ["--work", str(self.runs / "attributes"), "--seed", str(self.config.seed)]
        self._run(argv + options(self.config.sections["attributes"]))
        if not self._meta().get("attributes"):
            raise PipelineError(
                f"{self.model}: no attribute boundary could be fitted (the labels of every "
                "attribute had one class); the GAN needs more training first"
            )
        return True

    def encoder(self) -> bool:
        self._start_model()
        if "encoder" in self._meta().get("networks", {}):
            return False
        argv = ["encoder", "--model", str(self.model), "--work", str(self.runs / "encoder")]
        argv += ["--classifier", str(self.runs / "annotator"), "--seed", str(self.config.seed)]
        extra = self.config.sections["encoder"]
        if "start_from" in extra:
            argv += ["--start-from", str(self.config.relative(extra["start_from"]))]
        self._run(argv + options(extra, skip=("start_from",)))
        return True

    def segmenter(self) -> bool:
        self._start_model()
        if "segmenter" in self._meta().get("networks", {}):
            return False
        section = dict(self.config.sections["segmenter"])
        section.setdefault("seed", self.config.seed)
        argv = ["segmenter", "--model", str(self.model), "--work", str(self.runs / "segmenter")]
        self._run(argv + options(section))
        return True

    def finish(self) -> bool:
        """Name and describe the bundle, drop the discriminator (the app needs none), and
        with ``[finish] float16 = true`` store float16 weights if that changes no render
        measurably (:data:`FLOAT16_MIN_PSNR_DB`)."""
        meta = self._meta()
        half = bool(self.config.sections["finish"].get("float16", False))
        weights = meta.get("training", {}).get("weights", "float32")
        if (
            meta.get("name") == self.config.name
            and "discriminator" not in meta.get("networks", {})
            and weights == ("float16" if half else "float32")
        ):
            return False
        from nfe_core.bundle import load_bundle, resave_bundle

        self.say(f"naming the bundle “{self.config.name}”, without its discriminator")
        bundle = load_bundle(self.model)
        training = dict(bundle.training)
        if half:
            psnr = float16_render_psnr(bundle)
            keep = psnr >= FLOAT16_MIN_PSNR_DB
            self.say(
                "float16 weights: "
                + (
                    f"renders within {psnr:.1f} dB PSNR of float32 ones; "
                    if math.isfinite(psnr)
                    else "renders the same as float32 ones (the weights were float16 already); "
                )
                + ("storing float16" if keep else "keeping float32")
            )
            # JSON holds no infinity: renders equal to float32 ones are recorded as null
            training["float16_render_psnr_db"] = round(psnr, 2) if math.isfinite(psnr) else None
            half = keep
        resave_bundle(
            bundle,
            float16=half,
            discriminator=None,
            name=self.config.name,
            description=self.config.description,
            training=training,
        )
        return True

    def report(self) -> bool:
        if self._meta().get("report"):
            return False
        section = dict(self.config.sections["report"])
        out = section.pop("out", None)
        argv = ["report", "--model", str(self.model), "--seed", str(self.config.seed)]
        if out is not None:
            argv += ["--out", str(Path(out))]
        self._run(argv + options(section))
        return True

    def publish(self) -> bool:
        """Copy the finished bundle to ``[publish] to`` (replacing it whole, atomically)."""
        target = self.config.sections["publish"].get("to")
        if target is None:
            return False
        target = Path(target)
        if _same_files(self.model, target):
            return False
        if target.is_dir() and any(target.iterdir()) and not (target / "bundle.json").is_file():
            raise PipelineError(f"[publish] to: {target} holds something other than a bundle")
        self.say(f"publishing {self.model} to {target}")
        write_folder_atomically(
            target,
            lambda folder: shutil.copytree(self.model, folder, dirs_exist_ok=True),
            replace=True,
        )
        return True

    def run(self, until: str | None = None) -> list[str]:
        """Run every stage that has work left (up to and including ``until``); returns the
        stages that ran."""
        if until is not None and until not in STAGES:
            raise PipelineError(f"--until: expected one of {', '.join(STAGES)}, got {until!r}")
        self.runs.mkdir(parents=True, exist_ok=True)
        ran = []
        for stage in STAGES:
            if getattr(self, stage)():
                ran.append(stage)
            else:
                self.say(f"{stage}: done already")
            if stage == until:
                break
        return ran


def float16_render_psnr(bundle: Any, faces: int = 64) -> float:
    """PSNR (dB) between the bundle's renders of ``faces`` seeds with its weights as they
    are and rounded to float16 (inf when equal)."""
    import copy

    import numpy as np

    from nfe_core.sampling import render_seeds

    seeds = list(range(faces))
    half = copy.deepcopy(bundle.generator)
    half.load_state_dict(
        {k: v.half().float() if v.is_floating_point() else v for k, v in half.state_dict().items()}
    )
    a = render_seeds(bundle.generator, seeds).astype(np.float64)
    b = render_seeds(half, seeds).astype(np.float64)
    mse = float(((a - b) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _bundle_step(folder: Path) -> int:
    """The GAN step a run's bundle was written at (0 when it has none)."""
    try:
        meta = json.loads((folder / "bundle" / "bundle.json").read_text(encoding="utf-8"))
        return int(meta["training"]["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _gan_step(folder: Path) -> int:
    """The step of a GAN run's newest checkpoint (0 when it has none)."""
    latest = folder / "checkpoints" / "latest.pt"
    if not latest.is_file():
        return 0
    from training.gan.checkpoint import load_checkpoint

    return int(load_checkpoint(latest)["step"])


def _same_files(a: Path, b: Path) -> bool:
    """Whether two folders hold the same file names with the same bytes."""
    if not (a.is_dir() and b.is_dir()):
        return False
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)

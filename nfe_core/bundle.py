"""The model bundle: one folder per model, ``bundle.json`` plus safetensors files.

This module is the one place that knows the format. A bundle (format version 1) holds:

- ``bundle.json``: ``format`` ("nfe-bundle"), ``format_version``, ``name``, ``description``,
  ``created`` (ISO time), ``resolution``, ``z_dim``, ``w_dim``, ``mapping_layers``,
  ``networks`` (for each network its config, as its config dataclass's ``to_dict()``, and
  its file), ``training`` (how it was made: data, steps, seed, library versions...),
  ``attributes`` (a list, empty until the attribute sliders exist) and ``report`` (the
  quality figures, or null). Figures such as accuracies are stored as fractions in 0..1.
- one safetensors file per network (``generator.safetensors``, optionally
  ``discriminator.safetensors``, ``classifier.safetensors`` - the annotator that labelled the
  boundaries' data and that ``nfe tags`` runs - and ``judge.safetensors``, the independent
  classifier the quality report grades with, ``encoder.safetensors`` and
  ``segmenter.safetensors``, the regions an edit is kept to), holding exactly that network's
  ``state_dict()``.
- with attributes, ``boundaries.safetensors``: one unit normal (w_dim,) per boundary, named as
  the boundary (``hair_color:blue``); its other figures (attribute, kind, classes, intercept,
  spread, SVM accuracy, sample counts...) are the ``attributes`` entries of bundle.json.
- nothing else but ``.md``/``.txt`` notes (a README, a LICENSE).

A network is rebuilt from its own config, so loading needs no flags. Nothing is ever
unpickled or executed: ``bundle.json`` is read with :mod:`json`, tensors with safetensors.
Every defect is a :class:`BundleError` that names the file and says what is wrong.

A new kind of network (encoder, classifier...) is one more entry in :data:`NETWORKS`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from nfe_core.device import resolve_device
from nfe_core.editing import Boundaries, Boundary, boundaries_from_records
from nfe_core.fileio import (
    current_umask,
    describe_os_error,
    write_atomically,
    write_folder_atomically,
)
from nfe_core.models import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig
from nfe_core.models.classifier import AttributeClassifier, ClassifierConfig
from nfe_core.models.encoder import Encoder, EncoderConfig
from nfe_core.models.segmenter import Segmenter, SegmenterConfig
from nfe_core.resources import resource_path

FORMAT = "nfe-bundle"
FORMAT_VERSION = 1
META_FILE = "bundle.json"
TENSOR_SUFFIX = ".safetensors"
NOTE_SUFFIXES = (".md", ".txt")
NOTE_NAMES = frozenset({"LICENSE", "README", "NOTICE"})
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".bin", ".npy", ".npz"})


class BundleError(Exception):
    """A bundle cannot be used; ``str(e)`` is ``"<file>: <what is wrong>"`` in plain words."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


# --------------------------------------------------------------------------------------------
# The networks a bundle can hold


@dataclass(frozen=True)
class NetworkKind:
    """How one entry of ``networks`` in bundle.json becomes a module.

    ``config_class`` has ``from_dict``/``to_dict``; ``module_class(config)`` builds the
    network; ``file`` is where its tensors go; a ``required`` network is in every bundle;
    a ``same_resolution`` network works at the generator's resolution (classifiers resize).
    """

    name: str
    config_class: Any
    module_class: Callable[[Any], nn.Module]
    file: str
    required: bool = False
    same_resolution: bool = True

    def config_from_dict(self, data: dict[str, Any]) -> Any:
        return self.config_class.from_dict(data)


NETWORKS: dict[str, NetworkKind] = {
    kind.name: kind
    for kind in (
        NetworkKind("generator", GeneratorConfig, Generator, "generator.safetensors", True),
        NetworkKind(
            "discriminator", DiscriminatorConfig, Discriminator, "discriminator.safetensors"
        ),
        NetworkKind(
            "classifier",
            ClassifierConfig,
            AttributeClassifier,
            "classifier.safetensors",
            same_resolution=False,
        ),
        NetworkKind(
            "judge",
            ClassifierConfig,
            AttributeClassifier,
            "judge.safetensors",
            same_resolution=False,
        ),
        NetworkKind("encoder", EncoderConfig, Encoder, "encoder.safetensors"),
        NetworkKind("segmenter", SegmenterConfig, Segmenter, "segmenter.safetensors"),
    )
}
BOUNDARIES_FILE = "boundaries.safetensors"
# Keys every ``attributes`` entry has, with their JSON types (more keys are allowed: figures)
_RECORD_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "name": ((str,), "a string"),
    "attribute": ((str,), "a string"),
    "kind": ((str,), "a string"),
    "positive": ((str,), "a string"),
    "negative": ((str, type(None)), "a string or null"),
    "latent_space": ((str,), "a string"),
    "intercept": ((int, float), "a number"),
    "spread": ((int, float), "a number"),
    "target_distance": ((int, float), "a number"),
    "strength_range": ((list,), "a list"),
}


# --------------------------------------------------------------------------------------------
# A loaded bundle


@dataclass(frozen=True)
class Bundle:
    """A bundle loaded onto ``device``: its networks in eval mode, without gradients."""

    root: Path
    meta: dict[str, Any]
    generator: Generator
    discriminator: Discriminator | None
    device: torch.device
    classifier: AttributeClassifier | None = None
    judge: AttributeClassifier | None = None
    encoder: Encoder | None = None
    segmenter: Segmenter | None = None
    boundaries: Boundaries = field(default_factory=lambda: Boundaries(()))

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def description(self) -> str:
        return str(self.meta["description"])

    @property
    def resolution(self) -> int:
        return int(self.meta["resolution"])

    @property
    def training(self) -> dict[str, Any]:
        return dict(self.meta["training"])

    @property
    def attributes(self) -> list[dict[str, Any]]:
        return list(self.meta["attributes"])

    @property
    def report(self) -> dict[str, Any] | None:
        return self.meta["report"]

    @property
    def networks(self) -> dict[str, nn.Module]:
        """The networks this bundle holds, by their name in bundle.json."""
        found = {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "classifier": self.classifier,
            "judge": self.judge,
            "encoder": self.encoder,
            "segmenter": self.segmenter,
        }
        return {key: module for key, module in found.items() if module is not None}


def default_bundle_path() -> Path:
    """Where the default model ships: ``resources/models/default`` (it may not exist yet)."""
    return resource_path("models", "default")


# --------------------------------------------------------------------------------------------
# Saving


def save_bundle(
    root: str | os.PathLike[str],
    generator: Generator,
    *,
    name: str,
    description: str = "",
    training: dict[str, Any] | None = None,
    discriminator: Discriminator | None = None,
    classifier: AttributeClassifier | None = None,
    judge: AttributeClassifier | None = None,
    encoder: Encoder | None = None,
    segmenter: Segmenter | None = None,
    boundaries: Sequence[Boundary] | Boundaries | None = None,
    attributes: list[dict[str, Any]] | None = None,
    report: dict[str, Any] | None = None,
    overwrite: bool = False,
    float16: bool = False,
) -> Path:
    """Write a bundle to folder ``root`` and return its path.

    ``float16`` stores the networks' floating-point weights as float16 (half the size; they
    load back into float32 networks; ``training["weights"]`` says ``"float16"``); a weight
    beyond float16's range is a ValueError.

    ``boundaries`` become bundle.json's ``attributes`` entries (their records, see
    :meth:`Boundary.to_record`) and ``boundaries.safetensors``; ``attributes`` may add figures
    to those entries (dicts with a matching ``name``: SVM accuracy, sample counts...).

    The folder is written whole (a hidden sibling temp folder, read back and checked, then
    renamed into place), so it is complete or absent. An existing bundle is replaced only
    with ``overwrite``; a non-empty folder that is not a bundle never is. Bad arguments
    (wrong types, NaN weights, values JSON cannot hold) are a ValueError; a target that
    cannot be written is a BundleError.
    """
    root = Path(root)
    if not isinstance(generator, Generator):
        raise ValueError(f"generator: expected a Generator, got {type(generator).__name__}")
    if discriminator is not None and not isinstance(discriminator, Discriminator):
        raise ValueError(
            f"discriminator: expected a Discriminator or None, got {type(discriminator).__name__}"
        )
    _check_meta_parts(name, description, report)
    if training is not None and not isinstance(training, dict):
        raise ValueError(f"training: expected a dict or None, got {type(training).__name__}")
    for key, value in (("classifier", classifier), ("judge", judge)):
        if value is not None and not isinstance(value, AttributeClassifier):
            raise ValueError(
                f"{key}: expected an AttributeClassifier or None, got {type(value).__name__}"
            )
    if attributes is not None and not (
        isinstance(attributes, list) and all(isinstance(a, dict) for a in attributes)
    ):
        raise ValueError("attributes: expected a list of dicts or None")
    planes = list(boundaries.all if isinstance(boundaries, Boundaries) else boundaries or ())
    records = _attribute_records(planes, attributes or [], generator.config.w_dim)

    modules: dict[str, nn.Module] = {"generator": generator}
    if discriminator is not None:
        if discriminator.config.resolution != generator.config.resolution:
            raise ValueError(
                f"discriminator: expected resolution {generator.config.resolution} (the "
                f"generator's), got {discriminator.config.resolution}"
            )
        modules["discriminator"] = discriminator
    if encoder is not None and not isinstance(encoder, Encoder):
        raise ValueError(f"encoder: expected an Encoder or None, got {type(encoder).__name__}")
    if segmenter is not None and not isinstance(segmenter, Segmenter):
        raise ValueError(f"segmenter: expected a Segmenter or None, got {type(segmenter).__name__}")
    for key, value in (
        ("classifier", classifier),
        ("judge", judge),
        ("encoder", encoder),
        ("segmenter", segmenter),
    ):
        if value is not None:
            modules[key] = value
    config = generator.config
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name.strip(),
        "description": description,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "resolution": config.resolution,
        "z_dim": config.z_dim,
        "w_dim": config.w_dim,
        "mapping_layers": config.mapping_layers,
        "networks": {
            key: {"config": module.config.to_dict(), "file": NETWORKS[key].file}
            for key, module in modules.items()
        },
        "training": _weights_noted(training, float16),
        "attributes": records,
        "report": report,
    }
    for key in ("training", "attributes", "report"):
        _check_json(key, meta[key])
    states = {key: _state_for_saving(key, module, float16) for key, module in modules.items()}
    normals = {b.name: b.normal.detach().float().cpu().contiguous().clone() for b in planes}
    text = _json_text(meta)
    _check_save_target(root, overwrite)

    def write(folder: Path) -> None:
        for key, state in states.items():
            metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "network": key}
            save_file(state, str(folder / NETWORKS[key].file), metadata=metadata)
        if normals:
            metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
            save_file(normals, str(folder / BOUNDARIES_FILE), metadata=metadata)
        (folder / META_FILE).write_text(text, encoding="utf-8")
        mode = 0o666 & ~current_umask()  # safetensors writes its files private (0600)
        for file in folder.iterdir():
            os.chmod(file, mode)
        _open_bundle(folder)  # a bundle that does not read back never lands

    write_folder_atomically(root, write, replace=True, error=BundleError)
    return root


def resave_bundle(
    bundle: Bundle,
    root: str | os.PathLike[str] | None = None,
    *,
    float16: bool | None = None,
    **changes: Any,
) -> Path:
    """Write a loaded ``bundle`` again (over its own folder unless ``root``), with the parts
    named in ``changes`` (any keyword of :func:`save_bundle`) replaced; its weights as
    float16 or float32 as ``float16`` says (None: as they were stored). New boundaries drop
    the old ones' figures unless ``attributes`` is given too.

    When only bundle.json's own parts change (``report``, ``name``, ``description``) in the
    bundle's own folder, only bundle.json is replaced (atomically): the weight files keep
    their bytes (safetensors orders a file's metadata anew each time it writes one, so a
    rewrite would change every file of a committed model for a new report)."""
    args: dict[str, Any] = {
        "generator": bundle.generator,
        "name": bundle.name,
        "description": bundle.description,
        "training": bundle.training,
        "discriminator": bundle.discriminator,
        "classifier": bundle.classifier,
        "judge": bundle.judge,
        "encoder": bundle.encoder,
        "segmenter": bundle.segmenter,
        "boundaries": bundle.boundaries,
        "attributes": bundle.attributes,
        "report": bundle.report,
    }
    unknown = sorted(set(changes) - set(args))
    if unknown:
        raise ValueError(f"resave_bundle: unknown parts {unknown}")
    same_place = root is None or Path(root).resolve() == Path(bundle.root).resolve()
    same_weights = float16 is None or float16 == (bundle.training.get("weights") == "float16")
    if same_place and same_weights and set(changes) <= _META_ONLY:
        return _rewrite_meta(bundle, changes)
    if "boundaries" in changes and "attributes" not in changes:
        args["attributes"] = None
    args.update(changes)
    generator = args.pop("generator")
    root = bundle.root if root is None else root
    if float16 is None:
        float16 = bundle.training.get("weights") == "float16"
    return save_bundle(root, generator, overwrite=True, float16=float16, **args)


def _attribute_records(
    planes: list[Boundary], extra: list[dict[str, Any]], w_dim: int
) -> list[dict[str, Any]]:
    """bundle.json's ``attributes``: each boundary's record with its extra figures."""
    names = [b.name for b in planes]
    if len(set(names)) != len(names):
        raise ValueError(f"boundaries: a name appears twice: {names}")
    for b in planes:
        if not isinstance(b, Boundary):
            raise ValueError(f"boundaries: expected Boundary objects, got {type(b).__name__}")
        if b.w_dim != w_dim:
            raise ValueError(
                f"boundaries: {b.name}'s normal has {b.w_dim} values, w_dim is {w_dim}"
            )
    by_name: dict[str, dict[str, Any]] = {}
    for record in extra:
        name = record.get("name")
        if name not in names:
            raise ValueError(f"attributes: {name!r} is not one of the boundaries ({names})")
        by_name[name] = record
    return [{**by_name.get(b.name, {}), **b.to_record()} for b in planes]


def _json_text(meta: dict[str, Any]) -> str:
    """bundle.json's text: indented, with lists of numbers (channels...) kept on one line."""
    text = json.dumps(meta, indent=2, ensure_ascii=False, allow_nan=False)
    # Only lists json.dumps spread over lines match: a JSON string never holds a raw newline.
    number = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
    spread = re.compile(rf"\[\n\s*({number}(?:,\n\s*{number})*)\n\s*\]")
    return spread.sub(lambda m: "[" + re.sub(r",\n\s*", ", ", m.group(1)) + "]", text) + "\n"


def _weights_noted(training: dict[str, Any] | None, float16: bool) -> dict[str, Any]:
    """``training`` saying how the weights are stored: ``"weights": "float16"``, or nothing."""
    noted = dict(training or {})
    if float16:
        noted["weights"] = "float16"
    else:
        noted.pop("weights", None)
    return noted


_META_ONLY = frozenset({"report", "name", "description"})


def _rewrite_meta(bundle: Bundle, changes: dict[str, Any]) -> Path:
    """:func:`resave_bundle` for changes to bundle.json alone: that file replaced atomically,
    checked as :func:`save_bundle` checks its arguments; the weight files are left as they
    are."""
    root = Path(bundle.root)
    meta = _read_meta(root / META_FILE)
    parts = {key: changes.get(key, meta.get(key)) for key in ("name", "description", "report")}
    _check_meta_parts(**parts)
    _check_json("report", parts["report"])
    meta.update(parts, name=parts["name"].strip())
    data = _json_text(meta).encode("utf-8")
    write_atomically(root / META_FILE, lambda stream: stream.write(data), error=BundleError)
    return root


def _check_meta_parts(name: object, description: object, report: object) -> None:
    """ValueError unless bundle.json's own parts have their types (a non-empty name)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name: expected a non-empty string, got {name!r}")
    if not isinstance(description, str):
        raise ValueError(f"description: expected a string, got {type(description).__name__}")
    if report is not None and not isinstance(report, dict):
        raise ValueError(f"report: expected a dict or None, got {type(report).__name__}")


def _check_json(key: str, value: object) -> None:
    """ValueError unless JSON can hold ``value`` (no NaN, no objects) for bundle.json's ``key``."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key}: expected values JSON can hold ({exc})") from None


def _state_for_saving(
    key: str, module: nn.Module, float16: bool = False
) -> dict[str, torch.Tensor]:
    """``module``'s state as contiguous CPU tensors that share no memory (floating-point ones
    as float16 when asked); NaN/Inf refused."""
    state: dict[str, torch.Tensor] = {}
    for tensor_name, tensor in module.state_dict().items():
        value = tensor.detach().to("cpu").contiguous().clone()
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{key}: tensor {tensor_name!r} has NaN or infinite values")
        if float16 and value.is_floating_point():
            value = value.to(torch.float16)
            if not bool(torch.isfinite(value).all()):
                raise ValueError(
                    f"{key}: tensor {tensor_name!r} holds values beyond float16's range"
                )
        state[tensor_name] = value
    return state


def _check_save_target(root: Path, overwrite: bool) -> None:
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise BundleError(root, "a file with this name already exists; expected a folder")
    if not root.is_dir() or not any(root.iterdir()):
        return
    if not (root / META_FILE).is_file():
        raise BundleError(
            root,
            f"the folder is not empty and is not a model bundle (no {META_FILE}); "
            "refusing to replace it",
        )
    if not overwrite:
        raise BundleError(
            root, "a model bundle already exists here; it is only replaced on request"
        )


# --------------------------------------------------------------------------------------------
# Loading and checking


def check_bundle(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Open and check every file of the bundle at ``root``; return its parsed bundle.json.

    Checks the JSON's keys, types and format version, that each network can be built from
    its config, that the folder holds nothing unexpected, and every tensor of every
    safetensors file: names, shapes (against the network rebuilt from its config), types,
    NaN/Inf. Raises BundleError for the first defect found.
    """
    return _open_bundle(Path(root)).meta


def load_bundle(root: str | os.PathLike[str], device: str | torch.device | None = "cpu") -> Bundle:
    """Check the bundle at ``root`` and load its networks onto ``device`` (None: the best).

    The networks are rebuilt from their configs, loaded strictly, put in eval mode and
    frozen (``requires_grad`` False). A defect is a BundleError; a device this machine does
    not have is a ValueError.
    """
    target = resolve_device(device)
    root = Path(root)
    opened = _open_bundle(root)
    for module in opened.modules.values():
        module.to(target).eval().requires_grad_(False)
    return Bundle(
        root=root,
        meta=opened.meta,
        generator=opened.modules["generator"],  # type: ignore[arg-type]
        discriminator=opened.modules.get("discriminator"),  # type: ignore[arg-type]
        device=target,
        classifier=opened.modules.get("classifier"),  # type: ignore[arg-type]
        judge=opened.modules.get("judge"),  # type: ignore[arg-type]
        encoder=opened.modules.get("encoder"),  # type: ignore[arg-type]
        segmenter=opened.modules.get("segmenter"),  # type: ignore[arg-type]
        boundaries=opened.boundaries.to(target),
    )


@dataclass(frozen=True)
class _Opened:
    meta: dict[str, Any]
    modules: dict[str, nn.Module]  # network name -> the network with its checked weights, CPU
    boundaries: Boundaries


def _open_bundle(root: Path) -> _Opened:
    """Check everything (bundle.json, folder, every tensor) and load the networks on the CPU."""
    if not root.exists():
        raise BundleError(root, "no such folder; expected a model bundle folder")
    if not root.is_dir():
        raise BundleError(
            root, f"this is a file; expected a model bundle folder (the one holding {META_FILE})"
        )
    meta_path = root / META_FILE
    meta = _read_meta(meta_path)
    networks = _check_meta(meta_path, meta)
    modules = {key: _build(meta_path, kind, config) for key, (kind, config) in networks.items()}
    files = {kind.file for kind, _ in networks.values()}
    if meta["attributes"]:
        files.add(BOUNDARIES_FILE)
    _check_folder_contents(root, files)
    for key, module in modules.items():
        path = root / networks[key][0].file
        tensors = _read_tensors(path, key, module.state_dict())
        try:
            module.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise BundleError(path, f"the tensors do not fit the {key} ({exc})") from None
    num_ws = int(modules["generator"].num_ws)  # type: ignore[arg-type]
    return _Opened(meta=meta, modules=modules, boundaries=_read_boundaries(root, meta, num_ws))


def _read_boundaries(root: Path, meta: dict[str, Any], num_ws: int) -> Boundaries:
    """The boundaries named by bundle.json's ``attributes``, normals from their file."""
    records = meta["attributes"]
    if not records:
        return Boundaries(())
    path = root / BOUNDARIES_FILE
    w_dim = int(meta["w_dim"])
    expected = {str(r["name"]): torch.zeros(w_dim) for r in records}
    normals = _read_tensors(path, "boundaries", expected)
    for name, normal in normals.items():
        length = float(normal.double().norm())
        if abs(length - 1.0) > 1e-3:
            raise BundleError(path, f"the normal {name!r} should have length 1, not {length:.4g}")
    try:
        boundaries = boundaries_from_records(records, normals)
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(root / META_FILE, f"'attributes' is not valid: {exc}") from None
    for boundary in boundaries.all:
        if boundary.layers is not None and boundary.layers[1] > num_ws:
            raise BundleError(
                root / META_FILE,
                f"'attributes' is not valid: {boundary.name} names W+ rows "
                f"{boundary.layers[0]}:{boundary.layers[1]}, but the generator has {num_ws}",
            )
    return boundaries


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise BundleError(path, "the file is missing; this folder is not a model bundle")
    if not path.is_file():
        raise BundleError(path, "expected a file, found a folder")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON value")

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BundleError(path, f"cannot be read ({describe_os_error(exc)})") from None
    except UnicodeDecodeError:
        raise BundleError(path, "not a text file (it is not UTF-8)") from None
    try:
        meta = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise BundleError(
            path, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise BundleError(path, f"not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise BundleError(path, f"expected a JSON object, found {_json_type(meta)}")
    return meta


# key -> (JSON types allowed, how to say it)
_META_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "format": ((str,), "a string"),
    "format_version": ((int,), "a whole number"),
    "name": ((str,), "a string"),
    "description": ((str,), "a string"),
    "created": ((str,), "a string"),
    "resolution": ((int,), "a whole number"),
    "z_dim": ((int,), "a whole number"),
    "w_dim": ((int,), "a whole number"),
    "mapping_layers": ((int,), "a whole number"),
    "networks": ((dict,), "an object"),
    "training": ((dict,), "an object"),
    "attributes": ((list,), "a list"),
    "report": ((dict, type(None)), "an object or null"),
}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _is(value: object, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _check_meta(path: Path, meta: dict[str, Any]) -> dict[str, tuple[NetworkKind, Any]]:
    """Check bundle.json's contents; returns each network's kind and config."""
    if meta.get("format") != FORMAT:
        raise BundleError(path, f"not an NFE model bundle ('format' is not {FORMAT!r})")
    version = meta.get("format_version")
    if not _is(version, (int,)):
        raise BundleError(path, "'format_version' is missing or not a whole number")
    if version != FORMAT_VERSION:
        newer = " (made by a newer NFE; update NFE to open it)" if version > FORMAT_VERSION else ""
        raise BundleError(
            path,
            f"unknown format version {version}{newer}; this NFE reads version {FORMAT_VERSION}",
        )
    missing = [key for key in _META_KEYS if key not in meta]
    if missing:
        raise BundleError(path, f"missing key{'s' if len(missing) > 1 else ''}: {_names(missing)}")
    unknown = sorted(set(meta) - set(_META_KEYS))
    if unknown:
        raise BundleError(path, f"unknown key{'s' if len(unknown) > 1 else ''}: {_names(unknown)}")
    for key, (types, said) in _META_KEYS.items():
        if not _is(meta[key], types):
            raise BundleError(path, f"'{key}' should be {said}, not {_json_type(meta[key])}")
    if not meta["name"].strip():
        raise BundleError(path, "'name' is empty")
    for i, attribute in enumerate(meta["attributes"]):
        if not isinstance(attribute, dict):
            raise BundleError(
                path, f"attributes[{i}] should be an object, not {_json_type(attribute)}"
            )
        for key, (types, said) in _RECORD_KEYS.items():
            if key not in attribute:
                raise BundleError(path, f"attributes[{i}] has no '{key}'")
            if not _is(attribute[key], types):
                raise BundleError(
                    path,
                    f"attributes[{i}].{key} should be {said}, not {_json_type(attribute[key])}",
                )
        if attribute["latent_space"] != "w":
            raise BundleError(
                path,
                f"attributes[{i}].latent_space is {attribute['latent_space']!r}; "
                "this NFE edits in 'w'",
            )

    networks = meta["networks"]
    unknown = sorted(set(networks) - set(NETWORKS))
    if unknown:
        raise BundleError(
            path, f"unknown network {_names(unknown)} (this NFE knows {_names(NETWORKS)})"
        )
    for key, kind in NETWORKS.items():
        if kind.required and key not in networks:
            raise BundleError(path, f"'networks' has no {key}")
    result: dict[str, tuple[NetworkKind, Any]] = {}
    files: set[str] = set()
    for key, entry in networks.items():
        kind = NETWORKS[key]
        where = f"networks.{key}"
        if not isinstance(entry, dict):
            raise BundleError(path, f"'{where}' should be an object, not {_json_type(entry)}")
        if set(entry) != {"config", "file"}:
            raise BundleError(path, f"'{where}' should have exactly the keys 'config' and 'file'")
        if not isinstance(entry["config"], dict):
            raise BundleError(path, f"'{where}.config' should be an object")
        file = entry["file"]
        if (
            not isinstance(file, str)
            or file != Path(file).name
            or not file.endswith(TENSOR_SUFFIX)
            or file.startswith(".")
            or file in files
        ):
            raise BundleError(
                path,
                f"'{where}.file' should name a separate {TENSOR_SUFFIX} file in the "
                f"bundle folder, not {file!r}",
            )
        if file != kind.file:
            raise BundleError(path, f"'{where}.file' should be {kind.file!r}, not {file!r}")
        files.add(file)
        try:
            config = kind.config_from_dict(entry["config"])
        except (ValueError, TypeError, KeyError) as exc:
            raise BundleError(
                path, f"'{where}.config' is not a valid {key} config: {exc}"
            ) from None
        result[key] = (kind, config)

    generator = result["generator"][1]
    for key in ("resolution", "z_dim", "w_dim", "mapping_layers"):
        if meta[key] != getattr(generator, key):
            raise BundleError(
                path,
                f"'{key}' is {meta[key]} but the generator's config says {getattr(generator, key)}",
            )
    if "encoder" in result:
        encoder = result["encoder"][1]
        for key in ("w_dim", "num_ws"):
            if getattr(encoder, key) != getattr(generator, key):
                raise BundleError(
                    path,
                    f"the encoder's {key} is {getattr(encoder, key)} but the generator's is "
                    f"{getattr(generator, key)}",
                )
    for key, (kind, config) in result.items():
        if kind.same_resolution and config.resolution != generator.resolution:
            raise BundleError(
                path,
                f"the {key} is for {config.resolution} px but the generator makes "
                f"{generator.resolution} px",
            )
    return result


def _names(names: Iterable[str], limit: int = 5) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_folder_contents(root: Path, files: set[str]) -> None:
    """Only bundle.json, the named safetensors files and notes may be in the folder."""
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name in IGNORED_NAMES:
            continue
        if name == META_FILE or name in files:
            if not entry.is_file():
                raise BundleError(entry, "expected a file, found a folder")
            continue
        if entry.is_dir():
            raise BundleError(entry, "unexpected folder inside the bundle")
        suffix = entry.suffix.lower()
        if (suffix in NOTE_SUFFIXES or name in NOTE_NAMES) and entry.is_file():
            continue
        if suffix in _PICKLE_SUFFIXES:
            reason = (
                f"unexpected {suffix} file in the bundle; bundles hold only {META_FILE} and "
                "safetensors files, and NFE never loads pickles or PyTorch checkpoints"
            )
        elif suffix == TENSOR_SUFFIX:
            reason = f"a safetensors file that {META_FILE} does not name"
        else:
            reason = (
                f"unexpected file in the bundle; bundles hold only {META_FILE}, the safetensors "
                f"files it names, and {'/'.join(NOTE_SUFFIXES)} notes"
            )
        raise BundleError(entry, reason)


def _build(meta_path: Path, kind: NetworkKind, config: Any) -> nn.Module:
    """The network built from ``config`` on the CPU, with fresh weights."""
    try:
        return kind.module_class(config)
    except Exception as exc:  # the config passed from_dict, yet the network cannot be built
        raise BundleError(
            meta_path, f"the {kind.name} cannot be built from its config ({exc})"
        ) from None


def _shape(shape: Iterable[int]) -> str:
    shape = list(shape)
    return "x".join(str(n) for n in shape) if shape else "a scalar"


def _sniff(path: Path) -> None:
    """Refuse, in plain words, files that are clearly something other than safetensors."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(9)
    except OSError as exc:
        raise BundleError(path, f"cannot be read ({describe_os_error(exc)})") from None
    if head[8:9] == b"{":  # a header length, then the JSON header: leave it to safetensors
        return
    if head[:1] == b"\x80":
        raise BundleError(
            path, "this is a Python pickle, not a safetensors file; NFE never loads pickles"
        )
    if head[:4] == b"PK\x03\x04":
        raise BundleError(
            path,
            "this is a zip archive (like a PyTorch .pt checkpoint), not a safetensors "
            "file; NFE never loads those (import checkpoints with 'nfe import-stylegan2')",
        )


def _read_tensors(
    path: Path, network: str, expected: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Read one network's file, checking each tensor against ``expected``; returns them."""
    if not path.exists():
        raise BundleError(path, f"the file is missing ({META_FILE} names it for the {network})")
    if not path.is_file():
        raise BundleError(path, "expected a file, found a folder")
    _sniff(path)
    tensors: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt", device="cpu") as stream:
            names = set(stream.keys())
            missing = [n for n in expected if n not in names]
            if missing:
                raise BundleError(
                    path,
                    f"missing tensor{'s' if len(missing) > 1 else ''} of the "
                    f"{network}: {_names(missing)}",
                )
            extra = sorted(names - set(expected))
            if extra:
                raise BundleError(
                    path,
                    f"unexpected tensor{'s' if len(extra) > 1 else ''} for the "
                    f"{network}: {_names(extra)}",
                )
            for name, want in expected.items():
                shape = list(stream.get_slice(name).get_shape())
                if shape != list(want.shape):
                    raise BundleError(
                        path,
                        f"tensor {name!r} has shape {_shape(shape)} but the {network}'s "
                        f"config needs {_shape(want.shape)}",
                    )
                tensors[name] = _checked_tensor(path, name, stream.get_tensor(name), want)
    except SafetensorError as exc:
        raise BundleError(path, f"not a valid safetensors file ({exc})") from None
    except OSError as exc:
        raise BundleError(path, f"cannot be read ({describe_os_error(exc)})") from None
    return tensors


def _checked_tensor(
    path: Path, name: str, tensor: torch.Tensor, want: torch.Tensor
) -> torch.Tensor:
    if want.is_floating_point() != tensor.is_floating_point() or (
        not want.is_floating_point() and tensor.dtype != want.dtype
    ):
        raise BundleError(
            path,
            f"tensor {name!r} holds {str(tensor.dtype).removeprefix('torch.')} values, "
            f"expected {str(want.dtype).removeprefix('torch.')}",
        )
    if tensor.is_floating_point():
        finite = torch.isfinite(tensor)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            raise BundleError(
                path, f"tensor {name!r} has NaN or infinite values ({bad} of {tensor.numel()})"
            )
    return tensor

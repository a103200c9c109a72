"""Label sources: where the attribute labels of face pictures come from, behind one interface.

A `LabelSource` reads uint8 RGB pictures (N, H, W, 3) and returns, per attribute it knows,
float32 class probabilities (N, n_classes) in the schema's class order, each row summing to 1.
A row of NaN means "this source cannot tell": a CSV row that leaves the attribute empty, a
picture missing from the CSV's column, or a tagger with no tag of the attribute above its
threshold. Callers drop such rows (`hard_labels` turns them into -1).

Three sources:

- `ClassifierSource`: our attribute classifier (the annotator) reads the pixels;
- `CsvSource`: a ``labels.csv`` table (the format ``nfe-train synth`` writes); looks pictures
  up by name, never reads pixels;
- `Wd14Tagger`: a WD14 Danbooru tagger (``model.onnx`` + ``selected_tags.csv``) run with
  onnxruntime on the CPU; its tags are mapped to our classes by `DEFAULT_TAG_MAPPING`.

`open_label_source` turns a command-line spec (``classifier``, ``csv:FILE``, ``wd14:FOLDER``)
into one of them. Nothing here downloads anything.
"""

from __future__ import annotations

import csv
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

import numpy as np
import torch
from PIL import Image

from nfe_core.device import resolve_device
from nfe_core.models.classifier import AttributeClassifier
from nfe_core.sampling import pixels_to_images
from training.synth.schema import (
    ATTRIBUTE_BY_NAME,
    ATTRIBUTES,
    EYE_COLORS,
    HAIR_COLORS,
    HAIR_LENGTH_VALUE,
)

Probabilities = dict[str, np.ndarray]

# Classes that mean "absence": when no tagger tag maps to one, its probability is
# 1 - max(the attribute's other tags).
NEGATIVE_CLASSES = ("false", "none")


class LabelError(ValueError):
    """Labels could not be read or looked up; ``str(e)`` says where (file, line) and why."""


class MissingLabelError(LabelError, KeyError):
    """A picture has no row in a label table (also a KeyError)."""

    __str__ = ValueError.__str__  # KeyError's would quote the whole message


def hard_labels(probs: np.ndarray, min_confidence: float = 0.0) -> np.ndarray:
    """Probabilities (N, C) -> class indices (N,) int64; -1 where the row is NaN (unknown) or
    its best probability is below ``min_confidence``."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 1:
        raise ValueError(f"expected probabilities (N, C), got shape {probs.shape}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be from 0 to 1, got {min_confidence}")
    known = ~np.isnan(probs).any(axis=1)
    labels = np.full(len(probs), -1, dtype=np.int64)
    if known.any():
        rows = probs[known]
        best = rows.argmax(axis=1)
        confident = rows[np.arange(len(rows)), best] >= min_confidence
        labels[np.flatnonzero(known)[confident]] = best[confident]
    return labels


def _check_images(images: np.ndarray) -> np.ndarray:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        kind = getattr(images, "dtype", type(images).__name__)
        raise ValueError(f"expected uint8 images (N, H, W, 3) as a numpy array, got {kind}")
    if images.ndim != 4 or images.shape[3] != 3 or 0 in images.shape[1:3]:
        raise ValueError(f"expected RGB images (N, H, W, 3), got shape {images.shape}")
    return images


class LabelSource(ABC):
    """Something that labels face pictures with our attributes (see the module docstring)."""

    @property
    @abstractmethod
    def attributes(self) -> dict[str, tuple[str, ...]]:
        """The attributes this source labels -> their class names, in schema order."""

    @abstractmethod
    def label(self, images: np.ndarray, names: Sequence[str] | None = None) -> Probabilities:
        """uint8 RGB images (N, H, W, 3) and, for sources that need them, the pictures' file
        names -> {attribute: float32 probabilities (N, n_classes)}; rows sum to 1, or are all
        NaN where the source cannot tell."""


# ---------------------------------------------------------------------------------------
# The attribute classifier


class ClassifierSource(LabelSource):
    """Labels from an `AttributeClassifier` reading the pixels (any size; it resizes).

    ``device`` None keeps the classifier where its weights are; a device moves it there.
    """

    def __init__(
        self,
        classifier: AttributeClassifier,
        device: str | torch.device | None = None,
        batch_size: int = 64,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if device is not None:
            classifier.to(resolve_device(device))
        self.classifier = classifier
        self.batch_size = batch_size
        self.device = next(classifier.parameters()).device

    @property
    def attributes(self) -> dict[str, tuple[str, ...]]:
        return self.classifier.config.classes

    def label(self, images: np.ndarray, names: Sequence[str] | None = None) -> Probabilities:
        images = _check_images(images)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.attributes}
        for start in range(0, len(images), self.batch_size):
            batch = pixels_to_images(images[start : start + self.batch_size]).to(self.device)
            for name, probs in self.classifier.predict(batch).items():
                parts[name].append(probs.float().cpu().numpy())
        return {
            name: np.concatenate(chunks) if chunks else np.zeros((0, len(classes)), np.float32)
            for (name, chunks), classes in zip(parts.items(), self.attributes.values(), strict=True)
        }


# ---------------------------------------------------------------------------------------
# A label table (labels.csv)

LABEL_COLUMNS = ("file", *(a.name for a in ATTRIBUTES), HAIR_LENGTH_VALUE)


@dataclass(frozen=True)
class LabelTable:
    """A validated ``labels.csv``: a ``file`` column (paths relative to the table's folder,
    with or without their suffix), attribute columns holding class names (empty = unknown)
    and optionally ``hair_length_value`` (0..1).

    ``rows`` maps each file (POSIX path as written) to its non-empty values.
    """

    path: Path
    attributes: tuple[str, ...]  # attribute columns present, in schema order
    rows: dict[str, dict[str, str]]
    _by_stem: dict[str, list[str]]

    def find(self, name: str | os.PathLike[str]) -> dict[str, str] | None:
        """The row of picture ``name`` (relative to the table's folder or absolute under it;
        a row may give the file without its suffix), or None if it has none."""
        path = Path(name)
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(self.path.parent.resolve())
            except ValueError:
                return None
        key = path.as_posix()
        if key in self.rows:
            return self.rows[key]
        matches = self._by_stem.get(_stem(key), [])
        if len(matches) > 1:
            raise LabelError(f"{self.path}: {key!r} matches several rows: {', '.join(matches)}")
        return self.rows[matches[0]] if matches else None


def _stem(key: str) -> str:
    return PurePosixPath(key).with_suffix("").as_posix()


def read_label_table(path: str | os.PathLike[str]) -> LabelTable:
    """Read and check a ``labels.csv``; LabelError names the file and line of any problem
    (no ``file`` column, an unknown column or class, a file listed twice)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return _parse_label_table(path, f)
    except OSError as e:
        raise LabelError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise LabelError(f"{path}: not a UTF-8 text file") from None
    except csv.Error as e:
        raise LabelError(f"{path}: not a valid CSV file ({e})") from None


def _parse_label_table(path: Path, f: TextIO) -> LabelTable:
    reader = csv.reader(f)
    header = next(reader, None)
    if not header:
        raise LabelError(f"{path}: empty; expected a header line with a 'file' column")
    header = [h.strip() for h in header]
    where = f"{path}, line 1"
    if "file" not in header:
        raise LabelError(f"{where}: needs a 'file' column; found {', '.join(header)}")
    for column in header:
        if column not in LABEL_COLUMNS:
            raise LabelError(
                f"{where}: unknown column {column!r}; expected file and any of "
                f"{', '.join(LABEL_COLUMNS[1:])}"
            )
        if header.count(column) > 1:
            raise LabelError(f"{where}: column {column!r} appears twice")
    rows: dict[str, dict[str, str]] = {}
    first_line: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        where = f"{path}, line {line}"
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(values) > len(header):
            raise LabelError(f"{where}: {len(values)} fields but the header has {len(header)}")
        row = {c: v.strip() for c, v in zip(header, values, strict=False) if v.strip()}
        file = row.pop("file", "")
        if not file:
            raise LabelError(f"{where}: no file name")
        file_path = PurePosixPath(file)
        if file_path.is_absolute() or ".." in file_path.parts:
            raise LabelError(f"{where}: {file!r} must be relative to the table's folder")
        key = file_path.as_posix()
        if key in rows:
            raise LabelError(f"{where}: {key} is listed again (first on line {first_line[key]})")
        for column, value in row.items():
            if column == HAIR_LENGTH_VALUE:
                _check_length(where, key, value)
            elif value not in ATTRIBUTE_BY_NAME[column].classes:
                raise LabelError(
                    f"{where}: unknown {column} {value!r} for {key}; expected one of "
                    f"{', '.join(ATTRIBUTE_BY_NAME[column].classes)}"
                )
        rows[key] = row
        first_line[key] = line
    by_stem: dict[str, list[str]] = {}
    for key in rows:
        by_stem.setdefault(_stem(key), []).append(key)
    attributes = tuple(a.name for a in ATTRIBUTES if a.name in header)
    return LabelTable(path, attributes, rows, by_stem)


def _check_length(where: str, key: str, value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0.0 <= number <= 1.0:
        raise LabelError(
            f"{where}: {HAIR_LENGTH_VALUE} of {key} must be a number 0..1, got {value!r}"
        )


class CsvSource(LabelSource):
    """Labels from a ``labels.csv`` (see `LabelTable`): one-hot rows, NaN where a cell is
    empty. `label` needs the pictures' names and raises MissingLabelError for a picture the
    table does not list."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.table = read_label_table(path)
        if not self.table.attributes:
            raise LabelError(
                f"{self.table.path}: no attribute columns; expected any of "
                f"{', '.join(a.name for a in ATTRIBUTES)}"
            )

    @property
    def attributes(self) -> dict[str, tuple[str, ...]]:
        return {name: ATTRIBUTE_BY_NAME[name].classes for name in self.table.attributes}

    def label(self, images: np.ndarray, names: Sequence[str] | None = None) -> Probabilities:
        images = _check_images(images)
        if names is None or isinstance(names, str):
            raise ValueError("a CSV label source needs the pictures' file names")
        if len(names) != len(images):
            raise ValueError(f"got {len(images)} images but {len(names)} names")
        out = {
            name: np.full((len(images), len(classes)), np.nan, dtype=np.float32)
            for name, classes in self.attributes.items()
        }
        for i, name in enumerate(names):
            row = self.table.find(name)
            if row is None:
                raise MissingLabelError(f"{self.table.path}: no row for {name}")
            for attribute, probs in out.items():
                if attribute in row:
                    probs[i] = 0.0
                    probs[i, ATTRIBUTE_BY_NAME[attribute].index(row[attribute])] = 1.0
        return out


# ---------------------------------------------------------------------------------------
# A WD14 Danbooru tagger

# Danbooru tag -> (attribute, class). Tags missing from a tagger's list are ignored.
DEFAULT_TAG_MAPPING: dict[str, tuple[str, str]] = {
    **{f"{color}_hair": ("hair_color", color) for color in HAIR_COLORS},
    "light_brown_hair": ("hair_color", "brown"),
    "light_blue_hair": ("hair_color", "blue"),
    "light_purple_hair": ("hair_color", "purple"),
    "grey_hair": ("hair_color", "silver"),
    "white_hair": ("hair_color", "silver"),
    "very_short_hair": ("hair_length", "short"),
    "short_hair": ("hair_length", "short"),
    "medium_hair": ("hair_length", "medium"),
    "long_hair": ("hair_length", "long"),
    "very_long_hair": ("hair_length", "long"),
    "absurdly_long_hair": ("hair_length", "long"),
    **{f"{color}_eyes": ("eye_color", color) for color in EYE_COLORS if color != "gray"},
    "grey_eyes": ("eye_color", "gray"),
    "open_mouth": ("mouth", "open"),
    "closed_mouth": ("mouth", "closed"),
    "blush": ("blush", "true"),
    "glasses": ("glasses", "true"),
    "eyewear": ("glasses", "true"),
    "round_eyewear": ("glasses", "true"),
    "black-framed_eyewear": ("glasses", "true"),
    "red-framed_eyewear": ("glasses", "true"),
    "semi-rimless_eyewear": ("glasses", "true"),
    "rimless_eyewear": ("glasses", "true"),
    "hair_bow": ("accessory", "bow"),
    "hairclip": ("accessory", "hairclip"),
    "hair_ornament": ("accessory", "hairclip"),
    "hair_flower": ("accessory", "flower"),
}

WD14_MODEL = "model.onnx"
WD14_TAGS = "selected_tags.csv"


@dataclass(frozen=True)
class _AttributeTags:
    """How one attribute is read from the tag probabilities."""

    classes: tuple[str, ...]
    tag_indices: tuple[tuple[int, ...], ...]  # per class: model outputs whose max is its score
    negative: int | None  # the class that gets 1 - max(others), if any


def _read_tag_names(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "name" not in reader.fieldnames:
                raise LabelError(
                    f"{path}, line 1: needs a 'name' column (tag_id,name,category,count)"
                )
            names = []
            for row in reader:
                if not row.get("name"):
                    raise LabelError(f"{path}, line {reader.line_num}: no tag name")
                names.append(row["name"].strip().replace(" ", "_"))
    except OSError as e:
        raise LabelError(f"{path}: cannot be read ({e.strerror or e})") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise LabelError(f"{path}: not a valid CSV file ({e})") from None
    if not names:
        raise LabelError(f"{path}: lists no tags")
    return names


def _attribute_tags(
    tag_names: Sequence[str], mapping: Mapping[str, tuple[str, str]]
) -> dict[str, _AttributeTags]:
    """Per mapped attribute (schema order) the tags of each class; attributes none of whose
    tags the model has are left out."""
    index = {}
    for i, name in enumerate(tag_names):
        index.setdefault(name, i)
    per_class: dict[tuple[str, str], list[int]] = {}
    for tag, target in mapping.items():
        if not (isinstance(target, tuple) and len(target) == 2):
            raise LabelError(f"tag mapping: {tag!r} must map to an (attribute, class) pair")
        attribute, cls = target
        if attribute not in ATTRIBUTE_BY_NAME:
            raise LabelError(
                f"tag mapping: {tag!r} maps to unknown attribute {attribute!r}; expected one of "
                f"{', '.join(ATTRIBUTE_BY_NAME)}"
            )
        if cls not in ATTRIBUTE_BY_NAME[attribute].classes:
            raise LabelError(
                f"tag mapping: {tag!r} maps to unknown {attribute} {cls!r}; expected one of "
                f"{', '.join(ATTRIBUTE_BY_NAME[attribute].classes)}"
            )
        if tag in index:
            per_class.setdefault(target, []).append(index[tag])
    out = {}
    for attr in ATTRIBUTES:
        tags = tuple(tuple(per_class.get((attr.name, c), ())) for c in attr.classes)
        if not any(tags):
            continue
        untagged = [i for i, c in enumerate(attr.classes) if not tags[i] and c in NEGATIVE_CLASSES]
        out[attr.name] = _AttributeTags(attr.classes, tags, untagged[0] if untagged else None)
    return out


class Wd14Tagger(LabelSource):
    """Labels from a WD14 Danbooru tagger in ``folder``: ``model.onnx`` (NHWC float32 input,
    BGR, 0..255, a square side such as 448; sigmoid outputs, one per tag) and
    ``selected_tags.csv`` (``tag_id,name,category,count``, one row per output).

    Pictures are padded to square with white and resized (bicubic). Per attribute, each class
    scores the highest probability of its tags (``mapping``), and the scores are normalised
    to sum to 1. A ``false``/``none`` class that no tag maps to scores 1 - max(the others),
    so blush, glasses and accessory are always known; any other attribute whose best tag is
    below ``threshold`` gets a NaN row. Runs with onnxruntime on the CPU.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        mapping: Mapping[str, tuple[str, str]] = DEFAULT_TAG_MAPPING,
        threshold: float = 0.35,
        batch_size: int = 8,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.folder = Path(folder)
        self.threshold = threshold
        if not self.folder.is_dir():
            raise LabelError(f"{self.folder}: not a folder (expected {WD14_MODEL} and {WD14_TAGS})")
        model_path, tags_path = self.folder / WD14_MODEL, self.folder / WD14_TAGS
        for path in (model_path, tags_path):
            if not path.is_file():
                raise LabelError(
                    f"{self.folder}: no {path.name}; a WD14 tagger folder holds {WD14_MODEL} "
                    f"and {WD14_TAGS}"
                )
        self.tag_names = _read_tag_names(tags_path)
        self._tags = _attribute_tags(self.tag_names, mapping)
        if not self._tags:
            raise LabelError(f"{tags_path}: none of the mapped tags is among the model's tags")
        self._session = _open_session(model_path)
        self._input_name, self.side, fixed_batch = _check_input(model_path, self._session)
        self.batch_size = fixed_batch or batch_size
        self._fixed_batch = fixed_batch is not None
        outputs = self._session.get_outputs()
        if not outputs or len(outputs[0].shape) != 2:
            raise LabelError(f"{model_path}: expected an output of shape (batch, tags)")
        width = outputs[0].shape[1]
        if isinstance(width, int) and width != len(self.tag_names):
            raise LabelError(
                f"{self.folder}: {WD14_TAGS} lists {len(self.tag_names)} tags but {WD14_MODEL} "
                f"has {width} outputs; they must be the same tagger's files"
            )

    @property
    def attributes(self) -> dict[str, tuple[str, ...]]:
        return {name: tags.classes for name, tags in self._tags.items()}

    def tag_probabilities(self, images: np.ndarray) -> np.ndarray:
        """uint8 RGB images (N, H, W, 3) -> the model's tag probabilities (N, n_tags)."""
        images = _check_images(images)
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = np.stack([self._prepare(im) for im in images[start : start + self.batch_size]])
            n = len(batch)
            if self._fixed_batch and n < self.batch_size:  # pad a model with a fixed batch
                pad = np.full((self.batch_size - n, *batch.shape[1:]), 255.0, np.float32)
                batch = np.concatenate([batch, pad])
            probs = np.asarray(self._session.run(None, {self._input_name: batch})[0])
            if probs.shape != (len(batch), len(self.tag_names)):
                raise LabelError(
                    f"{self.folder / WD14_MODEL}: returned shape {probs.shape}, expected "
                    f"({len(batch)}, {len(self.tag_names)})"
                )
            out.append(probs[:n])
        if not out:
            return np.zeros((0, len(self.tag_names)), np.float32)
        return np.clip(np.concatenate(out).astype(np.float32), 0.0, 1.0)

    def label(self, images: np.ndarray, names: Sequence[str] | None = None) -> Probabilities:
        return self.labels_from_tags(self.tag_probabilities(images))

    def labels_from_tags(self, tag_probs: np.ndarray) -> Probabilities:
        """Tag probabilities (N, n_tags) -> {attribute: probabilities (N, n_classes)}."""
        out = {}
        for name, tags in self._tags.items():
            scores = np.zeros((len(tag_probs), len(tags.classes)), np.float32)
            for c, indices in enumerate(tags.tag_indices):
                if indices:
                    scores[:, c] = tag_probs[:, list(indices)].max(axis=1)
            if tags.negative is not None:
                scores[:, tags.negative] = 1.0 - scores.max(axis=1)
                unknown = np.zeros(len(scores), bool)
            else:
                unknown = scores.max(axis=1) < self.threshold
            # the sum is > 0 wherever the row is known: >= threshold, or >= 1 with a negative
            probs = scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)
            probs[unknown] = np.nan
            out[name] = probs
        return out

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        """One uint8 RGB picture -> (side, side, 3) float32 BGR 0..255, padded with white."""
        h, w = image.shape[:2]
        n = max(h, w)
        canvas = Image.new("RGB", (n, n), (255, 255, 255))
        canvas.paste(Image.fromarray(image), ((n - w) // 2, (n - h) // 2))
        if n != self.side:
            canvas = canvas.resize((self.side, self.side), Image.Resampling.BICUBIC)
        return np.ascontiguousarray(np.asarray(canvas, dtype=np.float32)[:, :, ::-1])


def _open_session(model_path: Path):  # -> onnxruntime.InferenceSession
    try:
        import onnxruntime
    except ImportError:
        raise LabelError(
            "the WD14 tagger needs onnxruntime: pip install 'neural-face-editor[train]'"
        ) from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    try:
        return onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own exception types for unreadable models
        raise LabelError(f"{model_path}: not a model onnxruntime can run ({e})") from None


def _check_input(model_path: Path, session) -> tuple[str, int, int | None]:
    """The input's name, square side and fixed batch size (None if any batch goes)."""
    inputs = session.get_inputs()
    shape = list(inputs[0].shape) if len(inputs) == 1 else []
    ok = (
        len(shape) == 4
        and shape[3] == 3
        and isinstance(shape[1], int)
        and shape[1] == shape[2]
        and shape[1] > 0
        and inputs[0].type == "tensor(float)"
    )
    if not ok:
        got = ", ".join(f"{i.name} {i.type} {list(i.shape)}" for i in inputs) or "no input"
        raise LabelError(
            f"{model_path}: expected one float image input (batch, side, side, 3), got {got}"
        )
    fixed = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
    return inputs[0].name, shape[1], fixed


# ---------------------------------------------------------------------------------------
# Command lines

SPEC_FORMS = "classifier, classifier:RUN_DIR, csv:FILE or wd14:FOLDER"


def open_label_source(
    spec: str,
    *,
    classifier: AttributeClassifier | None = None,
    device: str | torch.device | None = None,
    threshold: float = 0.35,
) -> LabelSource:
    """The label source a command line names: ``classifier`` (the ``classifier`` given here),
    ``classifier:RUN_DIR`` (one ``nfe-train classifier`` wrote), ``csv:FILE`` or
    ``wd14:FOLDER`` (with ``threshold``). LabelError in words for anything else."""
    kind, sep, target = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "classifier" and not sep:
        if classifier is None:
            raise LabelError("no classifier to label with; give classifier:RUN_DIR")
        return ClassifierSource(classifier, device)
    if kind in ("classifier", "csv", "wd14") and not target:
        raise LabelError(f"{kind}: needs a path after the colon, e.g. {kind}:PATH")
    if kind == "classifier":
        return ClassifierSource(load_classifier_run(Path(target)), device)
    if kind == "csv":
        return CsvSource(target)
    if kind == "wd14":
        return Wd14Tagger(target, threshold=threshold)
    raise LabelError(f"unknown label source {spec!r}; expected {SPEC_FORMS}")


def load_classifier_run(run_dir: Path) -> AttributeClassifier:
    from training.classifier.train import CONFIG_FILE, WEIGHTS_FILE, load_classifier

    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (run_dir / name).is_file():
            raise LabelError(f"{run_dir}: no {name}; not a classifier run folder")
    return load_classifier(run_dir)

"""Training data: procedural faces rendered on the fly, or pictures from a folder.

Both serve the same items, so training code has one path for both:
``{"image": float tensor (3, S, S) in -1..1, "labels": long tensor (A,) of class indices in
ATTRIBUTES order (-1 where unknown), "hair_length_value": float tensor () (NaN if unknown),
"index": int}``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

from nfe_core.imageio import READ_SUFFIXES, load_image
from training.labels import read_label_table
from training.synth.params import FaceParams, face_rng, sample_face
from training.synth.render import MAX_SIZE, MIN_SIZE, render_face
from training.synth.schema import ATTRIBUTES, HAIR_LENGTH_VALUE
from training.synth.writer import LABELS_FILE


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """An RGB image as a float tensor (3, H, W) in -1..1."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1).div_(127.5).sub_(1.0)


def _encode(labels: dict[str, str]) -> tuple[torch.Tensor, torch.Tensor]:
    idx = [attr.index(labels[attr.name]) if labels.get(attr.name) else -1 for attr in ATTRIBUTES]
    value = labels.get(HAIR_LENGTH_VALUE)
    return torch.tensor(idx, dtype=torch.long), torch.tensor(float(value) if value else math.nan)


class FaceDataset(Dataset):
    """Base: subclasses return a PIL image and a label dict for an index."""

    def __init__(self, size: int) -> None:
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"size must be from {MIN_SIZE} to {MAX_SIZE} pixels, got {size}")
        self.size = size

    def load(self, index: int) -> tuple[Image.Image, dict[str, str]]:
        raise NotImplementedError

    def labels_of(self, index: int) -> dict[str, str]:
        """The labels of item ``index`` (class names by attribute; {} when unlabelled)."""
        return self.load(index)[1]

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} faces")
        image, labels = self.load(index)
        codes, length = _encode(labels)
        return {
            "image": image_to_tensor(image),
            "labels": codes,
            "hair_length_value": length,
            "index": index,
        }


class SyntheticFaces(FaceDataset):
    """``count`` procedural faces drawn with ``seed``, rendered when asked for (the same faces
    ``nfe-train synth`` writes with that seed)."""

    def __init__(self, count: int, size: int, seed: int = 0) -> None:
        super().__init__(size)
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self.count, self.seed = count, seed

    def __len__(self) -> int:
        return self.count

    def load(self, index: int) -> tuple[Image.Image, dict[str, str]]:
        params = sample_face(face_rng(self.seed, index))
        return render_face(params, self.size).image, params.labels()

    def labels_of(self, index: int) -> dict[str, str]:
        return sample_face(face_rng(self.seed, index)).labels()  # no render


class TwinFaces(SyntheticFaces):
    """The faces of :class:`SyntheticFaces` (same seed, same faces), each with a twin that
    differs in one attribute only: one drawn at random, moved to another class at random,
    every other draw of the face the same (:func:`sample_face` with that attribute fixed).
    Items add ``"twin_image"`` and ``"twin_labels"``. A classifier whose other readings
    change between a face and its twin reads an attribute from another one's pixels."""

    def twin_params(self, index: int) -> FaceParams:
        params = sample_face(face_rng(self.seed, index))
        rng = np.random.default_rng([int(self.seed), int(index), _TWIN_STREAM])
        attribute = ATTRIBUTES[int(rng.integers(len(ATTRIBUTES)))]
        others = [c for c in attribute.classes if c != getattr(params, attribute.name)]
        moved = others[int(rng.integers(len(others)))]
        return sample_face(face_rng(self.seed, index), **{attribute.name: moved})

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)
        twin = self.twin_params(index)
        item["twin_image"] = image_to_tensor(render_face(twin, self.size).image)
        item["twin_labels"] = _encode(twin.labels())[0]
        return item


_TWIN_STREAM = 7  # the twin's choices come from their own stream of the face's seed


class FolderFaces(FaceDataset):
    """Every picture under ``root`` (recursively), scaled and centre-cropped to ``size``.

    Labels come from ``root/labels.csv`` when it exists (read by
    `training.labels.read_label_table`, which raises LabelError, a ValueError, for a broken
    table); pictures without a row are unlabelled.
    """

    def __init__(self, root: str | os.PathLike, size: int) -> None:
        super().__init__(size)
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"{self.root}: not a folder")
        self.files = sorted(
            p
            for p in self.root.rglob("*")
            if p.suffix.lower() in READ_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(self.root).parts)
        )
        if not self.files:
            raise ValueError(f"{self.root}: no pictures found")
        table = self.root / LABELS_FILE
        self.label_table = read_label_table(table) if table.is_file() else None

    def __len__(self) -> int:
        return len(self.files)

    def load(self, index: int) -> tuple[Image.Image, dict[str, str]]:
        path = self.files[index]
        image = load_image(path).rgb
        if image.size != (self.size, self.size):
            image = ImageOps.fit(image, (self.size, self.size), Image.Resampling.LANCZOS)
        return image, self.labels_of(index)

    def labels_of(self, index: int) -> dict[str, str]:
        if self.label_table is None:
            return {}
        return self.label_table.find(self.files[index].relative_to(self.root)) or {}


def class_shares(
    dataset: FaceDataset, classes: Mapping[str, Sequence[str]], limit: int = 20_000
) -> dict[str, list[float]]:
    """How often each class of ``classes`` (attribute -> class names) is labelled in
    ``dataset``, over up to ``limit`` items spread evenly through it: attribute -> shares in
    the order of its classes, summing to 1 (each count plus one, so no class is ever 0).
    Attributes no item is labelled with are left out."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    indices = np.unique(np.linspace(0, len(dataset) - 1, min(limit, len(dataset))).round())
    counts = {name: np.zeros(len(names)) for name, names in classes.items()}
    labelled = set()
    for index in indices:
        for name, label in dataset.labels_of(int(index)).items():
            if name in counts and label in classes[name]:
                counts[name][list(classes[name]).index(label)] += 1
                labelled.add(name)
    return {
        name: [float(c) for c in (n + 1) / (n + 1).sum()]
        for name, n in counts.items()
        if name in labelled
    }

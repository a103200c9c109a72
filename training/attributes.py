"""Attribute sliders for a bundle: label generated faces, fit linear boundaries in W.

``nfe-train attributes --model BUNDLE`` calls :func:`train_attributes`:

1. sample N latents z (seeded), map them to w, render, and label the renders with a label
   source (the annotator classifier by default; a WD14 tagger works too); stored in
   ``WORK/labels.npz`` (z, w, per-attribute probabilities), reused when the options match;
2. fit, in W, on a seeded train/test split: a two-class attribute gets one linear SVM, a
   ``binary`` boundary; a categorical one a multinomial (softmax) linear model whose classes
   become ``class`` boundaries scored by its logits (``Boundary.scale``), and an ordinal
   attribute (``hair_length``) also one SVM ``ordinal`` direction from its first class to its
   last. One-vs-rest SVMs were the first design, and they cannot isolate a class that lies
   between others in W: on the 64 px default model they reached balanced accuracies of
   0.66-0.94 for the hair colours, where the softmax model's argmax reaches 0.93-0.98 on the
   same labels. Faces the source is unsure of (below ``min_confidence``) are left out; classes
   are weighted to balance them; the figure kept for each class is the **balanced** accuracy
   of "is it this class" on the held-out split (a one-vs-rest of ten classes scores 0.9 by
   always saying no);
3. choose, per attribute, the W+ rows its edits move (:func:`choose_layers`), and where its
   class edits land (:func:`calibrate_targets`);
4. write the bundle back with the classifier(s), the boundaries and their records.

Everything scikit-learn produced is stored as plain numbers: the app never needs it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nfe_core.bundle import Bundle, load_bundle, resave_bundle
from nfe_core.editing import AttributeInfo, Boundaries, Boundary, Edit, apply, order_sign
from nfe_core.fileio import write_atomically
from nfe_core.jobs import ProgressFn, StopFn, check_stop
from nfe_core.models.classifier import AttributeClassifier
from nfe_core.pipeline import model_record
from nfe_core.sampling import images_to_uint8
from training.gan.data import derive_seed
from training.labels import ClassifierSource, LabelSource, hard_labels

Log = Callable[[str], None]
LABELS_FILE = "labels.npz"
# Attributes whose classes are ordered: they also get one direction, first class -> last.
ORDINAL_ATTRIBUTES = frozenset({"hair_length"})
MIN_PER_SIDE = 20  # training faces needed on each side of a boundary (fewer: skipped)


@dataclass(frozen=True)
class AttributeOptions:
    """One labelling + boundary run."""

    count: int = 20_000  # latents to sample and label
    test_fraction: float = 0.2
    min_confidence: float = 0.8  # faces the source is less sure of are left out
    svm_c_grid: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)  # LinearSVC's C
    softmax_c_grid: tuple[float, ...] = (1e-2, 1e-1, 1.0, 10.0)  # LogisticRegression's C
    max_train: int = 20_000  # per boundary, a seeded subsample of the training split
    seed: int = 0
    batch_size: int = 64
    strength_range: tuple[float, float] = (-3.0, 3.0)
    calibration_faces: int = 128  # per class, to choose where class edits land (0: none)
    calibration_success: float = 0.9
    layer_faces: int = 96  # per attribute, to choose the W+ rows its edits move (0: all rows)
    layer_margin: float = 0.03  # what fewer rows must gain (success + kept) over all rows
    layer_success_drop: float = 0.05  # how much less success fewer rows may have than all
    # held-out procedural renders, inverted as the app inverts pictures, on which fewer rows
    # must make the edit too (0, or a bundle without an encoder: sampled faces only)
    layer_inversions: int = 64

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 10:
            raise ValueError(f"count must be a whole number of at least 10, got {self.count!r}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be between 0 and 1, got {self.test_fraction}")
        if not 0 <= self.min_confidence < 1:
            raise ValueError(f"min_confidence must be from 0 to 1, got {self.min_confidence}")
        for name in ("svm_c_grid", "softmax_c_grid"):
            grid = getattr(self, name)
            if not grid or not all(c > 0 for c in grid):
                raise ValueError(f"{name} must hold positive numbers, got {grid}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")

    def labelling_key(self, source: str, bundle: Bundle) -> str:
        """What the stored labels depend on: a mismatch means label again."""
        text = json.dumps(
            [
                self.count,
                self.seed,
                source,
                bundle.meta["networks"]["generator"],
                model_record(bundle),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Labelled:
    """Sampled latents with their labels."""

    z: np.ndarray  # (N, z_dim) float32
    w: np.ndarray  # (N, w_dim) float32
    probs: dict[str, np.ndarray]  # attribute -> (N, n_classes) float32 (NaN rows: unknown)
    classes: dict[str, tuple[str, ...]]


def label_latents(
    bundle: Bundle,
    source: LabelSource,
    options: AttributeOptions,
    *,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> Labelled:
    """Sample ``options.count`` latents from a seeded generator, render them with the model's
    fixed noise and label the renders."""
    generator = bundle.generator
    g = torch.Generator().manual_seed(options.seed)
    z_all = torch.randn(options.count, generator.config.z_dim, generator=g)
    ws, parts = [], []
    for start in range(0, options.count, options.batch_size):
        check_stop(should_stop)
        z = z_all[start : start + options.batch_size].to(bundle.device)
        with torch.inference_mode():
            w = generator.mapping(z)
            images = images_to_uint8(generator.synthesis(w, noise_mode="const"))
        ws.append(w.float().cpu().numpy())
        parts.append(source.label(images))
        if progress is not None:
            progress(min(start + options.batch_size, options.count), options.count)
    probs = {name: np.concatenate([p[name] for p in parts]) for name in source.attributes}
    return Labelled(z_all.numpy(), np.concatenate(ws), probs, dict(source.attributes))


def save_labels(path: Path, labelled: Labelled, key: str) -> None:
    """``labels.npz``: z, w, one probability array per attribute, classes and key as JSON."""

    def write(stream: Any) -> None:
        arrays = {f"probs/{name}": value for name, value in labelled.probs.items()}
        meta = json.dumps({"key": key, "classes": labelled.classes})
        np.savez(stream, z=labelled.z, w=labelled.w, meta=np.array(meta), **arrays)

    write_atomically(path, write)


def load_labels(path: Path, key: str) -> Labelled | None:
    """The labels stored at ``path`` if they were made with ``key``; else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("key") != key:
                return None
            classes = {name: tuple(c) for name, c in meta["classes"].items()}
            probs = {name: data[f"probs/{name}"] for name in classes}
            return Labelled(data["z"], data["w"], probs, classes)
    except (OSError, ValueError, KeyError):
        return None


@dataclass(frozen=True)
class Fitted:
    """One boundary and its figures (bundle.json's record extras)."""

    boundary: Boundary
    figures: dict[str, Any]


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng([seed, 1]).permutation(n)
    n_test = max(1, round(n * test_fraction))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def fit_boundary(
    name: str,
    attribute: str,
    kind: str,
    positive: str,
    negative: str | None,
    w: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    options: AttributeOptions,
    w_all: np.ndarray,
) -> Fitted | str:
    """A linear SVM separating ``y`` True from False on ``w``; or why it was skipped.

    ``train``/``test`` index ``w``/``y``; ``w_all`` (every sampled w) gives the spread.
    """
    from sklearn import __version__ as sklearn_version
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng([options.seed, 2, len(name), *name.encode()])
    if len(train) > options.max_train:
        train = np.sort(rng.choice(train, options.max_train, replace=False))
    counts = {
        "train": {"positive": int(y[train].sum()), "negative": int((~y[train]).sum())},
        "test": {"positive": int(y[test].sum()), "negative": int((~y[test]).sum())},
    }
    if min(counts["train"].values()) < MIN_PER_SIDE or min(counts["test"].values()) < 1:
        return (
            f"too few faces on one side (train {counts['train']['positive']} {positive} / "
            f"{counts['train']['negative']} other, test {counts['test']['positive']} / "
            f"{counts['test']['negative']})"
        )
    # Raw (centred) w, not standardised: standardising favours directions of small variance,
    # which classify but barely change the picture. C: the most regularised value whose
    # balanced accuracy on a validation part of the training split is within 0.01 of the best
    # (on the 32 px interim model, C 0.001 gave better accuracy and far better edits than 0.1).
    mean = w_all.mean(axis=0)
    order = rng.permutation(train)
    n_val = max(1, len(order) // 5)
    fit_part, val_part = order[n_val:], order[:n_val]
    scores = {}
    for c in sorted(options.svm_c_grid):
        if len(set(y[fit_part].tolist())) < 2 or len(set(y[val_part].tolist())) < 2:
            break
        trial = LinearSVC(C=c, class_weight="balanced", dual="auto", max_iter=20_000)
        trial.fit(w[fit_part] - mean, y[fit_part])
        scores[c] = float(balanced_accuracy_score(y[val_part], trial.predict(w[val_part] - mean)))
    best = max(scores.values()) if scores else 0.0
    chosen = min(
        (c for c, v in scores.items() if v >= best - 0.01), default=min(options.svm_c_grid)
    )
    svm = LinearSVC(C=chosen, class_weight="balanced", dual="auto", max_iter=20_000)
    svm.fit(w[train] - mean, y[train])
    coef = svm.coef_[0]
    bias = float(svm.intercept_[0]) - float(coef @ mean)
    length = float(np.linalg.norm(coef))
    normal = coef / length
    intercept = bias / length

    def accuracy(index: np.ndarray) -> float:
        predicted = (w[index] @ normal + intercept) > 0
        return float(balanced_accuracy_score(y[index], predicted))

    projections = w_all @ normal
    spread = float(projections.std())
    positives = (w[test][y[test]] @ normal + intercept) / spread
    # A class edit lands where most held-out faces of the class already are.
    target = float(np.clip(np.quantile(positives, 0.75), 0.5, 3.0)) if len(positives) else 1.0
    boundary = Boundary(
        name=name,
        attribute=attribute,
        kind=kind,  # type: ignore[arg-type]
        positive=positive,
        negative=negative,
        normal=torch.from_numpy(normal.astype(np.float32)),
        intercept=intercept,
        spread=spread,
        target_distance=round(target, 4),
        strength_range=options.strength_range,
    )
    figures = {
        "svm_test_accuracy": round(accuracy(test), 4),
        "svm_train_accuracy": round(accuracy(train), 4),
        "samples": counts,
        "svm": {
            "library": f"scikit-learn {sklearn_version}",
            "model": "LinearSVC",
            "C": chosen,
            "validation_balanced_accuracy": {f"{c:g}": round(v, 4) for c, v in scores.items()},
        },
    }
    return Fitted(boundary, figures)


def fit_classes(
    attribute: str,
    classes: tuple[str, ...],
    w: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    options: AttributeOptions,
    w_all: np.ndarray,
) -> tuple[list[Fitted], dict[str, str]]:
    """One multinomial (softmax) linear model over the classes of a categorical attribute:
    a ``class`` boundary per class (unit normal, intercept and ``scale`` such that
    ``scale * distance`` is the class's logit), and the classes skipped with the reason.

    ``labels`` hold a class index per face (-1: unknown); ``train``/``test`` index ``w``;
    ``w_all`` gives the spreads. A class with fewer than MIN_PER_SIDE training faces (or none
    held out) is left out of the model. C is chosen as for the SVMs: the most regularised
    whose balanced accuracy on a validation part of the training split is within 0.01 of the
    best.
    """
    from sklearn import __version__ as sklearn_version
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score

    skipped: dict[str, str] = {}
    kept: list[int] = []
    for i, c in enumerate(classes):
        n_train, n_test = int((labels[train] == i).sum()), int((labels[test] == i).sum())
        if n_train < MIN_PER_SIDE or n_test < 1:
            skipped[f"{attribute}:{c}"] = (
                f"too few faces on one side (train {n_train} {c} / "
                f"{len(train) - n_train} other, test {n_test} / {len(test) - n_test})"
            )
        else:
            kept.append(i)
    if len(kept) < 2:
        for i in kept:
            skipped[f"{attribute}:{classes[i]}"] = "the other classes have too few faces"
        return [], skipped
    train, test = train[np.isin(labels[train], kept)], test[np.isin(labels[test], kept)]
    rng = np.random.default_rng([options.seed, 3, len(attribute), *attribute.encode()])
    if len(train) > options.max_train:
        train = np.sort(rng.choice(train, options.max_train, replace=False))
    mean = w_all.mean(axis=0)

    def model(c: float) -> Any:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=3000)

    order = rng.permutation(train)
    n_val = max(1, len(order) // 5)
    fit_part, val_part = order[n_val:], order[:n_val]
    scores: dict[float, float] = {}
    for c in sorted(options.softmax_c_grid):
        if len(set(labels[fit_part].tolist())) < len(kept):
            break
        trial = model(c).fit(w[fit_part] - mean, labels[fit_part])
        predicted = trial.predict(w[val_part] - mean)
        scores[c] = float(balanced_accuracy_score(labels[val_part], predicted))
    best = max(scores.values()) if scores else 0.0
    chosen = min(
        (c for c, v in scores.items() if v >= best - 0.01), default=min(options.softmax_c_grid)
    )
    fit = model(chosen).fit(w[train] - mean, labels[train])
    weights = fit.coef_.astype(np.float64)  # (K, w_dim) over the kept classes, in fit.classes_
    biases = fit.intercept_.astype(np.float64) - weights @ mean
    logits_all = w @ weights.T + biases

    def accuracy(index: np.ndarray, i: int) -> float:
        """Balanced accuracy of "is it class i" by the model's argmax on faces ``index``."""
        predicted = fit.classes_[logits_all[index].argmax(axis=1)]
        return float(balanced_accuracy_score(labels[index] == i, predicted == i))

    fitted: list[Fitted] = []
    for k, i in enumerate(fit.classes_.tolist()):
        name, positive = f"{attribute}:{classes[i]}", classes[i]
        length = float(np.linalg.norm(weights[k]))
        normal = weights[k] / length
        spread = float((w_all @ normal).std())

        # A class edit lands where most held-out faces of the class already are: their lead
        # over the best other class, in spreads of this class's logit.
        mine = test[labels[test] == i]
        others = np.delete(logits_all[mine], k, axis=1).max(axis=1)
        lead = (logits_all[mine, k] - others) / (length * spread)
        target = float(np.clip(np.quantile(lead, 0.75), 0.1, 3.0)) if len(lead) else 1.0
        boundary = Boundary(
            name=name,
            attribute=attribute,
            kind="class",
            positive=positive,
            negative=None,
            normal=torch.from_numpy(normal.astype(np.float32)),
            intercept=float(biases[k]) / length,
            spread=spread,
            target_distance=round(target, 4),
            strength_range=options.strength_range,
            scale=length,
        )
        y = labels == i
        counts = {
            part: {"positive": int(y[idx].sum()), "negative": int((~y[idx]).sum())}
            for part, idx in (("train", train), ("test", test))
        }
        figures = {
            "svm_test_accuracy": round(accuracy(test, i), 4),
            "svm_train_accuracy": round(accuracy(train, i), 4),
            "samples": counts,
            "svm": {
                "library": f"scikit-learn {sklearn_version}",
                "model": "LogisticRegression (multinomial, one model per attribute)",
                "C": chosen,
                "validation_balanced_accuracy": {f"{c:g}": round(v, 4) for c, v in scores.items()},
            },
        }
        fitted.append(Fitted(boundary, figures))
    return fitted, skipped


def fit_boundaries(
    labelled: Labelled,
    options: AttributeOptions,
    *,
    log: Log | None = None,
    should_stop: StopFn | None = None,
) -> tuple[list[Fitted], dict[str, str]]:
    """Every boundary the labels support, and the ones skipped with the reason."""
    w = labelled.w.astype(np.float64)
    train_all, test_all = _split(len(w), options.test_fraction, options.seed)
    fitted: list[Fitted] = []
    skipped: dict[str, str] = {}
    for attribute, classes in labelled.classes.items():
        labels = hard_labels(labelled.probs[attribute], options.min_confidence)
        known = labels >= 0
        train, test = train_all[known[train_all]], test_all[known[test_all]]
        jobs: list[tuple[str, str, str, str | None, np.ndarray, np.ndarray, np.ndarray]] = []
        if len(classes) == 2:
            jobs.append((attribute, "binary", classes[1], classes[0], labels == 1, train, test))
        else:
            check_stop(should_stop)
            per_class, passed = fit_classes(attribute, classes, w, labels, train, test, options, w)
            fitted += per_class
            skipped.update(passed)
            if log:
                for name, reason in passed.items():
                    log(f"skipped {name}: {reason}")
                for f in per_class:
                    log(
                        f"{f.boundary.name}: balanced test accuracy "
                        f"{f.figures['svm_test_accuracy']:.4f} "
                        f"({f.figures['samples']['test']['positive']} held out)"
                    )
            if attribute in ORDINAL_ATTRIBUTES:
                ends = np.isin(labels, [0, len(classes) - 1])
                jobs.append(
                    (
                        attribute,
                        "ordinal",
                        classes[-1],
                        classes[0],
                        labels == len(classes) - 1,
                        train[ends[train]],
                        test[ends[test]],
                    )
                )
        for name, kind, positive, negative, y, tr, te in jobs:
            check_stop(should_stop)
            result = fit_boundary(
                name, attribute, kind, positive, negative, w, y, tr, te, options, w
            )
            if isinstance(result, str):
                skipped[name] = result
                if log:
                    log(f"skipped {name}: {result}")
                continue
            fitted.append(result)
            if log:
                log(
                    f"{name}: balanced test accuracy {result.figures['svm_test_accuracy']:.4f} "
                    f"({result.figures['samples']['test']['positive']} {positive} held out)"
                )
    return fitted, skipped


# in spreads; beyond 4 (four standard deviations of the model's faces along the normal) the
# renders leave the distribution and break up. The small ones are for softmax classes: their
# logits spread widely (one spread is 9-37 logits on the 64 px default model), so a lead of
# 0.2-0.3 spreads is already a confident class.
CALIBRATION_DISTANCES = (0.1, 0.2, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


def _standard_error(success: float, faces: int) -> float:
    return math.sqrt(max(success * (1 - success), 1e-4) / faces)


def _past_peak(tried: dict[float, float], faces: int) -> bool:
    """Whether the last distance tried did clearly worse than the best (two standard errors):
    success falls as edits go further out of the model's distribution, so stop there."""
    best = max(tried.values())
    last = tried[max(tried)]
    return last < best - 2 * _standard_error(best, faces)


def choose_distance(tried: dict[float, float], faces: int, options: AttributeOptions) -> float:
    """Where a class edit lands, from the share of ``faces`` that became the class at each
    distance tried: the first that reaches ``options.calibration_success``; when none does,
    the shortest whose success is within one standard error of the best (farther moves
    change more of the face, so a gain the measurement cannot tell from noise is not worth
    it: black hair went 1 -> 1.5 spreads for 0.62 -> 0.64 of 64 faces, and blurred faces)."""
    if not tried:
        raise ValueError("choose_distance: nothing tried")
    reached = [d for d in sorted(tried) if tried[d] >= options.calibration_success]
    if reached:
        return reached[0]
    best = max(tried.values())
    near = best - _standard_error(best, faces)
    return min(d for d, success in tried.items() if success >= near)


# in spreads, nearest first: the distances :func:`choose_layers` lands class edits at, as
# :func:`nfe_core.editing.land` does in the app (a coarser ladder: the choice compares rows).
LAYER_TRIAL_DISTANCES = (0.3, 1.0, 2.0, 4.0)


def _read_renders(bundle: Bundle, source: LabelSource, ws: Tensor) -> dict[str, np.ndarray]:
    """The label source's class index per attribute (-1: unknown) for the renders of latents
    ``ws`` (N, w_dim) or W+ (N, num_ws, w_dim), with the model's fixed noise."""
    with torch.inference_mode():
        images = images_to_uint8(bundle.generator.synthesis(ws, noise_mode="const"))
    return {k: hard_labels(v) for k, v in source.label(images).items()}


def _fresh_faces(
    bundle: Bundle, source: LabelSource, count: int, seed: int
) -> tuple[Tensor, dict[str, np.ndarray]]:
    """``count`` sampled w (seeded, on the bundle's device) and what the source reads on them."""
    generator = bundle.generator
    z = torch.randn(count, generator.config.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        ws = generator.mapping(z.to(bundle.device))
    return ws, _read_renders(bundle, source, ws)


def layer_spans(num_ws: int) -> list[tuple[int, int]]:
    """The W+ row ranges :func:`choose_layers` tries: every run of whole pairs of rows (the
    generator's layers come two per resolution), the last one ending at ``num_ws``."""
    edges = sorted({*range(0, num_ws, 2), num_ws})
    return [(a, b) for i, a in enumerate(edges) for b in edges[i + 1 :]]


def choose_span(
    scores: dict[tuple[int, int], tuple[float, float]],
    full: tuple[int, int],
    options: AttributeOptions,
    inverted: dict[tuple[int, int], tuple[float, float]] | None = None,
) -> tuple[int, int]:
    """Of spans -> (success, share kept) on sampled faces (and on inverted ones), the one
    :func:`choose_layers` picks (see there)."""

    def able(span: tuple[int, int], table: dict[tuple[int, int], tuple[float, float]]) -> bool:
        return table[span][0] >= table[full][0] - options.layer_success_drop

    # rows that keep the face by not making the edit at all do not count, on either set
    spans = [s for s in scores if able(s, scores) and (inverted is None or able(s, inverted))]
    best = max(spans, key=lambda s: (sum(scores[s]), -(s[1] - s[0])))
    return best if sum(scores[best]) > sum(scores[full]) + options.layer_margin else full


def inverted_faces(
    bundle: Bundle,
    classifier: AttributeClassifier,
    count: int,
    seed: int,
    *,
    boundaries: Boundaries | None = None,
    should_stop: StopFn | None = None,
) -> Tensor:
    """``count`` procedural renders (drawn with ``seed``, so none the GAN trained on) inverted
    as the app inverts a picture (encoder, then the default optimisation, with ``classifier``
    as the feature loss's network and holding the classes it reads in ``boundaries``), up to
    the latent its sliders move: the one w that the default pivotal tuning holds
    (:attr:`~nfe_core.inversion.TuningOptions.holds_one_w`), else W+ rows. The tuning itself
    is left out (the edits are read on the bundle's generator). W+ (count, num_ws, w_dim) on
    the bundle's device."""
    from nfe_core.inversion import TuningOptions, invert
    from training.classifier.train import render_cache
    from training.synth.dataset import SyntheticFaces

    assert bundle.encoder is not None
    images, _ = render_cache(SyntheticFaces(count, bundle.resolution, seed=seed))
    classifier = classifier.to(bundle.device).eval()
    one_w = TuningOptions().holds_one_w
    latents = []
    for image in images.float() / 127.5 - 1:
        check_stop(should_stop)
        found = invert(
            image, bundle.generator, bundle.encoder, classifier,
            one_w=one_w, boundaries=boundaries, should_stop=should_stop,
        )  # fmt: skip
        latents.append(found.latent)
    return torch.stack(latents).to(bundle.device)


def _span_scores(
    bundle: Bundle,
    source: LabelSource,
    ws: Tensor,
    before: dict[str, np.ndarray],
    attribute: str,
    targets: list[str],
    model: Boundaries,
    span: tuple[int, int],
) -> tuple[float, float]:
    """(success, share with every other attribute unchanged) of class edits of ``attribute``
    to ``targets`` (one per face of ``ws``, read as ``before``) moving W+ rows ``span``,
    the other attributes preserved, landed per face at the first of
    :data:`LAYER_TRIAL_DISTANCES` where ``source`` reads the target; an ordered attribute's
    (hair length) as that strength along its direction, from the class read, as
    :func:`~nfe_core.editing.land` moves them."""
    num_ws = bundle.generator.num_ws
    classes = source.attributes[attribute]
    info = model.info(attribute)
    trial = Boundaries(
        [dataclasses.replace(b, layers=span) if b.attribute == attribute else b for b in model.all]
    )
    kept = tuple(name for name in model.attributes if name != attribute)
    others = [name for name in before if name != attribute]
    known = before[attribute] >= 0
    success = np.zeros(len(ws), dtype=bool)
    unchanged = np.zeros(len(ws), dtype=bool)
    waiting = np.flatnonzero(known)
    for distance in LAYER_TRIAL_DISTANCES:
        if not len(waiting):
            break
        edited = torch.stack(
            [
                apply(
                    ws[i],
                    [_trial_edit(info, classes[before[attribute][i]], targets[i], kept, distance)],
                    trial,
                    num_ws=num_ws,
                )
                for i in waiting.tolist()
            ]
        )
        read = _read_renders(bundle, source, edited)
        hit = np.array(
            [
                read[attribute][j] >= 0 and classes[read[attribute][j]] == targets[i]
                for j, i in enumerate(waiting.tolist())
            ]
        )
        same = np.ones(len(waiting), dtype=bool)
        for name in others:
            same &= read[name] == before[name][waiting]
        settled = hit | (distance == LAYER_TRIAL_DISTANCES[-1])
        success[waiting[settled]] = hit[settled]
        unchanged[waiting[settled]] = same[settled]
        waiting = waiting[~settled]
    n = max(int(known.sum()), 1)
    return float(success[known].sum()) / n, float(unchanged[known].sum()) / n


def _trial_edit(
    info: AttributeInfo, now: str, target: str, kept: tuple[str, ...], distance: float
) -> Edit:
    """A face read as class ``now`` sent to ``target`` at one rung ``distance`` (spreads) of
    the layer trial: along an ordered attribute's direction, else into the class."""
    sign = order_sign(info, now, target)
    if sign is not None:
        return Edit(info.name, strength=sign * distance, preserve=kept)
    return Edit(info.name, target=target, preserve=kept, distance=distance)


def choose_layers(
    bundle: Bundle,
    fitted: list[Fitted],
    source: LabelSource,
    options: AttributeOptions,
    *,
    inverted: Tensor | None = None,
    log: Log | None = None,
    should_stop: StopFn | None = None,
) -> list[Fitted]:
    """Choose, per attribute, the W+ rows its edits move (``Boundary.layers``) by measurement.

    A generator draws each attribute with some of its layers (StyleGAN's coarse rows the
    shape, its fine rows the colours), and moving only those leaves more of the face as it
    was. On ``options.layer_faces`` fresh faces, every attribute gets a class edit to another
    class (the others preserved, as the report's edits) moving each span of
    :func:`layer_spans`, landed per face at the first of :data:`LAYER_TRIAL_DISTANCES` where
    the label source reads the target. Of the spans whose success is at most
    ``options.layer_success_drop`` below that of all rows (rows that leave the face alone keep
    it best: accessory edits moving rows 8-10 kept 0.85 of faces, and made 0.04 of them), the
    one whose success plus share of faces with every other attribute unchanged is the highest
    wins, when it beats all rows by ``options.layer_margin`` (else all rows). The annotator
    measures, never the judge.
    On the 64 px default model, judged on 200 sampled faces at the calibrated distance: eye
    colour in rows 6-10 kept the rest on 0.74 of faces (all rows: 0.44) for success 0.57
    (0.60); hair length in rows 2-10 0.44 (0.32) for 0.81 (0.88); hair colour gained nothing.

    ``inverted`` (W+ latents of inverted pictures, :func:`inverted_faces`): a span must also
    keep its success within ``options.layer_success_drop`` of all rows' on them. The
    optimisation spreads an attribute over rows that sampled faces do not use for it: on 60
    inverted renders of the default model, mouth edits moving rows 2:6 (chosen on sampled
    faces) made 0.58 of them (annotator), all rows 0.85.
    """
    num_ws = bundle.generator.num_ws
    planes = {f.boundary.name: f.boundary for f in fitted}
    figures = {f.boundary.name: dict(f.figures) for f in fitted}
    model = Boundaries(list(planes.values()))
    ws, before = _fresh_faces(bundle, source, options.layer_faces, options.seed + 104_729)
    sets = [(ws, before, np.random.default_rng([options.seed, 104_729]))]
    if inverted is not None:
        seen = _read_renders(bundle, source, inverted)
        sets.append((inverted, seen, np.random.default_rng([options.seed, 104_723])))
    for attribute, info in model.attributes.items():
        classes = source.attributes.get(attribute)
        if attribute not in before or classes is None or not set(info.classes) <= set(classes):
            continue
        tables: list[dict[tuple[int, int], tuple[float, float]]] = []
        for faces, read, rng in sets:
            now = np.array(
                [info.classes.index(classes[c]) if c >= 0 else 0 for c in read[attribute]]
            )
            moved = (now + rng.integers(1, len(info.classes), size=len(faces))) % len(info.classes)
            targets = [info.classes[c] for c in moved]
            table = {}
            for span in layer_spans(num_ws):
                check_stop(should_stop)
                table[span] = _span_scores(
                    bundle, source, faces, read, attribute, targets, model, span
                )
            tables.append(table)
        scores, on_inverted = tables[0], (tables[1] if len(tables) > 1 else None)
        full = (0, num_ws)
        chosen = choose_span(scores, full, options, on_inverted)
        layers = None if chosen == full else chosen
        for boundary in info.boundaries:
            planes[boundary.name] = dataclasses.replace(planes[boundary.name], layers=layers)
            for key, table in zip(("layers_tried", "layers_tried_inverted"), tables, strict=False):
                # span: [success, kept]
                figures[boundary.name][key] = {
                    f"{a}:{b}": [round(v, 4) for v in table[(a, b)]] for a, b in table
                }
        if log:
            s, k = scores[chosen]
            fs, fk = scores[full]
            line = (
                f"{attribute}: edits move W+ rows {chosen[0]}:{chosen[1]} (success {s:.2f}, "
                f"the rest kept {k:.2f}; all rows: {fs:.2f}, {fk:.2f})"
            )
            if on_inverted is not None:
                line += (
                    f"; on inverted faces success {on_inverted[chosen][0]:.2f} "
                    f"(all rows: {on_inverted[full][0]:.2f})"
                )
            log(line)
    return [Fitted(planes[f.boundary.name], figures[f.boundary.name]) for f in fitted]


def calibrate_targets(
    bundle: Bundle,
    fitted: list[Fitted],
    source: LabelSource,
    options: AttributeOptions,
    *,
    log: Log | None = None,
    should_stop: StopFn | None = None,
) -> list[Fitted]:
    """Choose each class edit's landing distance by measurement.

    For every class (and each side of a two-class attribute), fresh faces the label source
    says are not that class get the plain edit ``ATTR=CLASS`` (what ``nfe edit --set`` does),
    landing at 0.1, 0.2, ... 4 spreads past the hyperplane (stopping once success has clearly
    passed its peak); :func:`choose_distance` picks the boundary's ``target_distance`` from
    what they read as. The annotator measures, never the judge, so the report's figures stay
    independent.
    """

    planes = {f.boundary.name: f.boundary for f in fitted}
    figures = {f.boundary.name: dict(f.figures) for f in fitted}
    num_ws = bundle.generator.num_ws
    ws, labels = _fresh_faces(bundle, source, options.calibration_faces * 4, options.seed + 7919)
    model = Boundaries(list(planes.values()))
    chosen: dict[str, list[float]] = {}
    for attribute, info in model.attributes.items():
        if attribute not in labels:
            continue
        classes = source.attributes[attribute]
        for target in info.classes:
            check_stop(should_stop)
            plane = info.class_boundary(target) or info.single_direction()
            if plane is None or target not in classes:
                continue
            others = np.flatnonzero(labels[attribute] != classes.index(target))
            others = others[: options.calibration_faces]
            if len(others) < 8:
                continue
            tried: dict[float, float] = {}
            for distance in CALIBRATION_DISTANCES:
                trial = Boundaries(
                    [
                        dataclasses.replace(b, target_distance=distance) if b is plane else b
                        for b in model.all
                    ]
                )
                edit = [Edit(attribute, target=target)]
                edited = torch.stack(
                    [apply(ws[i], edit, trial, num_ws=num_ws) for i in others.tolist()]
                )
                read = _read_renders(bundle, source, edited)[attribute]
                success = float((read == classes.index(target)).mean())
                tried[distance] = success
                if success >= options.calibration_success or _past_peak(tried, len(others)):
                    break
            landing = choose_distance(tried, len(others), options)
            key = "target_calibration" if plane.kind == "class" else f"target_calibration_{target}"
            figures[plane.name][key] = {f"{d:g}": round(v, 4) for d, v in tried.items()}
            chosen.setdefault(plane.name, []).append(landing)  # both sides of a binary one
            if log:
                log(
                    f"{attribute}={target}: lands {landing:g} spreads past the plane "
                    f"({tried[landing]:.2f} of {len(others)} faces become {target})"
                )
    for name, distances in chosen.items():
        planes[name] = dataclasses.replace(planes[name], target_distance=max(distances))
    return [Fitted(planes[f.boundary.name], figures[f.boundary.name]) for f in fitted]


@dataclass(frozen=True)
class AttributeResult:
    bundle: Path
    fitted: list[Fitted]
    skipped: dict[str, str]
    label_seconds: float


def train_attributes(
    model: Path,
    options: AttributeOptions,
    *,
    work: Path,
    classifier: AttributeClassifier | None = None,
    judge: AttributeClassifier | None = None,
    source: LabelSource | None = None,
    source_name: str = "classifier",
    device: str | None = None,
    progress: ProgressFn | None = None,
    log: Log | None = None,
    should_stop: StopFn | None = None,
) -> AttributeResult:
    """Label, fit the boundaries and write them (with the classifiers) into bundle ``model``.

    ``classifier`` / ``judge`` replace the bundle's own when given; the labels come from
    ``source`` (default: the classifier). ``work`` keeps labels.npz so a rerun reuses it.
    """
    import time

    bundle = load_bundle(model, device)
    classifier = classifier if classifier is not None else bundle.classifier
    judge = judge if judge is not None else bundle.judge
    if source is None:
        if classifier is None:
            raise ValueError(
                f"{model}: the bundle has no classifier; give one (--classifier RUN_DIR) or "
                "another label source (--labels)"
            )
        source = ClassifierSource(
            classifier.to(bundle.device).eval(), batch_size=options.batch_size
        )
    work.mkdir(parents=True, exist_ok=True)
    key = options.labelling_key(source_name, bundle)
    started = time.perf_counter()
    labelled = load_labels(work / LABELS_FILE, key)
    if labelled is None:
        labelled = label_latents(
            bundle, source, options, progress=progress, should_stop=should_stop
        )
        save_labels(work / LABELS_FILE, labelled, key)
    elif log:
        log(f"reusing the labels in {work / LABELS_FILE}")
    label_seconds = time.perf_counter() - started
    fitted, skipped = fit_boundaries(labelled, options, log=log, should_stop=should_stop)
    if options.layer_faces:
        inverted = None
        if options.layer_inversions and bundle.encoder is not None and classifier is not None:
            if log:
                log(f"inverting {options.layer_inversions} held-out renders to choose rows on")
            inverted = inverted_faces(
                bundle,
                classifier,
                options.layer_inversions,
                derive_seed(options.seed, 104_729),
                # the new planes, their landing distances not yet calibrated (one spread)
                boundaries=Boundaries([f.boundary for f in fitted]),
                should_stop=should_stop,
            )
        elif log:
            log("no encoder in the bundle: the W+ rows are chosen on sampled faces only")
        fitted = choose_layers(
            bundle, fitted, source, options, inverted=inverted, log=log, should_stop=should_stop
        )
    if options.calibration_faces:
        fitted = calibrate_targets(
            bundle, fitted, source, options, log=log, should_stop=should_stop
        )
    check_stop(should_stop)
    training = dict(bundle.training)
    training["attributes"] = {
        "labels": source_name,
        "options": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(options).items()
        },
        "skipped": skipped,
        "python": platform.python_version(),
    }
    resave_bundle(
        bundle,
        training=training,
        classifier=classifier,
        judge=judge,
        boundaries=[f.boundary for f in fitted],
        attributes=[{"name": f.boundary.name, **f.figures} for f in fitted],
        report=None,  # figures of the old boundaries no longer hold
    )
    return AttributeResult(model, fitted, skipped, label_seconds)


def worst_accuracy(fitted: list[Fitted]) -> tuple[str, float]:
    """The boundary with the lowest balanced test accuracy."""
    if not fitted:
        return "none", math.nan
    worst = min(fitted, key=lambda f: f.figures["svm_test_accuracy"])
    return worst.boundary.name, worst.figures["svm_test_accuracy"]

"""Attribute edits in W / W+ with InterFaceGAN boundaries: one grammar, pure functions.

A *boundary* is a hyperplane in W found by a linear SVM: a unit normal ``n`` and an intercept
``b``; the signed distance of a latent ``w`` is ``n . w + b`` (positive: the boundary's
positive class). Three kinds:

- ``class``: one class of a categorical attribute against the rest (``hair_color:blue``);
- ``binary``: a two-class attribute (``glasses``: false -> true);
- ``ordinal``: one direction through ordered classes (``hair_length``: short -> long).

Each boundary also carries ``spread``, the standard deviation of ``n . w`` over the model's
latent distribution: strengths are measured in that unit, so ``+1`` moves any face, sampled or
inverted, by the same signed distance relative to where it is, never to an absolute position.

The classes of a categorical attribute compete: a face is in the class with the highest
*score*, ``scale * distance``. A boundary fitted one-vs-rest has ``scale`` 1; the classes of a
multinomial (softmax) linear model keep their normal and intercept divided by the length of
their weight vector and that length as ``scale``, so the scores are the model's logits and
the class regions are its convex cells - which one-vs-rest planes cannot draw around a class
that lies between others (brown hair between black and red).

The grammar, shared by the command line, presets and the app:

- ``ATTR=CLASS`` (``hair_color=blue``, ``glasses=true``): move the face into that class -
  the shortest move after which the target's score leads every other class's by
  ``target_distance`` spreads (for a two-class attribute: that far past its plane); per face,
  :func:`land` may take it further (or less far) to where the model's classifier sees the
  class, and moves a class target of an ordered attribute (``hair_length=medium``) along its
  ordinal direction instead;
- ``ATTR=+X`` / ``ATTR=-X``: move by X spreads along the attribute's single direction
  (binary and ordinal attributes: ``hair_length=+1.5``);
- ``ATTR:CLASS=+X``: move by X spreads along one class's direction (``hair_color:blue=+2``).

An edit may *preserve* attributes: its direction is projected onto the orthogonal complement
of all their normals (solved at once with an SVD, not by subtracting non-orthogonal vectors
one after the other), so their signed distances do not change.

A W+ latent (one w per generator layer, as inversion gives) is edited row by row where the
rows differ: a class target lands each row in the class, since the boundaries are planes in W
and the layers that draw an attribute need not agree with the rows' mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

import torch
from torch import Tensor

from nfe_core.edits import Edit as Edit  # re-exported: the grammar lives in nfe_core.edits
from nfe_core.edits import EditError as EditError
from nfe_core.edits import attribute_title as attribute_title
from nfe_core.edits import parse_edit as parse_edit
from nfe_core.edits import parse_edits as parse_edits

BoundaryKind = Literal["class", "binary", "ordinal"]
BOUNDARY_KINDS: tuple[str, ...] = ("class", "binary", "ordinal")
_DEGENERATE = 1e-4


@dataclass(frozen=True, eq=False)
class Boundary:
    """One SVM hyperplane in W: ``distance(w) = normal . w + intercept``."""

    name: str  # "hair_color:blue", "glasses", "hair_length"
    attribute: str  # the attribute (group) it belongs to: "hair_color"
    kind: BoundaryKind
    positive: str  # the class on the positive side
    negative: str | None  # the class on the negative side (None for one-vs-rest)
    normal: Tensor  # (w_dim,) unit length, float32
    intercept: float
    spread: float  # std of normal . w over sampled w: the unit of strengths
    target_distance: float = 1.0  # where ``ATTR=CLASS`` lands, in spreads past the plane
    strength_range: tuple[float, float] = (-3.0, 3.0)  # recommended slider range
    scale: float = 1.0  # score = scale * distance (a softmax class: its weight vector's length)
    layers: tuple[int, int] | None = None  # the W+ rows (start, stop) that draw it; None: all

    def __post_init__(self) -> None:
        if self.kind not in BOUNDARY_KINDS:
            raise ValueError(f"boundary {self.name}: unknown kind {self.kind!r}")
        if not isinstance(self.normal, Tensor) or self.normal.ndim != 1:
            raise ValueError(f"boundary {self.name}: normal must be a 1-D tensor")
        if not bool(torch.isfinite(self.normal).all()):
            raise ValueError(f"boundary {self.name}: normal has NaN or infinite values")
        norm = float(self.normal.double().norm())
        if not math.isclose(norm, 1.0, rel_tol=1e-3):
            raise ValueError(f"boundary {self.name}: normal must have length 1, not {norm:.4g}")
        if not (math.isfinite(self.spread) and self.spread > 0):
            raise ValueError(f"boundary {self.name}: spread must be positive, not {self.spread}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"boundary {self.name}: scale must be positive, not {self.scale}")
        if not (math.isfinite(self.intercept) and math.isfinite(self.target_distance)):
            raise ValueError(f"boundary {self.name}: intercept and target must be finite")
        if self.layers is not None:
            start, stop = self.layers
            if not 0 <= start < stop:
                raise ValueError(f"boundary {self.name}: layers must be 0 <= start < stop")
        if (self.kind == "class") != (self.negative is None):
            raise ValueError(
                f"boundary {self.name}: a class boundary has no negative class; "
                "binary and ordinal boundaries need one"
            )

    @property
    def w_dim(self) -> int:
        return int(self.normal.shape[0])

    def to_record(self) -> dict[str, object]:
        """Everything but the normal, JSON-ready (bundle.json's ``attributes`` entries)."""
        return {
            "name": self.name,
            "attribute": self.attribute,
            "kind": self.kind,
            "positive": self.positive,
            "negative": self.negative,
            "latent_space": "w",
            "intercept": self.intercept,
            "spread": self.spread,
            "target_distance": self.target_distance,
            "strength_range": list(self.strength_range),
            "scale": self.scale,
        } | ({} if self.layers is None else {"layers": list(self.layers)})

    def distance(self, w: Tensor) -> float:
        """Signed distance of w (w_dim,) to the hyperplane."""
        return float(self.normal.double() @ w.double()) + self.intercept

    def score(self, w: Tensor) -> float:
        """The class's score for w (w_dim,): ``scale * distance``; the highest score wins."""
        return self.scale * self.distance(w)


@dataclass(frozen=True)
class AttributeInfo:
    """What edits an attribute allows: its classes (in order) and its boundaries."""

    name: str
    classes: tuple[str, ...]
    boundaries: tuple[Boundary, ...] = field(repr=False)

    @property
    def categorical(self) -> bool:
        """True when its classes have one-vs-rest boundaries (class edits by plane per class)."""
        return any(b.kind == "class" for b in self.boundaries)

    @property
    def layers(self) -> tuple[int, int] | None:
        """The W+ rows (start, stop) its edits move when the caller names none; None: all."""
        return self.boundaries[0].layers if self.boundaries else None

    def single_direction(self) -> Boundary | None:
        """The binary or ordinal boundary, if the attribute has one."""
        for boundary in self.boundaries:
            if boundary.kind in ("binary", "ordinal"):
                return boundary
        return None

    def class_boundary(self, name: str) -> Boundary | None:
        for boundary in self.boundaries:
            if boundary.kind == "class" and boundary.positive == name:
                return boundary
        return None

    def order(self) -> Boundary | None:
        """The ordinal direction of a categorical attribute whose classes it orders (hair
        length: short -> medium -> long), if it has one; class targets then land along it
        (:func:`land`)."""
        single = self.single_direction()
        if (
            single is None
            or single.kind != "ordinal"
            or not self.categorical
            or (single.negative, single.positive) != (self.classes[0], self.classes[-1])
        ):
            return None
        return single


class Boundaries:
    """A model's boundaries, grouped by attribute; the edits a model allows."""

    def __init__(self, boundaries: Sequence[Boundary]) -> None:
        names = [b.name for b in boundaries]
        if len(set(names)) != len(names):
            raise ValueError(f"boundaries: a name appears twice: {names}")
        dims = {b.w_dim for b in boundaries}
        if len(dims) > 1:
            raise ValueError(f"boundaries: normals of different lengths {sorted(dims)}")
        self.all: tuple[Boundary, ...] = tuple(boundaries)
        self.w_dim: int | None = dims.pop() if dims else None
        grouped: dict[str, list[Boundary]] = {}
        for boundary in boundaries:
            grouped.setdefault(boundary.attribute, []).append(boundary)
        self.attributes: dict[str, AttributeInfo] = {}
        for name, members in grouped.items():
            classes: list[str] = []
            for b in members:
                for c in (b.negative, b.positive) if b.kind != "class" else (b.positive,):
                    if c is not None and c not in classes:
                        classes.append(c)
            if any(b.kind == "class" for b in members):  # class order: the one-vs-rest order
                classes = [b.positive for b in members if b.kind == "class"]
            if len({b.layers for b in members}) > 1:
                raise ValueError(f"boundaries: the boundaries of {name} name different layers")
            self.attributes[name] = AttributeInfo(name, tuple(classes), tuple(members))

    def __len__(self) -> int:
        return len(self.all)

    def __getitem__(self, name: str) -> Boundary:
        for boundary in self.all:
            if boundary.name == name:
                return boundary
        raise KeyError(name)

    def to(self, device: torch.device | str) -> Boundaries:
        """The same boundaries with their normals on ``device``."""
        return Boundaries([replace(b, normal=b.normal.to(device)) for b in self.all])

    def info(self, attribute: str) -> AttributeInfo:
        """The attribute, or EditError listing the ones this model has."""
        try:
            return self.attributes[attribute]
        except KeyError:
            known = ", ".join(self.attributes) or "none"
            raise EditError(
                f"this model has no attribute {attribute!r} (it has: {known})"
            ) from None

    def read_alike(self, classes: Mapping[str, Sequence[str]]) -> list[str]:
        """The attributes, in this model's order, that a classifier reading ``classes``
        ({attribute: its classes}) reads with the same classes as these boundaries."""
        return [
            name
            for name, info in self.attributes.items()
            if name in classes and set(info.classes) == set(classes[name])
        ]

    def distances(self, latent: Tensor) -> dict[str, float]:
        """Signed distance of a W (w_dim,) or W+ (num_ws, w_dim) latent (the mean w of the
        rows that draw each attribute) to every boundary, by name."""
        latent = _check_latent(latent, self.w_dim)
        return {b.name: b.distance(_position(latent, b.layers)) for b in self.all}

    def current_class(self, attribute: str, latent: Tensor) -> str:
        """The class the boundaries put the latent in (the highest class score, or the side of
        a binary/ordinal plane), read on the rows that draw the attribute."""
        info = self.info(attribute)
        return _current_class(info, _position(_check_latent(latent, self.w_dim), info.layers))

    def check(self, edit: Edit) -> None:
        """EditError when this model cannot do ``edit`` (unknown attribute, class, ...)."""
        info = self.info(edit.attribute)
        for name in edit.preserve:
            self.info(name)
            if name == edit.attribute:
                raise EditError(f"{edit}: cannot change {name} and preserve it at once")
        if edit.target is not None:
            if edit.target not in info.classes:
                raise EditError(
                    f"{edit}: {edit.attribute} has no class {edit.target!r} "
                    f"(classes: {', '.join(info.classes)})"
                )
            return
        if edit.direction is not None:
            if info.class_boundary(edit.direction) is None:
                single = info.single_direction()
                if single is not None and edit.direction in (single.positive, single.negative):
                    return
                raise EditError(
                    f"{edit}: {edit.attribute} has no class {edit.direction!r} "
                    f"(classes: {', '.join(info.classes)})"
                )
        elif info.single_direction() is None:
            example = info.classes[0] if info.classes else "CLASS"
            raise EditError(
                f"{edit}: {edit.attribute} has one direction per class; say which, e.g. "
                f"{edit.attribute}:{example}={edit.strength:+g}, or give a class: "
                f"{edit.attribute}={example}"
            )


def _check_latent(latent: Tensor, w_dim: int | None) -> Tensor:
    if not isinstance(latent, Tensor) or latent.ndim not in (1, 2):
        shape = tuple(latent.shape) if isinstance(latent, Tensor) else type(latent).__name__
        raise ValueError(f"latent: expected W (w_dim,) or W+ (num_ws, w_dim), got {shape}")
    if w_dim is not None and latent.shape[-1] != w_dim:
        raise ValueError(f"latent: expected w_dim {w_dim}, got {latent.shape[-1]}")
    if not latent.is_floating_point() or not bool(torch.isfinite(latent).all()):
        raise ValueError("latent: expected finite floating-point values")
    return latent


def _position(latent: Tensor, layers: tuple[int, int] | None) -> Tensor:
    """The w whose distances an edit reads: W itself, or the mean of W+'s edited rows."""
    if latent.ndim == 1:
        return latent
    if layers is None:
        return latent.mean(dim=0)
    start, stop = layers
    if not 0 <= start < stop <= latent.shape[0]:
        raise ValueError(f"layers: expected 0 <= start < stop <= {latent.shape[0]}, got {layers}")
    return latent[start:stop].mean(dim=0)


def _overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    """Whether two row ranges (None: all rows) share a row."""
    return a is None or b is None or (a[0] < b[1] and b[0] < a[1])


def _current_class(info: AttributeInfo, w: Tensor) -> str:
    if info.categorical:
        planes = [b for b in info.boundaries if b.kind == "class"]
        return max(planes, key=lambda b: b.score(w)).positive
    single = info.single_direction()
    assert single is not None and single.negative is not None
    return single.positive if single.distance(w) >= 0 else single.negative


def class_shortfall(latent: Tensor, info: AttributeInfo, target: str) -> Tensor:
    """How far, in spreads, ``latent`` (W (w_dim,) or W+, read on the rows that draw the
    attribute) falls short of being in class ``target`` as far as ``ATTR=CLASS`` puts a face
    (its calibrated ``target_distance``): for a categorical attribute the shortfall of the
    target's lead over each other class, summed; for a two-class one, of the distance past
    the plane. 0 when the latent is there. Differentiable (a tensor of ``latent``'s dtype), so
    an inversion can hold its latent in the class the picture shows (:mod:`nfe_core.inversion`).
    """
    w = _position(latent, info.layers)
    if info.categorical:
        aim = info.class_boundary(target)
        if aim is None:
            raise EditError(f"{info.name} has no class {target!r}")
        unit = aim.spread * aim.scale
        lead = _score(aim, w) - torch.stack([_score(r, w) for r in _rivals(info, aim)])
        return torch.relu(aim.target_distance * unit - lead).sum() / unit
    single = info.single_direction()
    assert single is not None
    if target not in (single.positive, single.negative):
        raise EditError(f"{info.name} has no class {target!r}")
    past = _distance(single, w) if target == single.positive else -_distance(single, w)
    return torch.relu(single.target_distance * single.spread - past) / single.spread


def _distance(boundary: Boundary, w: Tensor) -> Tensor:
    """:meth:`Boundary.distance` of w (w_dim,) as a tensor that keeps w's gradient."""
    return w @ boundary.normal.to(w) + boundary.intercept


def _score(boundary: Boundary, w: Tensor) -> Tensor:
    """:meth:`Boundary.score` of w (w_dim,) as a tensor that keeps w's gradient."""
    return boundary.scale * _distance(boundary, w)


def project_out(direction: Tensor, normals: Tensor, rtol: float = 1e-6) -> Tensor:
    """``direction`` (d,) minus its component in the span of the rows of ``normals`` (k, d).

    The span's orthonormal basis comes from an SVD (dependent or nearly equal normals are
    handled: singular values below ``rtol`` of the largest are dropped), so the result is
    orthogonal to every row at once. Computed in float64, returned in direction's dtype.
    """
    if direction.ndim != 1:
        raise ValueError(f"direction: expected (d,), got {tuple(direction.shape)}")
    if normals.numel() == 0:
        return direction.clone()
    if normals.ndim != 2 or normals.shape[1] != direction.shape[0]:
        raise ValueError(f"normals: expected (k, {direction.shape[0]}), got {tuple(normals.shape)}")
    d = direction.double()
    u, s, _ = torch.linalg.svd(normals.double().T, full_matrices=False)
    basis = u[:, s > rtol * s.max()]
    return (d - basis @ (basis.T @ d)).to(direction.dtype)


@dataclass(frozen=True)
class Step:
    """How one edit moved the latent: the direction used (after preserving) and the signed
    distances before and after on the boundary it aimed at (for a class target: the target's
    lead over the best other class, score difference / the target's scale; positive when the
    face is in the class)."""

    edit: Edit
    boundary: str
    delta: Tensor  # (w_dim,) added to the edited W / W+ rows
    before: float
    after: float


def plan(
    latent: Tensor,
    edit: Edit,
    boundaries: Boundaries,
    *,
    layers: tuple[int, int] | None = None,
) -> Step:
    """The move (a w_dim vector) that ``edit`` makes from ``latent``; see the module docstring.

    Class targets of a categorical attribute: the shortest move (orthogonal to the preserved
    normals) after which the target's score leads every other class's by the landing
    distance (:func:`_nearest_move`); zero when the face is already that far in. Straight
    towards the target, away from the current class, led faces into a third class on the way
    for many of them (the classes' cells are not where one straight line reaches): on 300
    sampled faces of the 64 px default model, judged by its independent classifier, hair
    colour targets landed on 0.85 that way and on 0.99 by the shortest move (eye colour
    0.52 -> 0.63, hair length 0.88 -> 0.89; both with :func:`land`).
    """
    latent = _check_latent(latent, boundaries.w_dim)
    boundaries.check(edit)
    info = boundaries.info(edit.attribute)
    rows = layers if layers is not None else info.layers
    w = _position(latent, rows).double()
    # a preserved attribute drawn by other rows than the edited ones keeps its place anyway
    preserved = [
        b.normal
        for name in edit.preserve
        if _overlap(rows, boundaries.info(name).layers)
        for b in boundaries.info(name).boundaries
    ]
    normals = torch.stack(preserved) if preserved else latent.new_zeros(0, w.shape[0])

    if edit.target is None:
        aim = _strength_boundary(info, edit)
        sign = -1.0 if (aim.kind != "class" and edit.direction == aim.negative) else 1.0
        d = _projected(aim.normal, normals, edit).double()
        along = float(aim.normal.double() @ d)
        delta = d * (sign * edit.strength * aim.spread / along)  # type: ignore[operator]
        return _step(edit, aim, delta, w)

    target = edit.target
    if info.categorical:
        aim = info.class_boundary(target)
        assert aim is not None
        rivals = _rivals(info, aim)
        need = _landing(edit, aim) * aim.spread * aim.scale  # the lead, in the target's score
        # the target's lead over each rival grows by gains @ move (moves keep the preserved)
        lead = aim.scale * aim.normal.double()
        raw = torch.stack([lead - r.scale * r.normal.double() for r in rivals])
        gains = torch.stack([project_out(g, normals.double()) for g in raw])
        # what the preserved normals leave of a gain is nothing below this share of it
        gains[gains.norm(dim=1) < _DEGENERATE * raw.norm(dim=1)] = 0.0
        short = torch.tensor([need - (aim.score(w) - r.score(w)) for r in rivals])
        delta = _nearest_move(gains, short.double())
        if delta is None:
            kept = ", ".join(edit.preserve)
            raise EditError(f"{edit}: keeping {kept} leaves no way into {target}")
        return _step(edit, aim, delta, w, rivals)

    single = info.single_direction()
    assert single is not None
    sign = 1.0 if target == single.positive else -1.0
    d = _projected(single.normal * sign, normals, edit).double()
    a = sign * single.distance(w)
    need = _landing(edit, single) * single.spread
    slope = float(single.normal.double() @ d) * sign
    t = 0.0 if a >= need else (need - a) / slope
    return _step(edit, single, d * t, w)


def _nearest_move(gains: Tensor, short: Tensor) -> Tensor | None:
    """The shortest ``move`` with ``gains @ move >= short`` (k constraints, k small), or None
    when none exists.

    The move is ``gains.T @ lam`` for the ``lam >= 0`` that minimises
    ``lam @ G @ lam / 2 - short @ lam`` with ``G = gains @ gains.T`` (the dual); found exactly
    by an active set as in Lawson and Hanson's non-negative least squares: the constraint
    furthest from met joins, the system of those joined is solved, and one whose multiplier
    would turn negative leaves.
    """
    k, dim = gains.shape
    if bool((short <= 0).all()):
        return gains.new_zeros(dim)
    grams = gains @ gains.T
    tol = 1e-9 * (1.0 + float(short.abs().max()))
    lam = gains.new_zeros(k)
    joined = torch.zeros(k, dtype=torch.bool)
    for _ in range(3 * k + 3):
        pull = short - grams @ lam  # how far each constraint is from met
        waiting = ~joined & (pull > tol)
        if not bool(waiting.any()):
            break
        joined[int(torch.where(waiting, pull, -math.inf).argmax())] = True
        while True:
            idx = joined.nonzero().flatten()
            z = gains.new_zeros(k)
            z[idx] = torch.linalg.lstsq(grams[idx][:, idx], short[idx, None]).solution.flatten()
            if bool((z[idx] > tol).all()):
                lam = z
                break
            bad = idx[z[idx] <= tol]
            falls = lam[bad] - z[bad]  # > 0 where the multiplier heads below zero
            alpha = float((lam[bad] / falls)[falls > 0].min()) if bool((falls > 0).any()) else 0.0
            lam = lam + min(max(alpha, 0.0), 1.0) * (z - lam)
            joined &= lam > tol
            lam[~joined] = 0.0
    move = gains.T @ lam
    if float((short - gains @ move).max()) > 1e-6 * (1.0 + float(short.abs().max())):
        return None
    return move


def _landing(edit: Edit, aim: Boundary) -> float:
    """How many spreads into the class a class target lands: the edit's own distance (set by
    :func:`land`) or the boundary's calibrated one."""
    return aim.target_distance if edit.distance is None else edit.distance


def _strength_boundary(info: AttributeInfo, edit: Edit) -> Boundary:
    if edit.direction is not None:
        found = info.class_boundary(edit.direction)
        if found is not None:
            return found
    single = info.single_direction()
    assert single is not None
    return single


def _projected(direction: Tensor, normals: Tensor, edit: Edit) -> Tensor:
    """``direction`` with the preserved normals projected out; EditError when little is left."""
    d = project_out(direction.double(), normals.double())
    if (
        float(d.norm()) < _DEGENERATE * float(direction.double().norm())
        or abs(float(direction.double() @ d)) <= _DEGENERATE
    ):
        kept = ", ".join(edit.preserve)
        raise EditError(f"{edit}: keeping {kept} leaves no direction that changes {edit.attribute}")
    return d


def _rivals(info: AttributeInfo, aim: Boundary) -> list[Boundary]:
    """The classes a class target competes with (none for a single direction)."""
    if aim.kind != "class":
        return []
    return [b for b in info.boundaries if b.kind == "class" and b is not aim]


def _reading(aim: Boundary, rivals: Sequence[Boundary], x: Tensor) -> float:
    """The distance a Step reports: on ``aim``, or the lead of its score over ``rivals``."""
    if not rivals:
        return aim.distance(x)
    return (aim.score(x) - max(r.score(x) for r in rivals)) / aim.scale


def _step(
    edit: Edit, aim: Boundary, delta: Tensor, w: Tensor, rivals: Sequence[Boundary] = ()
) -> Step:
    return Step(edit, aim.name, delta, _reading(aim, rivals, w), _reading(aim, rivals, w + delta))


def apply(
    latent: Tensor,
    edits: Sequence[Edit],
    boundaries: Boundaries,
    *,
    layers: tuple[int, int] | None = None,
    num_ws: int | None = None,
) -> Tensor:
    """``latent`` with ``edits`` applied in order (each from where the last left the face).

    ``latent`` is W (w_dim,) or W+ (num_ws, w_dim). ``layers`` = (start, stop) limits the
    edit to those W+ rows (a W latent is first repeated ``num_ws`` times). On W+, a strength
    moves every edited row alike and a class target moves each edited row into the class
    (rows that already are stay); the Steps read distances at the mean of those rows.
    Returns a new tensor of the latent's dtype and device.
    """
    return apply_steps(latent, edits, boundaries, layers=layers, num_ws=num_ws)[0]


def apply_steps(
    latent: Tensor,
    edits: Sequence[Edit],
    boundaries: Boundaries,
    *,
    layers: tuple[int, int] | None = None,
    num_ws: int | None = None,
) -> tuple[Tensor, list[Step]]:
    """Like :func:`apply`, also returning each edit's :class:`Step`."""
    latent = _check_latent(latent, boundaries.w_dim)
    spans = [layers if layers is not None else boundaries.info(e.attribute).layers for e in edits]
    if latent.ndim == 1 and any(span is not None for span in spans):
        if num_ws is None or num_ws < 1:
            names = ", ".join(sorted({e.attribute for e, s in zip(edits, spans, strict=True) if s}))
            raise ValueError(f"layers: a W latent needs num_ws to become W+ (edits of {names})")
        latent = latent.unsqueeze(0).expand(num_ws, -1)
    for span in spans:
        if span is not None and not 0 <= span[0] < span[1] <= latent.shape[0]:
            raise ValueError(f"layers: expected 0 <= start < stop <= {latent.shape[0]}, got {span}")
    out = latent.double().clone()
    steps: list[Step] = []
    for edit, span in zip(edits, spans, strict=True):
        if out.ndim == 1:
            step = plan(out, edit, boundaries)
            out = out + step.delta
        else:
            start, stop = span if span is not None else (0, out.shape[0])
            step, moves = _plan_rows(out, edit, boundaries, start, stop)
            out[start:stop] += moves
        steps.append(step)
    return out.to(latent.dtype), steps


# Where ``land`` tries a class target, nearest first, in spreads. A class's calibrated
# distance suits most faces, not every face: on 300 sampled faces of an earlier 64 px
# default model (judged by its independent classifier), hair colour targets landed on 0.64
# at the calibrated distances and on 0.80 when the faces the annotator did not read in the
# class went on to the first of these it did (eye colour 0.45 -> 0.47, hair length 0.78 ->
# 0.81; preservation unchanged); :func:`land` says what it does now. Inverted faces resist
# edits more: on 40 held-out renders inverted as the app does, going on to 4 and 5 spreads
# took hair length targets (judged) from 0.575 to 0.625 and the annotator's reading from 0.675
# to 0.775, hair colour unchanged, the faces whole; at 6 and 8 some faces broke up.
LANDING_DISTANCES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0)
ORDER_STRENGTHS: tuple[float, ...] = (
    *(0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
    *(2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0),
)
"""The strengths, in spreads, that :func:`land` tries along an ordered attribute's direction
for a class target (hair length: short -> medium -> long)."""
LANDING_MARGIN = 2
"""How many of :data:`LANDING_DISTANCES` past the first at which the classifier reads a class
target :func:`land` takes (while it still reads it there)."""
ORDER_MARGIN = 1
"""Likewise along an ordered attribute's finer :data:`ORDER_STRENGTHS` (on the 64 px default
model, two tries past reached hair length targets on 0.967 of 300 sampled faces and kept the
rest on 0.697, against 0.973 and 0.717 for one)."""

See = Callable[[Tensor], Sequence[Mapping[str, str]]]
Landings = MutableMapping[tuple[object, ...], tuple[Edit, ...]]
""":func:`land`'s memo: an edit landed after the edits before it (a tuple of one), or a
finished chain."""
"""Latents (k, w_dim) or (k, num_ws, w_dim) -> per latent, the class of each attribute that
the model's classifier reads on its render."""


def land(
    latent: Tensor,
    edits: Sequence[Edit],
    boundaries: Boundaries,
    see: See,
    *,
    layers: tuple[int, int] | None = None,
    num_ws: int | None = None,
    distances: Sequence[float] = LANDING_DISTANCES,
    memo: Landings | None = None,
) -> list[Edit]:
    """``edits`` with each class target landed on this face: the edit gets the distance
    :data:`LANDING_MARGIN` tries past the first of ``distances`` at which ``see`` reads the
    face in the target class (or the last of those tries it still reads it at); none does:
    it stays at the calibrated distance, as without a classifier. Each edit is landed from
    where the ones before it left the face; then the whole chain is read once more, and a
    target that a later edit took back out of its class (eye colour set to red, then hair
    colour and length set: the eyes read brown again) is landed again, likewise, where the
    finished face shows it without losing a target it showed. Strengths, and class targets
    that already carry a distance, stay as they are.

    Why past the first: where one classifier first reads a class, another often still reads
    the old one, and the calibrated distance suits the average face, not this one (glasses
    at 3 spreads broke up much of the rest of a face that showed glasses at 0.5). On the 64 px
    default model, judged by the independent classifier (others kept), on 300 sampled and
    200 inverted faces, against the calibrated distance first and the first distance that
    the annotator reads otherwise: hair colour 0.973 -> 0.99 and 0.93 -> 0.94 (the rest kept
    0.52 -> 0.537, 0.68 -> 0.675), eye colour 0.683 -> 0.72 and 0.665 -> 0.68 (0.86 -> 0.83,
    0.905 -> 0.90), mouth 0.963 -> 0.96 and 0.915 -> 0.95 (0.363 -> 0.43, 0.59 -> 0.64),
    blush 0.827 -> 0.897 and 0.585 -> 0.69 (0.207 -> 0.193, 0.29 -> 0.23), glasses 0.94 ->
    0.98 and 0.845 -> 0.89 (0.027 -> 0.143, 0.095 -> 0.20). One try past: more kept, fewer
    reached (mouth 0.903 and 0.87).

    A class target of an ordered attribute (:meth:`AttributeInfo.order`: hair length) moves
    along its ordinal direction instead, from the class ``see`` reads on the face towards
    the target, and becomes that strength edit (``hair_length=-1.5``): :data:`ORDER_MARGIN`
    tries past the first of :data:`ORDER_STRENGTHS` at which ``see`` reads the target. A
    face already read in the target class stays where it is (strength 0); when no strength
    reaches the class, the class move above is landed. Why: the class planes' move from long
    hair into ``medium`` changed nothing the classifiers could see on many inverted faces,
    at any distance; on the 64 px default model's report (judged, others kept) this took
    hair length targets from 0.908 to 0.962 on 500 sampled faces and from 0.835 to 0.955 on
    200 inverted ones, the other attributes kept on 0.712 -> 0.686 of the sampled ones.

    ``memo`` (one per face: the caller keys it) keeps landings between calls, so a slider
    dragged after a class target does not render the target's tries again. A reading may
    depend on every attribute the chain edits (the app's are of renders kept to the edited
    attributes' regions), so what it keeps is keyed by them too.
    """
    scope = tuple(sorted({edit.attribute for edit in edits}))
    landed = _land_each(latent, edits, boundaries, see, layers, num_ws, distances, memo, scope)
    landable = [i for i, e in enumerate(edits) if e.target is not None and e.distance is None]
    if not landable or landable[0] == len(edits) - 1:
        return landed  # no target has an edit after it
    key = ("chain", tuple(edits), tuple(landed), layers)
    if memo is not None and key in memo:
        return list(memo[key])
    final = _keep_targets(
        latent, edits, landed, landable, boundaries, see, layers, num_ws, distances
    )
    if memo is not None:
        memo[key] = tuple(final)
    return final


def _land_each(
    latent: Tensor,
    edits: Sequence[Edit],
    boundaries: Boundaries,
    see: See,
    layers: tuple[int, int] | None,
    num_ws: int | None,
    distances: Sequence[float],
    memo: Landings | None,
    scope: tuple[str, ...],
) -> list[Edit]:
    """:func:`land`'s first pass: each class target landed after the edits before it
    (remembered by those, itself, ``layers`` and the chain's edited attributes ``scope``)."""
    landed: list[Edit] = []
    for edit in edits:
        if edit.target is None or edit.distance is not None:
            landed.append(edit)
            continue
        key = (tuple(landed), edit, layers, scope)
        if memo is not None and key in memo:
            landed.append(memo[key][0])
            continue
        base = apply(latent, landed, boundaries, layers=layers, num_ws=num_ws)
        move = lambda t, start=base: apply(start, [t], boundaries, layers=layers, num_ws=num_ws)  # noqa: E731
        chosen = _land_on_order(edit, boundaries.info(edit.attribute), base, move, see)
        if chosen is None:
            tries = [replace(edit, distance=d) for d in distances]
            found = _first_seen(
                tries, move, see, lambda t, reading: _seen_in(reading, t), past=LANDING_MARGIN
            )
            chosen = found[0] if found is not None else edit
        if memo is not None:
            memo[key] = (chosen,)
        landed.append(chosen)
    return landed


def _land_on_order(
    edit: Edit,
    info: AttributeInfo,
    base: Tensor,
    move: Callable[[Edit], Tensor],
    see: See,
) -> Edit | None:
    """A class target of an ordered attribute landed as a strength along its direction
    (:func:`land`), from ``base``, the face before it (``move`` makes an edit there), the
    way from the class ``see`` reads there to the target; None when the attribute has no
    order, the classifier does not read it, or no strength reaches the class."""
    if info.order() is None or edit.target is None:
        return None
    now = see(base[None])[0].get(info.name)
    if now == edit.target:
        return Edit(info.name, strength=0.0, preserve=edit.preserve)
    sign = order_sign(info, now, edit.target)
    if sign is None:
        return None
    tries = [Edit(info.name, strength=sign * s, preserve=edit.preserve) for s in ORDER_STRENGTHS]
    found = _first_seen(
        tries, move, see, lambda _, reading: _seen_in(reading, edit), past=ORDER_MARGIN
    )
    return found[0] if found is not None else None


def _keep_targets(
    latent: Tensor,
    edits: Sequence[Edit],
    landed: Sequence[Edit],
    landable: Sequence[int],
    boundaries: Boundaries,
    see: See,
    layers: tuple[int, int] | None,
    num_ws: int | None,
    distances: Sequence[float],
) -> list[Edit]:
    """:func:`land`'s second pass: the landed chain, with each class target of ``edits`` (at
    the indices ``landable``) that the finished face does not show landed again where it
    does (an ordered attribute's along its direction, the way its first landing went)."""
    final = list(landed)
    reading = see(apply(latent, final, boundaries, layers=layers, num_ws=num_ws)[None])[0]
    for i in landable:
        if _seen_in(reading, edits[i]):
            continue
        shown = [j for j in landable if j != i and _seen_in(reading, edits[j])]
        info = boundaries.info(edits[i].attribute)
        past = LANDING_MARGIN
        if final[i].target is None and info.order() is not None:  # landed along the order
            if final[i].strength:  # the way its first landing went
                sign = math.copysign(1.0, final[i].strength)
            else:  # it was in the class; which way did the rest take it?
                sign = order_sign(info, reading.get(info.name), edits[i].target or "") or 1.0
            alternatives = [replace(final[i], strength=sign * s) for s in ORDER_STRENGTHS]
            past = ORDER_MARGIN
        else:
            alternatives = [replace(final[i], distance=d) for d in distances]
        chains = [[*final[:i], alt, *final[i + 1 :]] for alt in alternatives if alt != final[i]]
        found = _first_seen(
            chains,
            lambda c: apply(latent, c, boundaries, layers=layers, num_ws=num_ws),
            see,
            lambda c, read, need=(i, *shown): all(_seen_in(read, edits[j]) for j in need),
            past=past,
        )
        if found is not None:
            final, reading = found
    return final


def order_sign(info: AttributeInfo, now: str | None, target: str) -> float | None:
    """Which way along an ordered attribute's direction (:meth:`AttributeInfo.order`; +1:
    towards its last class) a face read as class ``now`` moves into class ``target``; None
    when the attribute has no order or either is not one of its classes (or they are one)."""
    if info.order() is None or now not in info.classes or target not in info.classes:
        return None
    if now == target:
        return None
    return 1.0 if info.classes.index(target) > info.classes.index(now) else -1.0


_T = TypeVar("_T")
# How many of a landing's tries are rendered together: the first that works is usually among
# the nearest, so a few at a time render fewer faces than all at once (a live slider pays it).
TRIES_AT_ONCE = 3


def _first_seen(
    tries: Sequence[_T],
    face: Callable[[_T], Tensor],
    see: See,
    good: Callable[[_T, Mapping[str, str]], bool],
    past: int = 0,
) -> tuple[_T, Mapping[str, str]] | None:
    """The first of ``tries`` whose face ``see`` reads as ``good``, with that reading (None:
    none is), rendering :data:`TRIES_AT_ONCE` at a time, nearest first. With ``past`` = k,
    up to k tries further while they are good too (a margin past where it first is)."""
    found: tuple[_T, Mapping[str, str]] | None = None
    left = past
    start = 0
    while start < len(tries):
        # once one is good, only the tries of the margin still to read are rendered
        batch = tries[start : start + (TRIES_AT_ONCE if found is None else left)]
        start += len(batch)
        readings = see(torch.stack([face(t) for t in batch]))
        for t, reading in zip(batch, readings, strict=True):
            if not good(t, reading):
                if found is not None:
                    return found
                continue
            if found is not None:
                left -= 1
            found = (t, reading)
            if left == 0:
                return found
    return found


def _seen_in(reading: Mapping[str, str], edit: Edit) -> bool:
    return reading.get(edit.attribute) == edit.target


def _plan_rows(
    latent: Tensor, edit: Edit, boundaries: Boundaries, start: int, stop: int
) -> tuple[Step, Tensor]:
    """An edit of W+ rows ``start:stop``: the Step read at their mean, and each row's move.

    A strength moves every row by the same delta. A class target moves each row into the
    class on its own: after inversion the rows differ (the layers that draw the hair colour
    need not read as the same class as their mean), and landing only the mean in the class
    left most inverted faces' hair as it was (hair colour edit success on 60 inverted
    held-out faces, judged: 0.15 moving the mean, 0.45 moving each row; sampled faces 0.60).
    The Step's delta is then the mean of the rows' moves.
    """
    rows = latent[start:stop]
    step = plan(latent, edit, boundaries, layers=(start, stop))
    if edit.target is None or bool((rows == rows[:1]).all()):
        return step, step.delta.expand_as(rows)
    moves = torch.stack([plan(row, edit, boundaries, layers=(start, stop)).delta for row in rows])
    move = moves.mean(dim=0)
    aim = boundaries[step.boundary]
    rivals = _rivals(boundaries.info(edit.attribute), aim)
    after = _reading(aim, rivals, rows.mean(dim=0) + move)
    return Step(edit, step.boundary, move, step.before, after), moves


def boundaries_from_records(
    records: Sequence[Mapping[str, object]], normals: Mapping[str, Tensor]
) -> Boundaries:
    """Boundaries from bundle.json's attribute records and their normals (by name)."""
    built = []
    for record in records:
        name = str(record["name"])
        rng = record.get("strength_range", (-3.0, 3.0))
        built.append(
            Boundary(
                name=name,
                attribute=str(record["attribute"]),
                kind=record["kind"],  # type: ignore[arg-type]
                positive=str(record["positive"]),
                negative=None if record.get("negative") is None else str(record["negative"]),
                normal=normals[name].float(),
                intercept=float(record["intercept"]),  # type: ignore[arg-type]
                spread=float(record["spread"]),  # type: ignore[arg-type]
                target_distance=float(record.get("target_distance", 1.0)),  # type: ignore[arg-type]
                strength_range=(float(rng[0]), float(rng[1])),  # type: ignore[index]
                scale=float(record.get("scale", 1.0)),  # type: ignore[arg-type]
                layers=_layers_record(record.get("layers")),
            )
        )
    return Boundaries(built)


def _layers_record(value: object) -> tuple[int, int] | None:
    """A record's ``layers``: absent / null, or [start, stop] whole numbers."""
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"layers must be [start, stop], whole numbers; got {value!r}")
    return (int(value[0]), int(value[1]))

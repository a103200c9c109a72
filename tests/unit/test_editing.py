"""Attribute edits: projection maths, strength semantics, class targets, the grammar."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from nfe_core.editing import (
    LANDING_DISTANCES,
    LANDING_MARGIN,
    ORDER_STRENGTHS,
    TRIES_AT_ONCE,
    Boundaries,
    Boundary,
    Edit,
    EditError,
    apply,
    apply_steps,
    boundaries_from_records,
    class_shortfall,
    land,
    order_sign,
    parse_edit,
    parse_edits,
    project_out,
)

W_DIM = 16


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm()


def _model(seed: int = 0) -> Boundaries:
    """Non-orthogonal random boundaries: a 4-class colour, a 3-class length with an ordinal
    direction, a binary glasses attribute."""
    g = torch.Generator().manual_seed(seed)
    shared = torch.randn(W_DIM, generator=g)  # correlates every normal with every other

    def normal() -> torch.Tensor:
        return _unit(torch.randn(W_DIM, generator=g) + 0.6 * shared)

    planes = [
        Boundary(f"color:{c}", "color", "class", c, None, normal(), -0.3, 1.5, 1.0)
        for c in ("red", "blue", "green", "black")
    ]
    planes += [
        Boundary(f"length:{c}", "length", "class", c, None, normal(), -0.2, 1.2, 1.0)
        for c in ("short", "medium", "long")
    ]
    planes.append(Boundary("length", "length", "ordinal", "long", "short", normal(), 0.1, 0.8))
    planes.append(Boundary("glasses", "glasses", "binary", "true", "false", normal(), -1.0, 2.0))
    return Boundaries(planes)


def _faces(n: int = 20, seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(W_DIM, generator=g) * 1.5 for _ in range(n)]


# --- projection -------------------------------------------------------------------------------


def test_projection_is_orthogonal_to_every_non_orthogonal_normal():
    g = torch.Generator().manual_seed(3)
    base = torch.randn(W_DIM, generator=g)
    normals = torch.stack([_unit(base + 0.3 * torch.randn(W_DIM, generator=g)) for _ in range(5)])
    assert float((normals[0] @ normals[1]).abs()) > 0.5  # far from orthogonal
    direction = torch.randn(W_DIM, generator=g)
    d = project_out(direction, normals)
    assert torch.allclose(
        normals.double() @ d.double(), torch.zeros(5, dtype=torch.float64), atol=1e-5
    )
    # what is left is the part of the direction outside their span: projecting again keeps it
    assert torch.allclose(project_out(d, normals), d, atol=1e-5)
    # repeated one-by-one subtraction of non-orthogonal normals is not orthogonal
    naive = direction.clone()
    for n in normals:
        naive = naive - (naive @ n) * n
    assert float((normals @ naive).abs().max()) > 1e-3


def test_projection_handles_dependent_normals_and_none():
    n = _unit(torch.randn(W_DIM))
    normals = torch.stack([n, n, -n])
    d = project_out(torch.randn(W_DIM), normals)
    assert abs(float(n @ d)) < 1e-5
    v = torch.randn(W_DIM)
    assert torch.equal(project_out(v, torch.zeros(0, W_DIM)), v)


# --- strength edits ---------------------------------------------------------------------------


def test_unconditional_strength_moves_only_along_the_normal_by_strength_spreads():
    model = _model()
    plane = model["glasses"]
    for w in _faces():
        out, (step,) = apply_steps(w, [Edit("glasses", strength=1.5)], model)
        delta = (out - w).double()
        assert torch.allclose(delta, plane.normal.double() * 1.5 * plane.spread, atol=1e-5)
        assert step.after - step.before == pytest.approx(1.5 * plane.spread, abs=1e-5)


def test_same_strength_moves_every_face_by_the_same_signed_distance_while_preserving():
    model = _model()
    edit = Edit("color", strength=-2.0, direction="blue", preserve=("glasses", "length"))
    plane = model["color:blue"]
    kept = [b for b in model.all if b.attribute in ("glasses", "length")]
    for w in _faces():
        out = apply(w, [edit], model)
        assert plane.distance(out) - plane.distance(w) == pytest.approx(
            -2.0 * plane.spread, abs=1e-4
        )
        for b in kept:  # every preserved normal is orthogonal to the move
            assert b.distance(out) == pytest.approx(b.distance(w), abs=1e-4)


def test_binary_direction_by_class_name_and_ordinal_direction():
    model = _model()
    w = _faces(1)[0]
    up = apply(w, [parse_edit("glasses:true=+1")], model)
    down = apply(w, [parse_edit("glasses:false=+1")], model)
    assert torch.allclose(up - w, -(down - w), atol=1e-5)
    longer = apply(w, [parse_edit("length=+1")], model)
    assert model["length"].distance(longer) > model["length"].distance(w)


# --- class targets ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["red", "blue", "green", "black"])
def test_class_target_crosses_the_hyperplane_and_becomes_that_class(target):
    model = _model()
    plane = model[f"color:{target}"]
    became = 0
    for w in _faces():
        out = apply(w, [Edit("color", target=target, preserve=("glasses",))], model)
        was = model.current_class("color", w)
        became += model.current_class("color", out) == target
        if was != target:  # the target's score is target_distance spreads ahead of the old class
            gap = plane.score(out) - model[f"color:{was}"].score(out)
            assert gap >= plane.target_distance * plane.spread - 1e-4
        assert model["glasses"].distance(out) == pytest.approx(
            model["glasses"].distance(w), abs=1e-4
        )
    # beating every rival class is best effort: the move stays near the target plane
    assert became >= 0.8 * len(_faces())


def _softmax_model() -> Boundaries:
    """Three classes scored like a softmax model's logits along the first axis: ``mid`` is the
    cell between ``left`` and ``right``, which no one-vs-rest plane could cut out."""

    def plane(name: str, weights: list[float], bias: float) -> Boundary:
        a = torch.zeros(W_DIM)
        a[: len(weights)] = torch.tensor(weights)
        length = float(a.norm())
        return Boundary(
            f"side:{name}",
            "side",
            "class",
            name,
            None,
            a / length,
            bias / length,
            1.0,
            1.0,
            scale=length,
        )

    return Boundaries(
        [
            plane("left", [-2.0, 0.1], 0.0),
            plane("mid", [0.0, 0.1], 1.5),
            plane("right", [2.0, 0.1], 0.0),
        ]
    )


@pytest.mark.parametrize("start", [-3.0, 3.0])
def test_softmax_scored_classes_reach_the_middle_cell(start):
    model = _softmax_model()
    w = torch.zeros(W_DIM)
    w[0] = start
    assert model.current_class("side", w) == ("left" if start < 0 else "right")
    out, steps = apply_steps(w, [Edit("side", target="mid")], model)
    assert model.current_class("side", out) == "mid"
    mid = model["side:mid"]
    for rival in ("left", "right"):  # every score at least target_distance spreads behind
        gap = mid.score(out) - model[f"side:{rival}"].score(out)
        assert gap >= mid.target_distance * mid.spread * mid.scale - 1e-4
    assert steps[0].after > steps[0].before


@pytest.mark.parametrize(
    ("model", "attribute", "target"),
    [(_model(), "color", "green"), (_model(), "glasses", "true"), (_model(), "glasses", "false"),
     (_softmax_model(), "side", "mid"), (_model(), "length", "long")],
)  # fmt: skip
def test_class_shortfall_is_what_a_class_target_would_still_move_and_leads_into_the_class(
    model, attribute, target
):
    info = model.info(attribute)
    for w in _faces(8):
        short = class_shortfall(w, info, target)
        moved = apply(w, [Edit(attribute, target=target)], model)
        # where ATTR=CLASS would not move the face, nothing is short; else something is
        assert (float(short) < 1e-4) == bool(torch.allclose(moved, w))
        assert float(class_shortfall(moved, info, target)) < 1e-4
        # its gradient leads into the class: descending it lands the face there
        x = w.clone().requires_grad_(True)
        for _ in range(300):
            loss = class_shortfall(x, info, target)
            if float(loss.detach()) == 0:
                break
            (grad,) = torch.autograd.grad(loss, x)
            x = (x - 0.05 * grad).detach().requires_grad_(True)
        assert model.current_class(attribute, x.detach()) == target
    # W+: read on the rows that draw the attribute
    rows = torch.stack(_faces(4))
    drawn = model.info(attribute)
    assert torch.allclose(
        class_shortfall(rows, drawn, target), class_shortfall(rows.mean(0), drawn, target)
    )
    with pytest.raises(EditError, match="no class 'nope'"):
        class_shortfall(rows[0], info, "nope")


def test_read_alike_names_the_attributes_a_classifier_reads_with_the_same_classes():
    model = _model()
    reads = {
        "glasses": ("true", "false"),  # order does not matter
        "color": ("red", "blue", "green"),  # one class short
        "length": ("short", "medium", "long"),
        "mouth": ("open", "closed"),  # no boundaries
    }
    assert model.read_alike(reads) == ["length", "glasses"]  # in the model's order
    assert model.read_alike({}) == []


def test_scale_round_trips_through_records():
    model = _softmax_model()
    records = [b.to_record() for b in model.all]
    again = boundaries_from_records(records, {b.name: b.normal for b in model.all})
    assert [b.scale for b in again.all] == pytest.approx([b.scale for b in model.all])
    w = torch.full((W_DIM,), 0.3)
    assert again.current_class("side", w) == model.current_class("side", w)
    with pytest.raises(ValueError, match="scale must be positive"):
        Boundary("x", "x", "binary", "t", "f", model.all[0].normal, 0.0, 1.0, scale=0.0)


def test_class_target_already_reached_changes_nothing():
    model = _model()
    w = _faces(1)[0]
    once = apply(w, [Edit("color", target="green")], model)
    twice = apply(once, [Edit("color", target="green")], model)
    assert torch.allclose(once, twice, atol=1e-6)


def test_binary_target_both_ways():
    model = _model()
    plane = model["glasses"]
    for w in _faces(5):
        on = apply(w, [parse_edit("glasses=true")], model)
        off = apply(w, [parse_edit("glasses=false")], model)
        assert plane.distance(on) >= plane.spread * plane.target_distance - 1e-4
        assert plane.distance(off) <= -plane.spread * plane.target_distance + 1e-4


def test_preserving_everything_that_spans_the_direction_is_an_error():
    n = _unit(torch.randn(W_DIM))
    model = Boundaries(
        [
            Boundary("a", "a", "binary", "true", "false", n, 0.0, 1.0),
            Boundary("b", "b", "binary", "true", "false", n.clone(), 0.0, 1.0),
        ]
    )
    with pytest.raises(EditError, match="leaves no direction"):
        apply(torch.zeros(W_DIM), [Edit("a", strength=1.0, preserve=("b",))], model)


# --- W+ and layers ----------------------------------------------------------------------------


def test_layer_range_edits_only_those_rows_of_w_plus():
    model = _model()
    w = _faces(1)[0]
    out = apply(w, [Edit("glasses", strength=2.0)], model, layers=(2, 5), num_ws=8)
    assert out.shape == (8, W_DIM)
    assert torch.allclose(out[:2], w.expand(2, -1)) and torch.allclose(out[5:], w.expand(3, -1))
    assert not torch.allclose(out[2:5], w.expand(3, -1))
    plus = torch.stack([w] * 8)
    assert torch.allclose(
        apply(plus, [Edit("glasses", strength=2.0)], model)[0],
        apply(w, [Edit("glasses", strength=2.0)], model),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="num_ws"):
        apply(w, [Edit("glasses", strength=1.0)], model, layers=(0, 2))
    with pytest.raises(ValueError, match="layers"):
        apply(plus, [Edit("glasses", strength=1.0)], model, layers=(3, 3))


def test_class_target_lands_every_differing_w_plus_row_in_the_class():
    """Inverted faces have W+ rows that differ: each edited row becomes the class (a row that
    already is stays put), and the Step reads the rows' mean."""
    model = _model()
    plane = model["color:blue"]
    faces = _faces(8, seed=5)
    already = next(w for w in _faces(200, seed=9) if model.current_class("color", w) == "blue")
    lead = lambda w: min(  # noqa: E731
        plane.score(w) - model[f"color:{c}"].score(w) for c in ("red", "green", "black")
    )
    if lead(already) < plane.target_distance * plane.spread:
        already = apply(already, [Edit("color", target="blue")], model)
    rows = torch.stack(faces[:5] + [already] + faces[5:7])
    edit = Edit("color", target="blue", preserve=("glasses",))
    out, steps = apply_steps(rows, [edit], model, layers=(0, 7))
    assert torch.equal(out[7], rows[7])  # outside the layer range
    assert torch.allclose(out[5], rows[5], atol=1e-6)  # was blue far enough: not moved
    for before, after in zip(rows[:7], out[:7], strict=True):
        assert model.current_class("color", after) == "blue" or lead(after) > lead(before)
        assert model["glasses"].distance(after) == pytest.approx(
            model["glasses"].distance(before), abs=1e-4
        )
    # the moves differ row by row, and the Step's delta is their mean
    moves = out[:7] - rows[:7]
    assert not torch.allclose(moves[0], moves[1], atol=1e-3)
    assert torch.allclose(steps[0].delta.float(), moves.mean(dim=0), atol=1e-5)
    mean_after = out[:7].double().mean(dim=0)
    assert model.current_class("color", mean_after) == "blue"
    assert steps[0].after > steps[0].before
    # a strength still moves every row alike
    pushed = apply(rows, [Edit("glasses", strength=1.0)], model)
    assert torch.allclose(pushed - rows, (pushed - rows)[:1].expand_as(rows), atol=1e-5)


class _Reader:
    """A stand-in for the model's classifier: it calls a face blue only once the blue score
    leads every other colour by ``needs`` spreads (further than the calibrated 1), and counts
    the faces it was shown."""

    def __init__(self, model: Boundaries, needs: float) -> None:
        self.model, self.needs, self.shown = model, needs, 0

    def lead(self, w: torch.Tensor) -> float:
        blue = self.model["color:blue"]
        w = w.double().mean(dim=0) if w.ndim == 2 else w.double()
        rivals = ("red", "green", "black")
        return min(blue.score(w) - self.model[f"color:{c}"].score(w) for c in rivals) / blue.spread

    def __call__(self, latents: torch.Tensor) -> list[dict[str, str]]:
        self.shown += len(latents)
        return [{"color": "blue" if self.lead(w) >= self.needs else "red"} for w in latents]


def _landed_at(seen: list[bool], distances=LANDING_DISTANCES) -> float | None:
    """Where land puts a class target, given whether the classifier reads the class at each
    of ``distances``: LANDING_MARGIN tries past the first it does, while it still does."""
    if not any(seen):
        return None
    k = seen.index(True)
    for _ in range(LANDING_MARGIN):
        if k + 1 < len(seen) and seen[k + 1]:
            k += 1
    return distances[k]


def test_land_takes_a_class_target_past_the_first_distance_the_classifier_sees_it_at():
    model = _model()
    see = _Reader(model, needs=1.7)
    landed_any = False
    for face in _faces(12, seed=4):
        edit = Edit("color", target="blue", preserve=("glasses",))
        (landed,) = land(face, [edit], model, see)
        seen = [
            see.lead(
                apply(
                    face, [Edit("color", target="blue", preserve=("glasses",), distance=d)], model
                )
            )
            >= 1.7
            for d in LANDING_DISTANCES
        ]
        want = _landed_at(seen)
        if want is not None:
            assert landed.distance == want  # past the nearest that does, while it does
            assert see.lead(apply(face, [landed], model)) >= 1.7
            assert landed.preserve == ("glasses",) and str(landed) == "color=blue"
            landed_any = landed_any or want != LANDING_DISTANCES[seen.index(True)]
        else:
            assert landed == edit  # nothing does: calibrated, as without a classifier
    assert landed_any


class _WindowReader(_Reader):
    """Calls a face blue only while blue leads by ``needs`` to ``upto`` spreads: further out
    it reads as another colour (as purple hair set to blue turned green further on)."""

    def __init__(self, model: Boundaries, needs: float, upto: float) -> None:
        super().__init__(model, needs)
        self.upto = upto

    def __call__(self, latents: torch.Tensor) -> list[dict[str, str]]:
        self.shown += len(latents)
        return [
            {"color": "blue" if self.needs <= self.lead(w) <= self.upto else "green"}
            for w in latents
        ]


def test_land_renders_its_tries_a_few_at_a_time_nearest_first():
    model = _model()
    see = _WindowReader(model, needs=0.15, upto=0.6)  # blue at 0.2, 0.3 and 0.5 spreads
    faces = [face for face in _faces(12, seed=5) if see.lead(face) < 0]  # not blue yet
    assert faces
    for face in faces:
        see.shown = 0
        (landed,) = land(face, [Edit("color", target="blue")], model, see)
        assert landed.distance == 0.5  # two tries past the first in the window
        # the first three, then only the one try of the margin still unread
        assert see.shown == TRIES_AT_ONCE + 1 < len(LANDING_DISTANCES)
    see = _WindowReader(model, needs=0.25, upto=0.35)  # blue at 0.3 alone: it stays there
    (landed,) = land(faces[0], [Edit("color", target="blue")], model, see)
    assert landed.distance == 0.3
    see = _WindowReader(model, needs=5.0, upto=6.0)  # beyond every distance: all are tried
    see.shown = 0
    (landed,) = land(faces[0], [Edit("color", target="blue")], model, see)
    assert landed.distance is None and see.shown == len(LANDING_DISTANCES)


def test_land_lands_after_a_strength_and_remembers():
    model = _model()
    face = _faces(1, seed=6)[0]
    edits = [Edit("glasses", strength=1.0), Edit("color", target="blue")]
    strict = _Reader(model, needs=1.4)
    landed = land(face, edits, model, strict)
    assert landed[0] is edits[0] and landed[1].distance is not None
    # landed from where the strength left the face
    assert strict.lead(apply(face, landed, model)) >= 1.4
    shown = strict.shown
    memo: dict = {}
    assert land(face, edits, model, strict, memo=memo) == landed
    assert land(face, edits, model, strict, memo=memo) == landed
    assert strict.shown == 2 * shown  # the second call with the memo renders nothing


def test_land_lands_a_target_again_when_a_later_edit_takes_it_out_of_its_class():
    model = _model()
    see = _WindowReader(model, needs=1.2, upto=2.2)  # blue from 1.2 to 2.2 spreads' lead

    def blue(latent: torch.Tensor) -> bool:
        return see(latent[None])[0]["color"] == "blue"

    mended = 0
    for face in _faces(16, seed=9):
        for strength in (-2.5, 2.5):
            target = Edit("color", target="blue")
            chain = [target, Edit("glasses", strength=strength)]
            (alone,) = land(face, [target], model, see)  # landed with nothing after it
            after = [alone, chain[1]]
            landed = land(face, chain, model, see)
            assert landed[1] == chain[1]  # a strength stays as it is
            if blue(apply(face, after, model)):
                assert landed == after  # still blue once finished: nothing more to do
                continue
            others = [d for d in LANDING_DISTANCES if d != alone.distance]
            seen = [
                blue(apply(face, [replace(alone, distance=d), chain[1]], model)) for d in others
            ]
            want = _landed_at(seen, others)
            if want is not None:
                # landed again where the finished face is blue, past the nearest
                assert landed[0].distance == want and blue(apply(face, landed, model))
                mended += 1
            else:
                assert landed == after
    assert mended


def test_land_remembers_the_finished_chain():
    model = _model()
    face = _faces(1, seed=9)[0]
    chain = [Edit("color", target="blue"), Edit("glasses", strength=-2.5)]
    memo: dict = {}
    first = _Reader(model, needs=1.2)
    landed = land(face, chain, model, first, memo=memo)
    again = _Reader(model, needs=1.2)
    assert land(face, chain, model, again, memo=memo) == landed
    assert again.shown == 0


class _LengthReader:
    """Reads length from the ordinal direction alone (short below -``edge`` spreads, long
    above ``edge``, medium between), as a classifier reads what the GAN draws; the class
    planes do not enter it. Counts the faces it was shown."""

    def __init__(self, model: Boundaries, edge: float = 0.4) -> None:
        self.order, self.edge, self.shown = model["length"], edge, 0

    def at(self, w: torch.Tensor) -> float:
        w = w.double().mean(dim=0) if w.ndim == 2 else w.double()
        return self.order.distance(w) / self.order.spread

    def __call__(self, latents: torch.Tensor) -> list[dict[str, str]]:
        self.shown += len(latents)
        out = []
        for w in latents:
            d = self.at(w)
            out.append(
                {"length": "short" if d < -self.edge else "long" if d > self.edge else "medium"}
            )
        return out


def test_order_is_the_ordinal_direction_that_orders_a_categorical_attributes_classes():
    model = _model()
    assert model.info("length").order() is model["length"]
    assert model.info("color").order() is None  # no ordinal direction
    assert model.info("glasses").order() is None  # two classes: its plane is the move already
    turned = Boundaries(
        [
            replace(b, positive="short", negative="long") if b.kind == "ordinal" else b
            for b in model.all
        ]
    )
    assert turned.info("length").order() is None  # it runs against the classes' order


def test_order_sign_points_from_the_class_read_towards_the_target():
    info = _model().info("length")  # ordinal: short -> long
    assert order_sign(info, "short", "medium") == 1.0
    assert order_sign(info, "short", "long") == 1.0
    assert order_sign(info, "long", "medium") == -1.0
    assert order_sign(info, "medium", "short") == -1.0
    assert order_sign(info, "medium", "medium") is None  # already there
    assert order_sign(info, None, "short") is None  # not read
    assert order_sign(info, "purple", "short") is None
    assert order_sign(_model().info("color"), "red", "blue") is None  # no order


def test_land_moves_an_ordered_class_target_along_its_direction_a_try_past_first_seen():
    model = _model()
    see = _LengthReader(model)
    kept = ("glasses",)
    order = ("short", "medium", "long")
    checked = set()
    for face in _faces(30, seed=11):
        now = see(face[None])[0]["length"]
        for target in order:
            (landed,) = land(face, [Edit("length", target=target, preserve=kept)], model, see)
            if now == target:
                assert landed == Edit("length", strength=0.0, preserve=kept)  # it stays
                assert torch.allclose(apply(face, [landed], model), face)
                continue
            sign = 1.0 if order.index(target) > order.index(now) else -1.0
            tries = [Edit("length", strength=sign * s, preserve=kept) for s in ORDER_STRENGTHS]
            seen = [
                i
                for i, t in enumerate(tries)
                if see(apply(face, [t], model)[None])[0]["length"] == target
            ]
            if not seen:
                assert landed.target == target  # no strength reaches it: the class move
                continue
            first = seen[0]
            assert landed == tries[first + 1 if first + 1 in seen else first]  # a try past it
            moved = apply(face, [landed], model)
            assert see(moved[None])[0]["length"] == target
            assert model["glasses"].distance(moved) == pytest.approx(
                model["glasses"].distance(face), abs=1e-4
            )  # kept, as asked
            checked.add((now, target))
    assert {("long", "medium"), ("short", "long"), ("medium", "short")} <= checked


def test_land_moves_an_ordered_target_by_the_class_planes_when_no_strength_reaches_it():
    model = _model()
    see = _LengthReader(model, edge=50.0)  # reads medium everywhere: never short or long
    face = _faces(1, seed=12)[0]
    (landed,) = land(face, [Edit("length", target="long")], model, see)
    assert landed.target == "long"  # the class move, landed as without an order
    assert see.shown == 1 + len(ORDER_STRENGTHS) + len(LANDING_DISTANCES)


def test_land_lands_an_ordered_target_again_along_its_direction_after_a_later_edit():
    model = _model()
    see = _LengthReader(model)
    mended = 0
    for face in _faces(16, seed=13):
        for strength in (-3.0, 3.0):
            target = Edit("length", target="medium")
            chain = [target, Edit("glasses", strength=strength)]
            (alone,) = land(face, [target], model, see)
            after = [alone, chain[1]]
            landed = land(face, chain, model, see)
            assert landed[1] == chain[1]
            if see(apply(face, after, model)[None])[0]["length"] == "medium":
                assert landed == after
                continue
            if see(apply(face, landed, model)[None])[0]["length"] == "medium":
                assert landed[0].target is None and landed[0] != alone  # along the order
                mended += 1
    assert mended


def test_land_moves_w_plus_rows_in_a_layer_range():
    """The classifier reads the whole face (every row), while the edit moves rows 0-3 only."""
    model = _model()
    see = _Reader(model, needs=0.9)
    rows = torch.stack(_faces(6, seed=8))
    (landed,) = land(rows, [Edit("color", target="blue")], model, see, layers=(0, 4))
    out = apply(rows, [landed], model, layers=(0, 4))
    assert torch.equal(out[4:], rows[4:])
    assert see.lead(apply(rows, [Edit("color", target="blue")], model, layers=(0, 4))) < 0.9
    seen = [
        see.lead(apply(rows, [Edit("color", target="blue", distance=d)], model, layers=(0, 4)))
        >= 0.9
        for d in LANDING_DISTANCES
    ]
    assert landed.distance == _landed_at(seen) and see(out[None]) == [{"color": "blue"}]


def test_only_a_class_target_takes_a_landing_distance():
    with pytest.raises(EditError, match="distance"):
        Edit("length", strength=1.0, distance=2.0)
    with pytest.raises(EditError, match="distance"):
        Edit("color", target="blue", distance=0.0)


def test_a_class_target_is_the_shortest_move_that_leads_every_other_class():
    """Against an independent solver (scipy's SLSQP): the move is the shortest that puts the
    target's score the landing distance ahead of every other class's, preserved normals kept."""
    from scipy.optimize import minimize

    model = _model()
    blue = model["color:blue"]
    rivals = [model[f"color:{c}"] for c in ("red", "green", "black")]
    kept = torch.stack([b.normal for b in model.info("length").boundaries]).double()
    for face in _faces(6, seed=12):
        edit = Edit("color", target="blue", preserve=("length",), distance=0.8)
        move = (apply(face, [edit], model) - face).double()
        need = 0.8 * blue.spread * blue.scale
        after = face.double() + move
        leads = [blue.score(after) - r.score(after) for r in rivals]
        assert min(leads) >= need - 1e-5
        assert torch.allclose(kept @ move, torch.zeros(len(kept), dtype=torch.float64), atol=1e-6)
        w = face.double().numpy()
        gains = [(blue.normal.double() - r.normal.double()).numpy() for r in rivals]
        constraints = [
            {
                "type": "ineq",
                "fun": lambda m, g=g, r=r, w=w, need=need: (
                    g @ (w + m) + blue.intercept - r.intercept - need
                ),
            }
            for g, r in zip(gains, rivals, strict=True)
        ] + [{"type": "eq", "fun": lambda m: kept.numpy() @ m}]
        best = minimize(lambda m: m @ m, move.numpy() * 0, constraints=constraints, method="SLSQP")
        assert best.success
        assert float(move.norm()) == pytest.approx(float(torch.tensor(best.x).norm()), rel=1e-3)


def test_a_class_the_preserved_attributes_shut_off_is_an_error():
    model = _model()
    everything = tuple(b.normal for b in model.all if b.attribute != "color")
    assert len(everything) >= 5
    # preserving as many directions as W has leaves no move at all
    cramped = Boundaries(
        list(model.all)
        + [
            Boundary(
                f"extra:{i}", "extra", "class", f"c{i}", None, _unit(torch.randn(W_DIM)), 0.0, 1.0
            )
            for i in range(W_DIM)
        ]
    )
    face = next(w for w in _faces(50, seed=2) if cramped.current_class("color", w) != "blue")
    with pytest.raises(EditError, match="leaves no way into blue"):
        apply(face, [Edit("color", target="blue", preserve=("extra",))], cramped)


def test_bad_latents_are_refused():
    model = _model()
    with pytest.raises(ValueError, match="w_dim"):
        apply(torch.zeros(W_DIM + 1), [], model)
    with pytest.raises(ValueError, match="finite"):
        apply(torch.full((W_DIM,), float("nan")), [], model)
    with pytest.raises(ValueError, match="W\\+"):
        apply(torch.zeros(2, 3, W_DIM), [], model)


# --- grammar ----------------------------------------------------------------------------------


def test_grammar_round_trips():
    for text in ("color=blue", "length=+1.5", "color:blue=-2", "glasses=true", "length=-0.25"):
        assert str(parse_edit(text)) == text
    assert parse_edit(" length = +.5 ").strength == 0.5
    edits = parse_edits(["color=red", "length=+1"], ["glasses, length", "glasses"])
    assert edits[0].preserve == ("glasses", "length")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("color", "expected ATTR=CLASS"),
        ("length=1.5", "needs its sign"),
        ("color:blue=red", "signed strength"),
        ("Color=red", "expected ATTR=CLASS"),
        ("length=+inf", "not a class name"),
    ],
)
def test_grammar_errors_say_what_is_wrong(text, message):
    with pytest.raises(EditError, match=message):
        parse_edit(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hair=blue", "no attribute 'hair'.*color, length, glasses"),
        ("color=pink", "no class 'pink'.*red, blue, green, black"),
        ("color=+1", "one direction per class.*color:red=\\+1"),
        ("color:pink=+1", "no class 'pink'"),
    ],
)
def test_model_checks_say_what_the_model_has(text, message):
    with pytest.raises(EditError, match=message):
        apply(torch.zeros(W_DIM), [parse_edit(text)], _model())


def test_cannot_change_and_preserve_the_same_attribute():
    with pytest.raises(EditError, match="preserve it at once"):
        apply(torch.zeros(W_DIM), [Edit("color", target="red", preserve=("color",))], _model())


def test_descriptions_for_the_history_panel():
    assert parse_edit("hair_length=+1.5").describe() == "Hair length +1.5"
    assert parse_edit("eye_color=red").describe() == "Eye colour: red"
    kept = parse_edits(["hair_color:blue=+2"], ["eye_color"])[0]
    assert kept.describe() == "Hair colour blue +2 (keeping eye colour)"


def test_records_round_trip_to_the_same_boundaries():
    model = _model()
    records = [b.to_record() for b in model.all]
    again = boundaries_from_records(records, {b.name: b.normal for b in model.all})
    w = _faces(1)[0]
    assert again.distances(w) == pytest.approx(model.distances(w))


def _drawn_by(model: Boundaries, rows: dict[str, tuple[int, int]]) -> Boundaries:
    return Boundaries([replace(b, layers=rows.get(b.attribute)) for b in model.all])


def test_an_attribute_drawn_by_some_rows_moves_only_them_and_reads_there():
    model = _drawn_by(_model(), {"glasses": (4, 8)})
    w = _faces(1)[0]
    edit = Edit("glasses", strength=1.5)
    moved = apply(w, [edit], model, num_ws=8)
    assert moved.shape == (8, w.shape[0])
    assert torch.equal(moved[:4], w.expand(4, -1))  # rows 0-3 as they were
    plane = model["glasses"]
    assert plane.distance(moved[4]) - plane.distance(w) == pytest.approx(1.5 * plane.spread, 1e-4)
    # distances and classes are read on the attribute's own rows
    assert model.distances(moved)["glasses"] == pytest.approx(plane.distance(moved[5]), 1e-5)
    wplus = w.expand(8, -1).clone()
    wplus[4:] += plane.normal * 50
    assert model.current_class("glasses", wplus) == "true"
    wplus[4:] -= plane.normal * 100
    assert model.current_class("glasses", wplus) == "false"
    # the caller's rows win over the attribute's
    assert torch.equal(apply(w, [edit], model, layers=(0, 2), num_ws=8)[2:], w.expand(6, -1))
    # a class target lands the attribute's rows in the class
    target = apply(w, [Edit("glasses", target="true")], model, num_ws=8)
    assert plane.distance(target[6]) >= plane.target_distance * plane.spread - 1e-4
    with pytest.raises(ValueError, match="num_ws"):
        apply(w, [edit], model)
    with pytest.raises(ValueError, match="layers"):
        apply(w, [edit], model, num_ws=6)  # rows 4-8 of a 6-row W+


def test_preserving_an_attribute_drawn_by_other_rows_leaves_the_edit_whole():
    free = _drawn_by(_model(), {"glasses": (4, 8), "length": (0, 4)})
    shared = _drawn_by(_model(), {"glasses": (4, 8), "length": (2, 6)})
    w = _faces(1)[0]
    alone = apply(w, [Edit("glasses", strength=1.0)], free, num_ws=8)
    kept = apply(w, [Edit("glasses", strength=1.0, preserve=("length",))], free, num_ws=8)
    assert torch.allclose(kept, alone, atol=1e-6)  # length's rows are not touched anyway
    # rows shared with a preserved attribute: its normals are projected out as before
    kept = apply(w, [Edit("glasses", strength=1.0, preserve=("length",))], shared, num_ws=8)
    for b in shared.info("length").boundaries:
        assert float(b.normal @ (kept[5] - w)) == pytest.approx(0.0, abs=1e-4)


def test_the_rows_an_attribute_is_drawn_by_are_checked_and_kept_in_its_records():
    model = _drawn_by(_model(), {"color": (2, 6)})
    records = [b.to_record() for b in model.all]
    assert {tuple(r["layers"]) for r in records if r["attribute"] == "color"} == {(2, 6)}
    assert all("layers" not in r for r in records if r["attribute"] != "color")
    normals = {b.name: b.normal for b in model.all}
    again = boundaries_from_records(records, normals)
    assert again.info("color").layers == (2, 6) and again.info("glasses").layers is None
    with pytest.raises(ValueError, match="start < stop"):
        replace(model["glasses"], layers=(3, 3))
    with pytest.raises(ValueError, match="different layers"):
        Boundaries([replace(b, layers=(0, 2)) if b.name == "color:red" else b for b in model.all])
    bad = [dict(r, layers=[0.5, 2]) if r["name"] == "glasses" else r for r in records]
    with pytest.raises(ValueError, match="whole numbers"):
        boundaries_from_records(bad, normals)


def test_a_memo_never_changes_what_land_gives():
    """A reading may depend on every attribute the chain edits (the app reads renders kept
    to the edited attributes' regions): a target remembered from a shorter chain is landed
    again for a chain that edits more, and gives what a call without the memo gives."""
    model = _model()
    for face in _faces(24, seed=11):
        for strength in (-2.5, 2.5):
            memo: dict = {}
            target = Edit("color", target="blue")
            chain = [target, Edit("glasses", strength=strength)]
            # alone, the reading is strict; with glasses edited too, lenient
            land(face, [target], model, _Reader(model, needs=1.4), memo=memo)
            lenient = _Reader(model, needs=0.3)
            assert land(face, chain, model, lenient, memo=memo) == land(face, chain, model, lenient)

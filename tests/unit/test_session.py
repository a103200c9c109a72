"""The editor's Qt-free state: slider edits, keep toggles, history words, render requests."""

from __future__ import annotations

import pytest
import torch

from nfe_core.editing import Boundaries, EditError, apply
from nfe_core.session import EditState, RenderRequest, describe_change, render_request
from tests.tiny import tiny_boundaries, tiny_generator


def test_one_edit_per_attribute_in_first_touched_order():
    state = EditState().with_strength("glasses", 1.0).with_target("hair_color", "blue")
    state = state.with_strength("glasses", 2.5)
    assert [str(e) for e in state.edits] == ["glasses=+2.5", "hair_color=blue"]
    assert state.with_strength("glasses", 0).edits == state.reset("glasses").edits
    assert [e.attribute for e in state.reset("glasses").edits] == ["hair_color"]
    assert state.reset().edits == ()


def test_keep_toggles_preserve_other_attributes_but_never_the_edit_itself():
    state = EditState().with_keep("glasses", True).with_keep("hair_color", True)
    state = state.with_target("hair_color", "pink")
    (edit,) = state.resolved()
    assert edit.preserve == ("glasses",)
    assert state.reset().keep == {"glasses", "hair_color"}
    assert state.with_keep("glasses", False).resolved()[0].preserve == ()


def test_states_are_immutable_values_for_undo():
    before = EditState()
    after = before.with_strength("glasses", 1.0)
    assert before.edits == () and after != before
    assert after == EditState().with_strength("glasses", 1.0)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.with_strength("hair_length", 1.5), "Hair length +1.5"),
        (lambda s: s.with_target("eye_color", "red"), "Eye colour: red"),
        (lambda s: s.with_keep("eye_color", True), "Keep eye colour"),
        (lambda s: s.reset("glasses"), "Reset glasses"),
        (lambda s: s.reset(), "Reset all"),
        (lambda s: s, "No change"),
    ],
)
def test_history_words(change, words):
    start = EditState().with_strength("glasses", 1.0).with_target("mouth", "open")
    assert describe_change(start, change(start)) == words


def test_render_request_applies_the_edits_with_fixed_noise():
    generator = tiny_generator()
    boundaries = Boundaries(tiny_boundaries())
    w = generator.mapping(torch.randn(1, 32, generator=torch.Generator().manual_seed(0)))[0]
    state = EditState().with_target("hair_color", "blue").with_keep("glasses", True)
    request = RenderRequest(w.detach(), tuple(state.resolved()), serial=3)
    image, edited = render_request(request, generator, boundaries)
    assert image.shape == (32, 32, 3) and image.dtype.name == "uint8"
    assert torch.allclose(edited, apply(w.detach(), state.resolved(), boundaries))
    again, _ = render_request(request, generator, boundaries)
    assert (again == image).all()
    # a W latent with a layer range renders as W+
    plus = RenderRequest(w.detach(), tuple(state.resolved()), layers=(2, 6))
    _, edited_plus = render_request(plus, generator, boundaries)
    assert edited_plus.shape == (generator.num_ws, 32)


def test_check_against_another_model():
    state = EditState().with_target("eye_color", "red")
    with pytest.raises(EditError, match="no attribute 'eye_color'"):
        state.check(Boundaries(tiny_boundaries()))

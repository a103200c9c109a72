"""The editor's Qt-free state: slider edits, keep toggles, history words, the document."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nfe_core.editing import Boundaries, EditError
from nfe_core.edits import Edit
from nfe_core.facebox import FaceBox
from nfe_core.session import (
    AttributeSpec,
    EditState,
    Face,
    Session,
    attribute_group,
    describe_change,
)
from tests.tiny import tiny_boundaries


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
        (
            lambda s: s.with_target("hair_color", "blue").with_strength("hair_length", 1.5),
            "Hair colour: blue, Hair length +1.5",
        ),
        (
            lambda s: s.with_keep("eye_color", True).reset("glasses").reset("mouth"),
            "Keep eye colour, Reset all",
        ),
        (
            lambda s: (
                s.with_strength("glasses", -1.0)
                .with_strength("blush", 1.0)
                .with_strength("hair_length", 2.0)
                .with_target("eye_color", "red")
            ),
            "Glasses -1, Blush +1, Hair length +2 and 1 more",
        ),
    ],
)
def test_history_words(change, words):
    start = EditState().with_strength("glasses", 1.0).with_target("mouth", "open")
    assert describe_change(start, change(start)) == words


def test_check_against_another_model():
    state = EditState().with_target("eye_color", "red")
    with pytest.raises(EditError, match="no attribute 'eye_color'"):
        state.check(Boundaries(tiny_boundaries()))


def test_state_records_round_trip_and_reject_nonsense():
    state = EditState().with_target("hair_color", "blue").with_strength("hair_length", -1.25)
    state = state.with_strength("hair_color", 2, direction="pink").with_keep("eye_color", True)
    record = state.to_record()
    assert record == {"edits": ["hair_color:pink=+2", "hair_length=-1.25"], "keep": ["eye_color"]}
    assert EditState.from_record(record) == state
    for bad in ([], {"edits": "x"}, {"edits": ["nonsense"]}, {"keep": [1]}):
        with pytest.raises(ValueError):
            EditState.from_record(bad)
    with pytest.raises(ValueError, match="edited twice"):
        EditState.from_record({"edits": ["glasses=+1", "glasses=-1"]})


def test_attribute_specs_make_the_sliders_edit():
    per_class = AttributeSpec("hair_color", "Hair colour", "Hair", ("black", "blue"), True, None)
    assert per_class.slider_edit(0) is None
    assert per_class.slider_edit(1.5) == Edit("hair_color", strength=1.5, direction="black")
    assert per_class.slider_edit(-1, "blue") == Edit("hair_color", strength=-1.0, direction="blue")
    ordinal = AttributeSpec(
        "hair_length", "Hair length", "Hair", ("short", "long"), True, ("short", "long")
    )
    assert ordinal.slider_edit(2, "long") == Edit("hair_length", strength=2.0)
    assert [attribute_group(n) for n in ("hair_color", "eye_color", "glasses")] == [
        "Hair",
        "Eyes",
        "Face and accessories",
    ]


def test_session_starts_fresh_sliders_for_a_new_face_but_keeps_the_keep_toggles():
    session = Session()
    session.set_state(EditState().with_keep("glasses", True).with_strength("glasses", 1))
    latent = np.zeros((4, 8), np.float32)
    render = np.zeros((8, 8, 3), np.uint8)
    face = Face(latent, render, "generated", {"name": "m", "fingerprint": "f"}, seed=3,
                truncation=0.5)  # fmt: skip
    session.set_face(face)
    assert session.state == EditState(keep=frozenset({"glasses"}))
    assert face.describe() == "seed 3, truncation 0.5"
    with pytest.raises(ValueError, match="box"):
        Face(latent, render, "picture", {})
    with pytest.raises(ValueError, match="float32"):
        Face(latent.astype(np.float64), render, "generated", {})
    boxed = Face(latent, render, "picture", {}, box=FaceBox(1, 2, 30, 30), steps=60)
    assert boxed.describe() == "face 30 x 30 at 1,2 (60 steps)"


def test_the_desktop_side_of_the_core_does_not_import_torch():
    """The window must show before torch is imported (it alone takes ~1.7 s)."""
    code = (
        "import sys; import nfe_core.session, nfe_core.edits, nfe_core.presets, "
        "nfe_core.facebox, nfe_core.imageio; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

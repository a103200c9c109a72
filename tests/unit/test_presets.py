"""Edit presets: one JSON file of edits for a model, read back or refused in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nfe_core.bundle import Bundle, load_bundle
from nfe_core.editing import Edit, EditError
from nfe_core.pipeline import model_record
from nfe_core.presets import (
    Preset,
    PresetError,
    load_preset,
    preset_for_model,
    save_preset,
)
from tests.tiny import save_editing_bundle


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Bundle]:
    root = tmp_path_factory.mktemp("models")
    first = load_bundle(save_editing_bundle(root / "a"), "cpu")
    other = load_bundle(save_editing_bundle(root / "b", encoder=False, name="other"), "cpu")
    with torch.no_grad():  # the same weights, the same fingerprint: make it another model
        next(other.generator.parameters()).add_(1.0)
    return first, other


def test_round_trip_keeps_everything(bundles: tuple[Bundle, Bundle], tmp_path: Path) -> None:
    bundle, other = bundles
    preset = preset_for_model(
        "blue", ["hair_color=blue", "glasses=+1.5"], ["hair_color,glasses", "glasses"], bundle
    )
    assert preset.preserve == ("hair_color", "glasses")
    assert preset.model == model_record(bundle)
    path = save_preset(tmp_path / "blue.json", preset)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == {
        "format": "nfe-preset",
        "version": 1,
        "name": "blue",
        "edits": ["hair_color=blue", "glasses=+1.5"],
        "preserve": ["hair_color", "glasses"],
        "model": model_record(bundle),
    }
    loaded = load_preset(path)
    assert loaded == preset and loaded.model == preset.model
    assert loaded.edits() == [
        Edit("hair_color", target="blue", preserve=("glasses",)),
        Edit("glasses", strength=1.5, preserve=("hair_color",)),
    ]
    assert [str(e) for e in loaded.edits()] == ["hair_color=blue", "glasses=+1.5"]
    assert loaded.matches(bundle)
    assert not loaded.matches(other)  # another model: loads, but flagged
    assert "'tiny'" in loaded.describe_model()


def test_a_preset_without_a_model_matches_none(bundles: tuple[Bundle, Bundle]) -> None:
    preset = Preset("x", ("glasses=true",))
    assert not preset.matches(bundles[0]) and preset.describe_model() == "no model"


def test_presets_for_a_model_check_the_edits(bundles: tuple[Bundle, Bundle]) -> None:
    with pytest.raises(EditError, match="no attribute 'hat'"):
        preset_for_model("x", ["hat=true"], [], bundles[0])


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON (line 1"),
        (b"\xff\xfe\x00", "not text"),
        (b"[1, 2]", "not an NFE edit preset"),
        (b'{"format": "nfe-latent", "version": 1}', "not an NFE edit preset"),
        (b'{"format": "nfe-preset", "version": 9, "edits": ["a=+1"]}', "version 9"),
        (b'{"format": "nfe-preset", "version": 1, "edits": "a=+1"}', "'edits' must be a list"),
        (b'{"format": "nfe-preset", "version": 1, "edits": [1]}', "'edits' must be a list"),
        (b'{"format": "nfe-preset", "version": 1, "edits": []}', "no edits"),
        (b'{"format": "nfe-preset", "version": 1, "edits": ["glasses"]}', "cannot read the edit"),
        (b'{"format": "nfe-preset", "version": 1, "edits": ["glasses=1"]}', "needs its sign"),
        (
            b'{"format": "nfe-preset", "version": 1, "edits": ["a=+1"], "preserve": ["A B"]}',
            "not an attribute name",
        ),
        (
            b'{"format": "nfe-preset", "version": 1, "edits": ["a=+1"], "model": "tiny"}',
            "'model' must be null",
        ),
        (b'{"format": "nfe-preset", "version": 1, "name": "", "edits": ["a=+1"]}', "name"),
    ],
)
def test_bad_presets_are_refused_in_words(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and needle in message, message
    assert isinstance(caught.value, ValueError)


def test_missing_files_and_folders(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="no such file"):
        load_preset(tmp_path / "missing.json")
    with pytest.raises(PresetError, match="folder"):
        load_preset(tmp_path)


def test_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "pink hair.json"
    path.write_text('{"format": "nfe-preset", "version": 1, "edits": ["hair_color=pink"]}')
    preset = load_preset(path)
    assert preset.name == "pink hair" and preset.model is None and preset.preserve == ()

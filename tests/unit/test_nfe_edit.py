"""`nfe edit` and `nfe tags`: attribute edits from the command line, and reading attributes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nfe_core.bundle import load_bundle, save_bundle
from nfe_core.cli.main import main
from nfe_core.editing import apply, parse_edits
from nfe_core.latent import Latent, load_latent, save_latent
from nfe_core.pipeline import land_edits
from nfe_core.sampling import images_to_uint8, z_for_seed
from tests.expect import one_error_line
from tests.tiny import TINY_ATTRIBUTES as ATTRIBUTES
from tests.tiny import TINY_GENERATOR, tiny_boundaries, tiny_classifier, tiny_generator

STRIP_FRAME = 128  # a 32 px model's strip frames are enlarged 4x
STRIP_GAP = 4


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A model with sliders and a classifier, and one with neither."""
    root = tmp_path_factory.mktemp("models")
    generator = tiny_generator()
    sliders = save_bundle(
        root / "sliders",
        generator,
        name="tiny",
        classifier=tiny_classifier(),
        boundaries=tiny_boundaries(),
    )
    plain = save_bundle(root / "plain", generator, name="plain")
    return {"sliders": sliders, "plain": plain}


@pytest.fixture
def model(models: dict[str, Path]) -> list[str]:
    return ["--model", str(models["sliders"])]


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _seed_w(bundle_root: Path, seed: int, psi: float = 0.7) -> tuple[torch.Tensor, object]:
    bundle = load_bundle(bundle_root)
    g = bundle.generator
    with torch.no_grad():
        w = g.truncate(g.mapping(z_for_seed(seed, g.config.z_dim).unsqueeze(0)), psi)[0]
    return w, bundle


def _render(generator, latent: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return images_to_uint8(generator.synthesis(latent.unsqueeze(0), noise_mode="const"))[0]


# --------------------------------------------------------------------------------------------
# nfe edit: one face


def test_edit_writes_the_edited_face_at_the_models_size(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "edited.png"
    sets = ["--set", "hair_color=blue", "--set", "glasses=+1.5"]
    assert main(["edit", *model, "--seed", "4", *sets, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    written = _pixels(out)
    assert written.shape == (32, 32, 3)

    w, bundle = _seed_w(models["sliders"], 4)
    edits = parse_edits(["hair_color=blue", "glasses=+1.5"])
    landed = land_edits(bundle, w, edits)  # where the model's classifier sees blue
    assert landed[0].distance is not None and landed[1] == edits[1]
    expected = _render(bundle.generator, apply(w, landed, bundle.boundaries))
    assert np.array_equal(written, expected)

    lines = captured.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("hair_color=blue: hair_color:blue ") and lines[0].endswith(
        "now blue"
    )
    assert lines[1].startswith("glasses=+1.5: glasses ") and "spreads" in lines[1]
    assert f"wrote {out}" in captured.out and "seed 4 of tiny" in captured.out


def test_a_strength_edit_moves_by_that_many_spreads(
    model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["edit", *model, "--seed", "2", "--set", "glasses=+2", "-o", str(tmp_path / "g.png")]
    assert main(argv) == 0
    line = capsys.readouterr().err.strip()
    before, after = (float(x) for x in line.split(": glasses ")[1].split(" spreads")[0].split("->"))
    assert after - before == pytest.approx(2.0, abs=0.011)


def test_edit_with_layers_and_preserve(
    models: dict[str, Path], model: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "layers.png"
    argv = ["edit", *model, "--seed", "9", "--set", "glasses=true", "--preserve", "hair_color"]
    assert main([*argv, "--layers", "2:6", "-o", str(out), "--quiet"]) == 0
    w, bundle = _seed_w(models["sliders"], 9)
    edits = parse_edits(["glasses=true"], ["hair_color"])
    num_ws = bundle.generator.num_ws
    edited = apply(w, edits, bundle.boundaries, layers=(2, 6), num_ws=num_ws)
    assert np.array_equal(_pixels(out), _render(bundle.generator, edited))


def test_preserve_spares_the_attribute_an_edit_changes(
    models: dict[str, Path], model: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "both.png"
    sets = ["--set", "glasses=true", "--set", "hair_color=pink"]
    argv = ["edit", *model, "--seed", "8", *sets, "--preserve", "hair_color,glasses"]
    assert main([*argv, "-o", str(out), "--quiet"]) == 0
    w, bundle = _seed_w(models["sliders"], 8)
    edits = [
        *parse_edits(["glasses=true"], ["hair_color"]),
        *parse_edits(["hair_color=pink"], ["glasses"]),
    ]
    landed = land_edits(bundle, w, edits)
    assert np.array_equal(
        _pixels(out), _render(bundle.generator, apply(w, landed, bundle.boundaries))
    )


def test_save_latent_round_trip_reproduces_the_picture(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, saved = tmp_path / "first.png", tmp_path / "face.npz"
    argv = ["edit", *model, "--seed", "6", "--truncation", "0.5", "--set", "hair_color=pink"]
    assert main([*argv, "-o", str(first), "--save-latent", str(saved)]) == 0
    latent = load_latent(saved, TINY_GENERATOR.w_dim)
    assert latent.w.shape == (TINY_GENERATOR.w_dim,)
    assert latent.source["kind"] == "edit"
    assert latent.source["base"] == {"kind": "seed", "seed": 6, "truncation": 0.5}
    assert latent.source["edits"] == ["hair_color=pink"]
    assert latent.model["name"] == "tiny" and len(latent.model["fingerprint"]) == 16
    capsys.readouterr()

    again = tmp_path / "again.png"
    argv = ["edit", *model, "--latent", str(saved), "--set", "glasses=+0", "-o", str(again)]
    assert main(argv) == 0
    assert np.array_equal(_pixels(again), _pixels(first))
    assert "warning" not in capsys.readouterr().err


def test_a_wplus_latent_file_is_edited(
    models: dict[str, Path], model: list[str], tmp_path: Path
) -> None:
    w, bundle = _seed_w(models["sliders"], 1)
    wplus = w.unsqueeze(0).repeat(bundle.generator.num_ws, 1)
    wplus[:3] += 0.3
    path = save_latent(tmp_path / "plus.npz", Latent(wplus, {"kind": "test"}, {}))
    out, resaved = tmp_path / "plus.png", tmp_path / "plus2.npz"
    argv = ["edit", *model, "--latent", str(path), "--set", "glasses=-1", "-o", str(out)]
    assert main([*argv, "--save-latent", str(resaved), "--quiet"]) == 0
    expected = apply(wplus, parse_edits(["glasses=-1"]), bundle.boundaries)
    assert np.array_equal(_pixels(out), _render(bundle.generator, expected))
    again = load_latent(resaved)
    assert again.is_wplus and torch.equal(again.w, expected)
    assert again.source["base"]["kind"] == "latent"
    assert again.source["base"]["source"] == {"kind": "test"}


def test_a_latent_of_another_model_gets_a_warning(
    model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = torch.zeros(TINY_GENERATOR.w_dim)
    other = {"name": "other", "fingerprint": "0123456789abcdef"}
    path = save_latent(tmp_path / "other.npz", Latent(w, {}, other))
    argv = ["edit", *model, "--latent", str(path), "--set", "glasses=+1", "--quiet"]
    assert main([*argv, "-o", str(tmp_path / "o.png")]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {path} was made for another model ('other')")
    assert (tmp_path / "o.png").is_file()


# --------------------------------------------------------------------------------------------
# nfe edit --strip


def test_strength_strip_has_seven_frames_and_the_unedited_face_in_the_middle(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "strip.png"
    assert main(["edit", *model, "--seed", "3", "--strip", "glasses", "-o", str(out)]) == 0
    strip = _pixels(out)
    assert strip.shape == (STRIP_FRAME, 7 * STRIP_FRAME + 6 * STRIP_GAP, 3)
    step = STRIP_FRAME + STRIP_GAP
    for i in range(1, 7):
        assert (strip[:, i * step - STRIP_GAP : i * step] == 255).all()
    w, bundle = _seed_w(models["sliders"], 3)
    middle = strip[:, 3 * step : 3 * step + STRIP_FRAME]
    assert np.array_equal(middle[::4, ::4], _render(bundle.generator, w))
    last = strip[:, 6 * step : 6 * step + STRIP_FRAME]
    edited = apply(w, parse_edits(["glasses=+3"]), bundle.boundaries)
    assert np.array_equal(last[::4, ::4], _render(bundle.generator, edited))
    assert "-3, -2, -1, +0, +1, +2, +3" in capsys.readouterr().err


def test_strip_steps_and_a_class_direction(model: list[str], tmp_path: Path) -> None:
    out = tmp_path / "strip.png"
    argv = ["edit", *model, "--seed", "3", "--strip", "hair_color:pink", "--strip-steps", "3"]
    assert main([*argv, "-o", str(out)]) == 0
    assert _pixels(out).shape == (STRIP_FRAME, 3 * STRIP_FRAME + 2 * STRIP_GAP, 3)


def test_categorical_strip_has_the_face_then_one_frame_per_class(
    model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "classes.png"
    argv = ["edit", *model, "--seed", "3", "--set", "glasses=true", "--strip", "hair_color"]
    assert main([*argv, "-o", str(out)]) == 0
    assert _pixels(out).shape == (STRIP_FRAME, 4 * STRIP_FRAME + 3 * STRIP_GAP, 3)
    assert "as it is, black, blue, pink" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# nfe edit: errors in words


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--seed", "1", "--set", "hat=true"], "no attribute 'hat' (it has: hair_color, glasses)"),
        (["--seed", "1", "--set", "hair_color=green"], "has no class 'green'"),
        (["--seed", "1", "--set", "hair_color=+1"], "one direction per class"),
        (["--seed", "1", "--set", "glasses"], "cannot read the edit"),
        (["--seed", "1", "--set", "glasses=+1", "--preserve", "hat"], "no attribute 'hat'"),
        (["--seed", "1"], "nothing to do"),
        (["--set", "glasses=+1"], "one of the arguments IMAGE --seed --latent is required"),
        (["--seed", "1", "--latent", "x.npz", "--set", "glasses=+1"], "not allowed with"),
        (["--seed", "1", "--set", "glasses=+1", "--layers", "3"], "START:STOP"),
        (["--seed", "1", "--set", "glasses=+1", "--layers", "4:2"], "START < STOP"),
        (["--seed", "1", "--set", "glasses=+1", "--layers", "0:99"], "W+ has 8 rows"),
        (["--seed", "-1", "--set", "glasses=+1"], "--seed"),
        (["--seed", "1", "--strip", "hat"], "no attribute 'hat'"),
        (["--seed", "1", "--strip", "hair_color:green"], "has no class 'green'"),
        (["--seed", "1", "--strip", "glasses", "--strip-steps", "1"], "at least 2"),
        (["--seed", "1", "--set", "glasses=+1", "--save-latent", "l.txt"], ".npz"),
        (["--latent", "missing.npz", "--set", "glasses=+1"], "missing.npz: no such file"),
    ],
)
def test_edit_errors_are_one_line_and_write_nothing(
    model: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    needle: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["edit", *model, *args, "-o", "out.png"]) == 2
    captured = capsys.readouterr()
    assert needle in one_error_line(captured.err)
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_edit_on_a_model_without_sliders_says_how_to_make_them(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["edit", "--model", str(models["plain"]), "--seed", "1", "--set", "glasses=true"]
    assert main([*argv, "-o", str(tmp_path / "x.png")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == (
        "error: this model has no attribute sliders yet; "
        f"run 'nfe-train attributes --model {models['plain']}'"
    )


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_text("not a latent"), ""),  # (latent.py's reason: see test_latent)
        (lambda p: np.savez(p, w=np.zeros(32, np.float32)), "not an NFE latent file"),
        (
            lambda p: save_latent(p, Latent(torch.zeros(7), {}, {})),
            "w_dim 7 but the model needs 32",
        ),
        (
            lambda p: save_latent(p, Latent(torch.zeros(3, TINY_GENERATOR.w_dim), {}, {})),
            "3 W+ rows but this model needs 8",
        ),
    ],
    ids=["text", "no meta", "w_dim", "rows"],
)
def test_an_unusable_latent_is_one_error_line(
    model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], make, needle: str
) -> None:
    path = tmp_path / "bad.npz"
    make(path)
    argv = ["edit", *model, "--latent", str(path), "--set", "glasses=+1"]
    assert main([*argv, "-o", str(tmp_path / "x.png")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {path}: ") and needle in line
    assert not (tmp_path / "x.png").exists()


def test_edit_never_replaces_files_without_force(
    model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, saved = tmp_path / "mine.png", tmp_path / "mine.npz"
    saved.write_bytes(b"keep")
    argv = ["edit", *model, "--seed", "1", "--set", "glasses=+1", "-o", str(out)]
    assert main([*argv, "--save-latent", str(saved)]) == 2
    assert "already exists" in one_error_line(capsys.readouterr().err)
    assert saved.read_bytes() == b"keep" and not out.exists()
    assert main([*argv, "--save-latent", str(saved), "--force"]) == 0
    assert load_latent(saved).source["edits"] == ["glasses=+1"]


# --------------------------------------------------------------------------------------------
# nfe tags


def _face(path: Path, seed: int, models: dict[str, Path]) -> Path:
    assert (
        main(["generate", "--model", str(models["sliders"]), "--seed", str(seed), "-o", str(path)])
        == 0
    )
    return path


def test_tags_prints_one_line_per_attribute(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    face = _face(tmp_path / "face.png", 2, models)
    capsys.readouterr()
    assert main(["tags", *model, str(face)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["hair_color", "glasses"]
    for line, (_, classes) in zip(lines, ATTRIBUTES, strict=True):
        label = line.split(": ")[1].split(" (")[0]
        assert label in classes and line.endswith(")")


def test_tags_json_for_one_and_for_several_pictures(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _face(tmp_path / "a.png", 1, models), _face(tmp_path / "b.jpg", 2, models)
    capsys.readouterr()
    assert main(["tags", *model, "--json", str(a)]) == 0
    one = json.loads(capsys.readouterr().out)
    assert set(one) == {"hair_color", "glasses"}
    for name, classes in ATTRIBUTES:
        scores = one[name]["scores"]
        assert list(scores) == list(classes)
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-5)
        assert one[name]["label"] == max(scores, key=scores.get)

    assert main(["tags", *model, "--json", str(a), str(b)]) == 0
    several = json.loads(capsys.readouterr().out)
    assert list(several) == [str(a), str(b)]
    assert several[str(a)] == one


def test_tags_reads_what_the_classifier_sees(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    face = _face(tmp_path / "face.png", 5, models)
    capsys.readouterr()
    assert main(["tags", *model, "--json", str(face)]) == 0
    scores = json.loads(capsys.readouterr().out)["glasses"]["scores"]
    image = torch.from_numpy(_pixels(face).astype(np.float32) / 127.5 - 1).permute(2, 0, 1)
    expected = tiny_classifier().predict(image.unsqueeze(0))["glasses"][0]
    assert [scores["false"], scores["true"]] == pytest.approx(expected.tolist(), abs=1e-5)


def test_tags_puts_transparent_areas_on_white(
    model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clear, white = tmp_path / "clear.png", tmp_path / "white.png"
    Image.new("RGBA", (48, 48), (200, 30, 40, 0)).save(clear)
    Image.new("RGB", (48, 48), (255, 255, 255)).save(white)
    assert main(["tags", *model, "--json", str(clear), str(white)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result[str(clear)] == result[str(white)]


def test_tags_goes_on_past_a_bad_picture(
    models: dict[str, Path], model: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _face(tmp_path / "good.png", 1, models)
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    rgba = tmp_path / "rgba.png"
    Image.new("RGBA", (40, 30), (200, 30, 40, 0)).save(rgba)
    capsys.readouterr()
    assert main(["tags", *model, str(good), str(bad), str(rgba)]) == 2
    captured = capsys.readouterr()
    assert one_error_line(captured.err).startswith(f"error: {bad}: ")
    out = captured.out.splitlines()
    assert out[0] == f"{good}:" and out[3] == f"{rgba}:"
    assert out[1].startswith("  hair_color: ") and out[5].startswith("  glasses: ")
    assert len(out) == 6


def test_tags_needs_a_classifier(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    face = _face(tmp_path / "face.png", 1, models)
    capsys.readouterr()
    assert main(["tags", "--model", str(models["plain"]), str(face)]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "has no attribute classifier" in line and "nfe-train attributes" in line
    assert captured.out == ""


@pytest.mark.parametrize("command", ["edit", "tags"])
def test_help_explains_the_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: nfe {command}" in out
    assert "examples:" in out and f"nfe {command} " in out.split("examples:")[1]

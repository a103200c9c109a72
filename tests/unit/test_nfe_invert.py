"""`nfe invert`, `nfe edit IMAGE`, presets on the command line and `nfe batch` (tiny model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nfe_core.bundle import load_bundle
from nfe_core.cli.main import main
from nfe_core.defaults import DEFAULT_STEPS
from nfe_core.editing import parse_edits
from nfe_core.facebox import FaceBox
from nfe_core.imageio import load_image
from nfe_core.latent import load_latent
from nfe_core.pipeline import edit_inverted, invert_picture, model_record, paste
from nfe_core.presets import load_preset
from tests.expect import one_error_line
from tests.icc import srgb_profile
from tests.tiny import save_editing_bundle
from tests.unit.test_pipeline import noise_picture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "full": save_editing_bundle(root / "full"),
        "no_encoder": save_editing_bundle(root / "plain", encoder=False),
    }


@pytest.fixture
def model(models: dict[str, Path]) -> list[str]:
    return ["--model", str(models["full"]), "--device", "cpu"]


@pytest.fixture
def art(tmp_path: Path) -> Path:
    """A 50 x 40 RGBA picture with an ICC profile."""
    rgba = np.dstack([noise_picture(50, 40, 7), np.full((40, 50), 200, np.uint8)])
    path = tmp_path / "art.png"
    Image.fromarray(rgba).save(path, icc_profile=srgb_profile())
    return path


# --------------------------------------------------------------------------------------------
# nfe invert


def test_invert_writes_a_loadable_latent(
    models: dict[str, Path],
    model: list[str],
    art: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "face.npz"
    argv = [
        "invert",
        str(art),
        "--box",
        "5,0,40,40",
        "--steps",
        "2",
        "--tune-steps",
        "1",
        "-o",
        str(out),
        *model,
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "2 steps in " in printed and " s)" in printed
    latent = load_latent(out)
    bundle = load_bundle(models["full"], "cpu")
    assert latent.w.shape == (bundle.generator.num_ws, 32)
    assert latent.model == model_record(bundle)
    source = latent.source
    assert source["kind"] == "inversion" and source["image"] == str(art)
    assert source["box"] == [5, 0, 40, 40] and source["steps"] == 2 and source["seconds"] >= 0
    expected = invert_picture(bundle, load_image(art), FaceBox(5, 0, 40, 40), steps=2, tune_steps=1)
    assert torch.equal(latent.w, expected.latent)  # deterministic
    # the tuned weights travel with the latent, and draw it as the inversion did
    assert latent.tuned is not None and expected.tuned is not None
    assert all(torch.equal(latent.tuned[k], expected.tuned[k]) for k in expected.tuned)
    same = tmp_path / "same.png"
    assert main(["edit", "--latent", str(out), "--set", "glasses=+0", "-o", str(same), *model]) == 0
    assert np.array_equal(np.asarray(load_image(same).rgb), expected.reconstruction)

    # the latent file is a face `nfe edit --latent` takes
    edited = tmp_path / "edited.png"
    assert (
        main(["edit", "--latent", str(out), "--set", "glasses=+1", "-o", str(edited), *model]) == 0
    )
    assert "warning" not in capsys.readouterr().err

    assert main(argv) == 2  # no overwriting without --force
    assert "already exists" in one_error_line(capsys.readouterr().err, alone=False)
    assert main([*argv, "--force"]) == 0


def test_a_box_reaching_past_the_top_left_is_taken_as_written(
    model: list[str], art: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--box -5,-8,40,40`` (argparse alone reads ``-5,...`` as another option): a face cut
    by the picture's edges, the box reaching past them by a quarter of its side at most."""
    out = tmp_path / "cut.npz"
    argv = ["invert", str(art), "--box", "-5,-8,40,40", "--steps", "1", "--tune-steps", "0"]
    assert main([*argv, "-o", str(out), *model]) == 0
    assert "box -5,-8,40,40" in capsys.readouterr().out
    assert load_latent(out).source["box"] == [-5, -8, 40, 40]
    far = ["invert", str(art), "--box", "-30,0,40,40", "--steps", "1", "-o", str(out), *model]
    assert main([*far, "--force"]) == 0  # reaching further: cut back to a quarter
    assert load_latent(out).source["box"] == [-3, 0, 13, 40]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--steps", "-1"], "at least 0"),
        (["--box", "1,2,3"], "four numbers"),
        (["--box", "0,0,0,5"], "empty"),
        (["--box", "100,100,5,5"], "entirely outside"),
    ],
)
def test_invert_errors(
    model: list[str],
    art: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    needle: str,
) -> None:
    out = tmp_path / "x.npz"
    assert main(["invert", str(art), *args, "-o", str(out), *model]) == 2
    assert needle in one_error_line(capsys.readouterr().err, alone=False)
    assert not out.exists()


def test_invert_needs_an_encoder_and_an_npz(
    models: dict[str, Path], art: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = ["--model", str(models["no_encoder"]), "--device", "cpu"]
    assert main(["invert", str(art), "-o", str(tmp_path / "x.npz"), *plain]) == 2
    assert "nfe-train encoder --model" in one_error_line(capsys.readouterr().err, alone=False)
    assert main(["invert", str(art), "-o", str(tmp_path / "x.png"), *plain]) == 2
    assert ".npz" in one_error_line(capsys.readouterr().err, alone=False)


# --------------------------------------------------------------------------------------------
# nfe edit IMAGE


def test_edit_a_picture_round_trip(
    models: dict[str, Path],
    model: list[str],
    art: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, saved = tmp_path / "out.png", tmp_path / "edited.npz"
    argv = [
        "edit",
        str(art),
        "--box",
        "20,0,30,30",
        "--steps",
        "2",
        "--tune-steps",
        "1",
        "--set",
        "glasses=+3",
    ]
    assert main([*argv, "-o", str(out), "--save-latent", str(saved), *model]) == 0
    captured = capsys.readouterr()
    assert f"wrote {out} (50x40 px; picture {art}, box 20,0,30,30" in captured.out
    assert "\nglasses=+3: glasses " in "\n" + captured.err.split("\r")[-1]

    original, result = load_image(art), load_image(out)
    assert result.size == original.size and result.icc_profile == original.icc_profile
    assert result.alpha is not None
    assert np.array_equal(np.asarray(result.alpha), np.asarray(original.alpha))
    before, after = np.asarray(original.rgb), np.asarray(result.rgb)
    assert np.array_equal(before[:, :20], after[:, :20]) and np.array_equal(before[30:], after[30:])
    assert not np.array_equal(before[:30, 20:], after[:30, 20:])

    bundle = load_bundle(models["full"], "cpu")  # the same as the pipeline, bit for bit
    inverted = invert_picture(bundle, original, FaceBox(20, 0, 30, 30), steps=2, tune_steps=1)
    edited = edit_inverted(bundle, inverted, parse_edits(["glasses=+3"]))
    assert np.array_equal(np.asarray(paste(original, inverted, edited.render).rgb), after)

    latent = load_latent(saved)
    assert torch.equal(latent.w, edited.latent)
    assert latent.source["kind"] == "edit" and latent.source["edits"] == ["glasses=+3"]
    assert latent.source["base"]["kind"] == "inversion"


def test_a_zero_edit_of_a_picture_keeps_its_pixels(
    model: list[str], art: Path, tmp_path: Path
) -> None:
    out = tmp_path / "same.png"
    argv = [
        "edit",
        str(art),
        "--steps",
        "1",
        "--tune-steps",
        "1",
        "--set",
        "glasses=+0",
        "-o",
        str(out),
        "--quiet",
    ]
    assert main([*argv, *model]) == 0
    assert np.array_equal(np.asarray(load_image(out).rgb), np.asarray(load_image(art).rgb))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["IMAGE", "--seed", "1", "--set", "glasses=+1"], "not allowed with"),
        (["IMAGE", "--strip", "glasses"], "--strip goes with --seed or --latent"),
        (["IMAGE", "--truncation", "0.5", "--set", "glasses=+1"], "--truncation"),
        (["--seed", "1", "--box", "0,0,5,5", "--set", "glasses=+1"], "go with a picture"),
        (["--seed", "1", "--steps", "3", "--set", "glasses=+1"], "go with a picture"),
        (["IMAGE", "--set", "hat=true"], "no attribute 'hat'"),
        (["IMAGE", "--set", "glasses=+1", "--box", "99,99,5,5"], "entirely outside"),
        (["missing.png", "--set", "glasses=+1"], "missing.png: the file does not exist"),
        (["IMAGE", "--preset", "missing.json"], "missing.json: no such file"),
        (["IMAGE", "--preset", "p.json", "--set", "glasses=+1"], "either --preset or --set"),
        (["IMAGE", "--set", "glasses=+1", "--write-preset", "p.txt"], ".json"),
    ],
)
def test_edit_picture_errors(
    model: list[str],
    art: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    needle: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [str(art) if a == "IMAGE" else a for a in args]
    assert main(["edit", *args, "-o", "out.png", *model]) == 2
    assert needle in one_error_line(capsys.readouterr().err, alone=False)
    assert not (tmp_path / "out.png").exists()


def test_edit_without_an_encoder_says_how_to_get_one(
    models: dict[str, Path], art: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["edit", str(art), "--set", "glasses=+1", "-o", str(tmp_path / "o.png")]
    assert main([*argv, "--model", str(models["no_encoder"]), "--device", "cpu"]) == 2
    assert "nfe-train encoder" in one_error_line(capsys.readouterr().err, alone=False)


# --------------------------------------------------------------------------------------------
# presets on the command line


def test_write_a_preset_then_use_it(
    models: dict[str, Path],
    model: list[str],
    art: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    preset = tmp_path / "blue.json"
    first = tmp_path / "first.png"
    argv = ["edit", "--seed", "3", "--set", "hair_color=blue", "--preserve", "glasses"]
    assert main([*argv, "--write-preset", str(preset), "-o", str(first), *model]) == 0
    assert f"wrote preset {preset}" in capsys.readouterr().out
    loaded = load_preset(preset)
    assert loaded.name == "blue" and loaded.sets == ("hair_color=blue",)
    assert loaded.preserve == ("glasses",)
    assert loaded.model == model_record(load_bundle(models["full"], "cpu"))

    again = tmp_path / "again.png"  # the preset gives the same edit as --set/--preserve
    assert main(["edit", "--seed", "3", "--preset", str(preset), "-o", str(again), *model]) == 0
    assert first.read_bytes() == again.read_bytes()
    assert "warning" not in capsys.readouterr().err

    # on another model it still works, with a warning
    other = ["--model", str(models["no_encoder"]), "--device", "cpu"]
    data = json.loads(preset.read_text())
    data["model"]["fingerprint"] = "0000000000000000"
    preset.write_text(json.dumps(data))
    third = tmp_path / "third.png"
    assert main(["edit", "--seed", "3", "--preset", str(preset), "-o", str(third), *other]) == 0
    assert "warning: the preset 'blue' was made for 'tiny'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# nfe batch


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(("a.png", "c.png", "d.png")):
        Image.fromarray(noise_picture(24 + i, 20, i)).save(folder / name)
    (folder / "b.png").write_bytes(b"this is not a picture")
    return folder


def test_batch_reports_a_bad_file_and_exits_1(
    model: list[str], pictures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = [
        "batch",
        str(pictures),
        "--set",
        "glasses=+2",
        "--out",
        str(out),
        "--steps",
        "1",
        "--tune-steps",
        "1",
    ]
    assert main([*argv, "--format", "jpg", *model]) == 1
    captured = capsys.readouterr()
    line = one_error_line(captured.err, alone=False)
    assert line.startswith(f"error: {pictures / 'b.png'}: ") and "not a picture" in line
    assert f"edited 3 of 4 pictures into {out}" in captured.out and "1 failed" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["a_edited.jpg", "c_edited.jpg", "d_edited.jpg"]


def test_batch_with_a_preset_exits_0(
    models: dict[str, Path], model: list[str], pictures: Path, tmp_path: Path
) -> None:
    (pictures / "b.png").unlink()
    preset = tmp_path / "p.json"
    bundle = load_bundle(models["full"], "cpu")
    preset.write_text(
        json.dumps(
            {
                "format": "nfe-preset",
                "version": 1,
                "name": "p",
                "edits": ["hair_color=pink"],
                "model": model_record(bundle),
            }
        )
    )
    out = tmp_path / "out"
    argv = [
        "batch",
        str(pictures),
        "--preset",
        str(preset),
        "--out",
        str(out),
        "--steps",
        "0",
        "--tune-steps",
        "1",
    ]
    assert main([*argv, "--pattern", "{index}_{stem}.{ext}", "--quiet", *model]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["0_a.png", "1_c.png", "2_d.png"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "nothing to do"),
        (["--set", "hat=true"], "no attribute 'hat'"),
        (["--set", "glasses=+1", "--pattern", "{stem}.png", "--format", "jpg"], "end in .jpg"),
        (["--set", "glasses=+1", "--preset", "p.json"], "either --preset or --set"),
        (["--set", "glasses=+1", "--format", "gif"], "invalid choice"),
    ],
)
def test_batch_bad_arguments_exit_2(
    model: list[str],
    pictures: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    needle: str,
) -> None:
    out = tmp_path / "out"
    assert main(["batch", str(pictures), *args, "--out", str(out), *model]) == 2
    assert needle in one_error_line(capsys.readouterr().err, alone=False)
    assert not out.exists()


def test_batch_shards_by_rank_from_the_environment(
    model: list[str],
    pictures: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (pictures / "b.png").unlink()
    out = tmp_path / "out"
    argv = [
        "batch",
        str(pictures),
        "--set",
        "glasses=+1",
        "--out",
        str(out),
        "--steps",
        "0",
        "--tune-steps",
        "1",
    ]
    written = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        before = set(out.iterdir()) if out.exists() else set()
        assert main([*argv, *model]) == 0
        written.append(sorted(p.name for p in set(out.iterdir()) - before))
        total = 2 - rank
        assert f"rank {rank} of 2: edited {total} of {total} picture" in capsys.readouterr().out
    assert written == [["a_edited.png", "d_edited.png"], ["c_edited.png"]]
    monkeypatch.setenv("RANK", "5")
    assert main([*argv, *model]) == 2
    assert "rank 5 of 2" in one_error_line(capsys.readouterr().err, alone=False)


def test_batch_under_torchrun_with_two_processes(
    models: dict[str, Path], pictures: Path, tmp_path: Path
) -> None:
    (pictures / "b.png").unlink()
    out = tmp_path / "out"
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [
        str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "nfe_core.cli.main",
        "batch", str(pictures), "--set", "glasses=+1", "--out", str(out), "--steps", "1",
        "--tune-steps", "1",
        "--model", str(models["full"]), "--device", "cpu",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "rank 0 of 2: edited 2 of 2 pictures" in done.stdout
    assert "rank 1 of 2: edited 1 of 1 picture " in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["a_edited.png", "c_edited.png", "d_edited.png"]


def test_help_shows_the_core_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("invert", "batch"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert f"usage: nfe {command}" in out and f"nfe {command} " in out.split("examples:")[1]
        assert f"(default: {DEFAULT_STEPS})" in " ".join(out.split())


def test_ctrl_c_asks_the_batch_to_stop_and_twice_interrupts() -> None:
    import signal

    from nfe_core.cli.batch import _stop_on_ctrl_c

    before = signal.getsignal(signal.SIGINT)
    with _stop_on_ctrl_c() as should_stop:
        assert not should_stop()
        os.kill(os.getpid(), signal.SIGINT)
        assert should_stop()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
    assert signal.getsignal(signal.SIGINT) is before

"""The `nfe` command line: convert, probe, info, import-stylegan2, help, one-line errors."""

from __future__ import annotations

import argparse
import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from PIL import Image

import nfe_core.bundle
from nfe_core import __version__
from nfe_core.bundle import load_bundle, save_bundle
from nfe_core.cli.main import main
from nfe_core.editing import Boundary
from nfe_core.imageio import load_image
from nfe_core.models import Generator
from tests.expect import one_error_line
from tests.icc import srgb_profile
from tests.tiny import TINY_GENERATOR, tiny_generator


def rgba_png(path: Path) -> Path:
    image = Image.new("RGBA", (12, 10), (200, 30, 40, 255))
    alpha = np.full((10, 12), 255, np.uint8)
    alpha[:, :4] = 0
    image.putalpha(Image.fromarray(alpha))
    image.save(path, icc_profile=srgb_profile())
    return path


# --------------------------------------------------------------------------------------------
# The command itself


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "convert" in out and "probe" in out and "examples:" in out


@pytest.mark.parametrize("command", ["convert", "probe"])
def test_subcommand_help_explains_itself(capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: nfe {command}" in out
    assert "examples:" in out and f"nfe {command} " in out.split("examples:")[1]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nfe {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["convert", "only_one.png"],
        ["probe"],
        ["convert", "a.png", "b.jpg", "--quality", "101"],
        ["convert", "a.png", "b.jpg", "--quality", "high"],
    ],
)
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    one_error_line(captured.err)
    assert captured.out == ""


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nfe_core.cli.main", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: nfe" in result.stdout


# --------------------------------------------------------------------------------------------
# nfe convert


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_convert_keeps_alpha_and_icc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    source = rgba_png(tmp_path / "in.png")
    target = tmp_path / f"out{suffix}"
    assert main(["convert", str(source), str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    original, converted = load_image(source), load_image(target)
    assert converted.alpha is not None
    assert np.array_equal(np.asarray(converted.alpha), np.asarray(original.alpha))
    assert converted.icc_profile == original.icc_profile


def test_convert_to_jpeg_with_quality(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.bmp"
    Image.new("RGB", (16, 16), (10, 200, 30)).save(source)
    target = tmp_path / "out.JPG"
    assert main(["convert", str(source), str(target), "--quality", "80"]) == 0
    with Image.open(target) as written:
        assert written.format == "JPEG"
    assert capsys.readouterr().err == ""


def test_convert_jpeg_from_alpha_notes_white_background(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = rgba_png(tmp_path / "in.png")
    assert main(["convert", str(source), str(tmp_path / "out.jpg")]) == 0
    assert "note:" in capsys.readouterr().err


def test_convert_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = rgba_png(tmp_path / "in.png")
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    assert main(["convert", str(source), str(target)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--force" in line and str(target) in line
    assert target.read_bytes() == b"precious"
    assert main(["convert", str(source), str(target), "--force"]) == 0
    assert load_image(target).size == (12, 10)


def test_convert_refuses_input_as_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = rgba_png(tmp_path / "in.png")
    before = source.read_bytes()
    assert main(["convert", str(source), str(tmp_path / "." / "in.png")]) == 2
    assert "same file" in one_error_line(capsys.readouterr().err)
    assert source.read_bytes() == before
    assert main(["convert", str(source), str(source), "--force"]) == 0
    assert load_image(source).alpha is not None


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("hello"), "not a picture"),
    ],
)
def test_convert_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, expected: str
) -> None:
    source = tmp_path / "in.png"
    make(source)  # type: ignore[operator]
    target = tmp_path / "out.png"
    assert main(["convert", str(source), str(target)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert expected in line and str(source) in line
    assert not target.exists()


def test_convert_unknown_output_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = rgba_png(tmp_path / "in.png")
    assert main(["convert", str(source), str(tmp_path / "out.gif")]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert ".png" in line and ".jpg" in line and ".webp" in line


def test_convert_missing_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = rgba_png(tmp_path / "in.png")
    assert main(["convert", str(source), str(tmp_path / "nope" / "out.png")]) == 2
    assert "folder does not exist" in one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------------------------
# nfe probe


def test_probe_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = rgba_png(tmp_path / "a.png")
    second = tmp_path / "b.jpg"
    Image.new("RGB", (7, 3)).save(second)
    assert main(["probe", str(first), str(second)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines == [
        f"{first}: PNG, mode RGBA, 12x10, alpha: yes, ICC profile: yes",
        f"{second}: JPEG, mode RGB, 7x3, alpha: no, ICC profile: no",
    ]


def test_probe_goes_on_past_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = rgba_png(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    later = tmp_path / "later.gif"
    Image.new("P", (4, 4)).save(later)
    assert main(["probe", str(good), str(bad), str(later)]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith(f"error: {bad}: ")
    assert [entry.split(":")[0] for entry in captured.out.splitlines()] == [str(good), str(later)]


def test_probe_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 65535]], dtype=np.uint16)).save(image)
    missing = tmp_path / "missing.png"
    assert main(["probe", "--json", str(image), str(missing)]) == 2
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert records == [
        {
            "path": str(image),
            "format": "PNG",
            "mode": "I;16",
            "width": 2,
            "height": 1,
            "alpha": False,
            "icc_profile": False,
        }
    ]
    assert "does not exist" in one_error_line(captured.err)


# --------------------------------------------------------------------------------------------
# nfe info

TINY = TINY_GENERATOR
G_FILE = "generator.safetensors"


@pytest.fixture(scope="module", name="tiny_generator")
def tiny_generator_fixture() -> Generator:
    return tiny_generator()


@pytest.fixture
def bundle_dir(tmp_path: Path, tiny_generator: Generator) -> Path:
    return save_bundle(
        tmp_path / "model",
        tiny_generator,
        name="tiny",
        description="A tiny test model",
        training={"data": "synthetic", "steps": 3, "seed": 0},
    )


def parameter_count(generator: Generator) -> int:
    return sum(p.numel() for p in generator.parameters())


@pytest.mark.parametrize("command", ["info", "import-stylegan2"])
def test_model_commands_explain_themselves(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: nfe {command}" in out
    assert "examples:" in out and f"nfe {command} " in out.split("examples:")[1]


def test_commands_that_need_no_model_do_not_import_torch() -> None:
    code = (
        "import sys; from nfe_core.cli.main import main; "
        "main(['--help']); main(['probe', 'missing.png']); print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_info_describes_the_model(
    bundle_dir: Path, tiny_generator: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(bundle_dir)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0] == f"bundle: {bundle_dir} (every file checked)"
    for line in [
        "name: tiny",
        "description: A tiny test model",
        "resolution: 32x32 px",
        "latents: z 32, w 32 (8 rows in W+), mapping layers: 2",
        "networks:",
        f"  generator: {parameter_count(tiny_generator):,} parameters ({G_FILE})",
        "training:",
        "  data: synthetic",
        "  steps: 3",
        "attributes: none yet",
        "quality report: none yet",
        "loaded on: cpu",
    ]:
        assert line in lines, captured.out


def test_info_json(
    bundle_dir: Path, tiny_generator: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", "--json", str(bundle_dir)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == str(bundle_dir)
    assert record["name"] == "tiny"
    assert record["description"] == "A tiny test model"
    assert record["format_version"] == 1
    assert (record["resolution"], record["z_dim"], record["w_dim"]) == (32, 32, 32)
    assert (record["mapping_layers"], record["num_ws"]) == (2, TINY.num_ws)
    assert record["networks"] == {
        "generator": {
            "file": G_FILE,
            "parameters": parameter_count(tiny_generator),
            "config": TINY.to_dict(),
        }
    }
    assert record["training"] == {"data": "synthetic", "steps": 3, "seed": 0}
    assert record["attributes"] == []
    assert "report" in record and record["report"] is None
    assert record["device"] == "cpu"


def test_info_lists_attributes_and_report_when_present(
    tmp_path: Path, tiny_generator: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    root = save_bundle(
        tmp_path / "m",
        tiny_generator,
        name="later",
        boundaries=[
            Boundary(
                "hair_color:blonde", "hair_color", "class", "blonde", None,
                torch.nn.functional.normalize(torch.ones(32), dim=0), 0.5, 2.0,
            ),
            Boundary(
                "eye_color:red", "eye_color", "class", "red", None,
                torch.nn.functional.normalize(-torch.ones(32), dim=0), 0.5, 2.0, layers=(2, 4),
            ),
        ],
        attributes=[{"name": "hair_color:blonde", "svm_test_accuracy": 0.97}],
        report={"fid": 12.5, "edit_success": {"hair_color": 0.95}, "notes": []},
        training={"steps": 3, "encoder": {"options": {"lr": 0.001, "steps": 20}}},
    )  # fmt: skip
    assert main(["info", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # training records: nested tables indented, numbers as recorded
    at = lines.index("  encoder:")
    assert lines[at + 1 : at + 4] == ["    options:", "      lr: 0.001", "      steps: 20"]
    assert "attributes (2):" in lines
    assert (
        "  hair_color:blonde (class, SVM balanced test accuracy 0.9700, strengths -3..3)" in lines
    )
    assert "  eye_color:red (class, strengths -3..3, W+ rows 2:4)" in lines
    assert "quality report:" in lines and "  fid: 12.5000" in lines
    assert lines[lines.index("  edit_success:") + 1] == "    hair_color: 0.9500"
    assert "  notes: []" in lines


def test_info_on_a_missing_device(bundle_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["info", "--device", "cuda", str(bundle_dir)]) == 2
    captured = capsys.readouterr()
    assert one_error_line(captured.err) == (
        "error: CUDA was asked for but is not available on this machine"
    )
    assert captured.out == ""


def _nan_weights(root: Path) -> Path:
    tensors = {k: v.clone() for k, v in safetensors.torch.load_file(str(root / G_FILE)).items()}
    tensors["w_avg"][0] = float("nan")
    safetensors.torch.save_file(tensors, str(root / G_FILE))
    return root / G_FILE


def _stray_pickle(root: Path) -> Path:
    (root / "evil.pkl").write_bytes(pickle.dumps({"a": 1}))
    return root / "evil.pkl"


def _no_meta(root: Path) -> Path:
    (root / "bundle.json").unlink()
    return root / "bundle.json"


def _newer(root: Path) -> Path:
    meta = json.loads((root / "bundle.json").read_text())
    meta["format_version"] = 2
    (root / "bundle.json").write_text(json.dumps(meta))
    return root / "bundle.json"


@pytest.mark.parametrize(
    ("damage", "words", "open_named"),
    [
        (_nan_weights, "NaN or infinite values", False),
        (_stray_pickle, "never loads pickles", False),
        (_no_meta, "the file is missing", False),
        (_newer, "unknown format version 2", False),
        (lambda root: root / G_FILE, "this is a file; expected a model bundle folder", True),
        (lambda root: root / "elsewhere", "no such folder", True),
    ],
)
def test_info_on_a_defective_bundle(
    bundle_dir: Path, capsys: pytest.CaptureFixture[str], damage, words: str, open_named: bool
) -> None:
    named = damage(bundle_dir)  # breaks the bundle; returns the path the error must name
    assert main(["info", str(named if open_named else bundle_dir)]) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line.startswith(f"error: {named}: ")
    assert words in line
    assert captured.out == ""


def test_info_without_a_default_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    default = tmp_path / "models" / "default"
    monkeypatch.setattr(nfe_core.bundle, "default_bundle_path", lambda: default)
    assert main(["info"]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"error: no default model is installed at {default}; pass a bundle folder"
    )


def test_info_describes_the_default_model(
    bundle_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nfe_core.bundle, "default_bundle_path", lambda: bundle_dir)
    assert main(["info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "tiny"


# --------------------------------------------------------------------------------------------
# nfe import-stylegan2

ROSINALITY_ARGS = argparse.Namespace(
    size=32, latent=32, n_mlp=2, channel_multiplier=2, lr_mlp=0.01, iter=800000, batch=16
)
IMPORT_SOURCE = "rosinality stylegan2-pytorch checkpoint"


def rosinality_checkpoint(path: Path, generator: Generator, latent_avg: torch.Tensor) -> Path:
    """A checkpoint in rosinality's layout: g_ema (no w_avg), latent_avg, args, training state."""
    g_ema = {k: v.clone() for k, v in generator.state_dict().items() if k != "w_avg"}
    torch.save(
        {
            "g": copy.deepcopy(g_ema),
            "d": {},
            "g_ema": g_ema,
            "g_optim": {},
            "d_optim": {},
            "args": ROSINALITY_ARGS,
            "latent_avg": latent_avg,
        },
        path,
    )
    return path


def test_import_stylegan2_end_to_end(
    tmp_path: Path, tiny_generator: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    latent_avg = torch.randn(TINY.w_dim, generator=torch.Generator().manual_seed(5))
    checkpoint = rosinality_checkpoint(tmp_path / "550000.pt", tiny_generator, latent_avg)
    out = tmp_path / "imported"
    assert main(["import-stylegan2", str(checkpoint), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.strip() == (
        f"{checkpoint} -> {out} (32x32 px generator, "
        f"{parameter_count(tiny_generator):,} parameters)"
    )

    loaded = load_bundle(out)
    assert loaded.name == "550000"
    assert loaded.description == "StyleGAN2 generator imported from 550000.pt"
    assert loaded.training == {
        "source": IMPORT_SOURCE,
        "checkpoint": "550000.pt",
        "args": vars(ROSINALITY_ARGS),
    }
    assert loaded.generator.config == TINY
    assert torch.equal(loaded.generator.w_avg, latent_avg)
    # The renders are those of the checkpoint's weights, truncated towards its latent_avg.
    reference = copy.deepcopy(tiny_generator)
    reference.w_avg.copy_(latent_avg)
    z = torch.randn(2, TINY.z_dim, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        assert torch.equal(loaded.generator(z, psi=0.5), reference(z, psi=0.5))
        mean_faces = loaded.generator.synthesis(latent_avg.expand(2, -1))
        assert torch.equal(loaded.generator(z, psi=0.0), mean_faces)

    assert main(["info", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "name: 550000" in lines
    assert f"  source: {IMPORT_SOURCE}" in lines
    assert "  checkpoint: 550000.pt" in lines
    assert lines[lines.index("  args:") + 1] == "    size: 32"


def test_import_replaces_a_bundle_only_with_force(
    tmp_path: Path, tiny_generator: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = rosinality_checkpoint(tmp_path / "ck.pt", tiny_generator, torch.zeros(32))
    out = tmp_path / "model"
    assert main(["import-stylegan2", str(checkpoint), "--out", str(out)]) == 0
    capsys.readouterr()
    argv = ["import-stylegan2", str(checkpoint), "--out", str(out), "--name", "Anime"]
    assert main(argv) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"error: {out}: a model bundle already exists here; pass --force to replace it"
    )
    assert load_bundle(out).name == "ck"
    assert main([*argv, "--force", "--description", "Second try"]) == 0
    replaced = load_bundle(out)
    assert (replaced.name, replaced.description) == ("Anime", "Second try")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt", "model"]


def test_import_refuses_a_folder_that_is_not_a_bundle(
    tmp_path: Path, tiny_generator: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = rosinality_checkpoint(tmp_path / "ck.pt", tiny_generator, torch.zeros(32))
    out = tmp_path / "photos"
    out.mkdir()
    (out / "cat.jpg").write_bytes(b"jpeg")
    assert main(["import-stylegan2", str(checkpoint), "--out", str(out), "--force"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {out}: the folder is not empty and is not a model bundle")
    assert [p.name for p in out.iterdir()] == ["cat.jpg"]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("a_file", "a file with this name already exists"),
        ("no/such/folder", "the folder it goes in does not exist"),
    ],
)
def test_import_refuses_unusable_targets(
    tmp_path: Path,
    tiny_generator: Generator,
    capsys: pytest.CaptureFixture[str],
    target: str,
    reason: str,
) -> None:
    checkpoint = rosinality_checkpoint(tmp_path / "ck.pt", tiny_generator, torch.zeros(32))
    (tmp_path / "a_file").write_text("keep me")
    out = tmp_path / target
    assert main(["import-stylegan2", str(checkpoint), "--out", str(out), "--force"]) == 2
    assert one_error_line(capsys.readouterr().err).startswith(f"error: {out}: {reason}")
    assert (tmp_path / "a_file").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "ck.pt"]


class _Payload:
    """Unpickling this creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize(
    "make",
    [
        lambda path: path.write_text("not a checkpoint"),
        lambda path: torch.save(_Payload(path.parent / "EXECUTED"), path),
        lambda path: torch.save({"g": {}, "latent_avg": torch.zeros(4)}, path),
        lambda path: None,  # no such file
    ],
    ids=["text", "code", "no g_ema", "missing"],
)
def test_import_of_a_bad_checkpoint_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make
) -> None:
    checkpoint = tmp_path / "bad.pt"
    make(checkpoint)
    out = tmp_path / "model"
    assert main(["import-stylegan2", str(checkpoint), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert one_error_line(captured.err).startswith(f"error: {checkpoint}: ")
    assert captured.out == ""
    assert not out.exists()
    assert not (tmp_path / "EXECUTED").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["bad.pt"] if checkpoint.exists() else [])


def test_a_reader_that_stops_early_is_not_an_error():
    """`nfe ... | head`: the closed pipe ends the command quietly, without a traceback."""
    code = (
        "from nfe_core.cli.common import run\n"
        "def main(argv):\n"
        "    for _ in range(100000):\n"
        "        print('x' * 100)\n"
        "    return 0\n"
        "raise SystemExit(run(main, []))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.read(10)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


# --------------------------------------------------------------------------------------------
# nfe generate


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_generate_renders_the_face_a_seed_stands_for(
    bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = ["--model", str(bundle_dir)]
    assert main(["generate", *model, "--seed", "5", "-o", str(tmp_path / "a.png")]) == 0
    assert main(["generate", *model, "--seed", "5", "-o", str(tmp_path / "b.png")]) == 0
    assert main(["generate", *model, "--seed", "6", "-o", str(tmp_path / "c.png")]) == 0
    a, b, c = (_pixels(tmp_path / f"{n}.png") for n in "abc")
    assert a.shape == (32, 32, 3)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert "seeds 5..5" in capsys.readouterr().out


def test_generate_count_writes_numbered_faces_from_consecutive_seeds(
    bundle_dir: Path, tmp_path: Path
) -> None:
    model = ["--model", str(bundle_dir)]
    assert (
        main(["generate", *model, "--seed", "10", "--count", "3", "-o", str(tmp_path / "f.png")])
        == 0
    )
    assert sorted(p.name for p in tmp_path.glob("f_*.png")) == [
        "f_0000.png",
        "f_0001.png",
        "f_0002.png",
    ]
    assert main(["generate", *model, "--seed", "11", "-o", str(tmp_path / "one.png")]) == 0
    assert np.array_equal(_pixels(tmp_path / "f_0001.png"), _pixels(tmp_path / "one.png"))


def test_generate_truncation_zero_is_the_mean_face_for_every_seed(
    bundle_dir: Path, tmp_path: Path
) -> None:
    args = ["generate", "--model", str(bundle_dir), "--truncation", "0", "--count", "2"]
    assert main([*args, "-o", str(tmp_path / "m.png")]) == 0
    assert np.array_equal(_pixels(tmp_path / "m_0000.png"), _pixels(tmp_path / "m_0001.png"))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--truncation", "1.5"], "from 0 to 1"),
        (["--count", "0"], "--count"),
        (["--seed", "-1"], "--seed"),
        (["-o", "face.bmp"], ".bmp"),
    ],
)
def test_generate_bad_input_is_one_error_line(
    bundle_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needle: str,
) -> None:
    args = {"--model": str(bundle_dir), "-o": "face.png"}
    for key, value in zip(extra[::2], extra[1::2], strict=True):
        args[key] = value
    args["-o"] = str(tmp_path / args["-o"])
    argv = ["generate", *[x for kv in args.items() for x in kv]]
    assert main(argv) == 2
    assert needle in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.glob("face*")) == []


def test_generate_never_replaces_a_picture_without_force(
    bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine.png"
    target.write_bytes(b"the artist's own picture")
    argv = ["generate", "--model", str(bundle_dir), "-o", str(target)]
    assert main(argv) == 2
    assert "already exists" in one_error_line(capsys.readouterr().err)
    assert target.read_bytes() == b"the artist's own picture"
    assert main([*argv, "--force"]) == 0
    assert _pixels(target).shape == (32, 32, 3)

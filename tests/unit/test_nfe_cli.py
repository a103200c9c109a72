"""The `nfe` command line: convert, probe, help, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from nfe_core import __version__
from nfe_core.cli.main import main
from nfe_core.imageio import load_image


def rgba_png(path: Path) -> Path:
    image = Image.new("RGBA", (12, 10), (200, 30, 40, 255))
    alpha = np.full((10, 12), 255, np.uint8)
    alpha[:, :4] = 0
    image.putalpha(Image.fromarray(alpha))
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image.save(path, icc_profile=profile)
    return path


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


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

"""`nfe-train synth` and the face-set writer behind it."""

from __future__ import annotations

import csv
import hashlib

import pytest
from PIL import Image

from nfe_core.jobs import Cancelled
from training.cli import main
from training.synth.schema import ATTRIBUTE_BY_NAME
from training.synth.writer import label_columns, write_face_set


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_synth_writes_faces_labels_and_a_grid(tmp_path, capsys):
    out, grid = tmp_path / "d", tmp_path / "g.png"
    args = ["synth", "--count", "12", "--size", "64", "--out", str(out), "--grid", str(grid)]
    assert main([*args, "--quiet"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{i:06d}.png" for i in range(12)] + ["labels.csv"]
    with (out / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == label_columns() and label_columns()[0] == "file"
    assert [r["file"] for r in rows] == names[:-1]
    for row in rows:
        for name, attr in ATTRIBUTE_BY_NAME.items():
            assert row[name] in attr.classes
        assert 0.0 <= float(row["hair_length_value"]) <= 1.0
    with Image.open(out / "000003.png") as im:
        assert im.size == (64, 64) and im.mode == "RGB"
    with Image.open(grid) as im:
        assert im.size[0] >= 8 * 128 and im.size[1] > 2 * 128  # 12 faces: 8 + 4 in two rows
    assert "wrote 12 faces" in capsys.readouterr().err


def test_same_seed_same_files_other_seed_other_faces(tmp_path):
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        args = ["synth", "--count", "6", "--size", "32", "--out", str(tmp_path / name)]
        assert main([*args, "--seed", seed, "--quiet"]) == 0
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_worker_processes_write_the_same_set_as_one_process(tmp_path):
    write_face_set(tmp_path / "one", 70, 32, seed=2, workers=1)
    steps = []
    write_face_set(
        tmp_path / "two",
        70,
        32,
        seed=2,
        workers=2,
        progress=lambda done, total: steps.append((done, total)),
    )
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    assert steps[-1] == (70, 70)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--size", "16"], "size"),
        (["--size", "600"], "size"),
        (["--count", "0"], "count"),
        (["--count", "many"], "count"),
        (["--grid", "g.bmp"], "bmp"),
    ],
)
def test_bad_arguments_are_one_error_line_and_exit_2(tmp_path, capsys, extra, needle):
    args = {"--count": "4", "--size": "32", "--out": str(tmp_path / "o")}
    for k, v in zip(extra[::2], extra[1::2], strict=True):
        args[k] = str(tmp_path / v) if k == "--grid" else v
    argv = ["synth", *[x for kv in args.items() for x in kv], "--quiet"]
    assert main(argv) == 2
    assert needle in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_an_unrelated_folder_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"precious")
    for force in ([], ["--force"]):
        args = ["synth", "--count", "3", "--size", "32", "--out", str(out), "--quiet"]
        assert main(args + force) == 2
        _one_error_line(capsys)
    assert [p.name for p in out.iterdir()] == ["holiday.jpg"]


def test_force_replaces_an_earlier_face_set(tmp_path):
    out = tmp_path / "d"
    assert main(["synth", "--count", "5", "--size", "32", "--out", str(out), "--quiet"]) == 0
    args = ["synth", "--count", "3", "--size", "32", "--out", str(out), "--quiet"]
    assert main(args) == 2
    assert main([*args, "--force"]) == 0
    assert len(list(out.glob("*.png"))) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["d"]  # no partial or old folders left


def test_a_cancelled_run_leaves_nothing_behind(tmp_path):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        write_face_set(tmp_path / "d", 200, 32, workers=1, should_stop=stop)
    assert list(tmp_path.iterdir()) == []


def test_help_explains_itself(capsys):
    assert main(["synth", "--help"]) == 0
    text = capsys.readouterr().out
    for word in ("--count", "--size", "--out", "--seed", "--grid", "labels.csv"):
        assert word in text

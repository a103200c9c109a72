"""nfe_core.batch: many pictures, one failure at a time, nothing overwritten, shards by rank."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from nfe_core.batch import (
    BatchError,
    expand_inputs,
    output_name,
    run_batch,
    shard_from_env,
)
from nfe_core.bundle import Bundle, load_bundle
from nfe_core.editing import parse_edits
from nfe_core.imageio import load_image
from tests.tiny import save_editing_bundle
from tests.unit.test_pipeline import noise_picture

EDITS = parse_edits(["glasses=+2"])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return load_bundle(save_editing_bundle(tmp_path_factory.mktemp("model") / "m"), "cpu")


def _picture(path: Path, width: int = 24, height: int = 20, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(noise_picture(width, height, seed)).save(path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """a.png, b.png (corrupt), c.jpg, sub/d.png, plus files a scan leaves out."""
    pictures = tmp_path / "pictures"
    _picture(pictures / "a.png", seed=1)
    (pictures / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 10)
    _picture(pictures / "c.jpg", 30, 18, seed=2)
    _picture(pictures / "sub" / "d.png", 16, 16, seed=3)
    (pictures / "notes.txt").write_text("not a picture")
    _picture(pictures / ".hidden.png")
    return pictures


def _bytes(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_corrupt_file_is_reported_and_the_rest_go_on(
    bundle: Bundle, folder: Path, tmp_path: Path
) -> None:
    before = _bytes(folder)
    seen: list[tuple[int, int]] = []
    out = tmp_path / "out"
    summary = run_batch(
        bundle, [folder], EDITS, out, steps=1, tune_steps=1, progress=lambda *a: seen.append(a)
    )
    assert [source.name for source, _ in summary.done] == ["a.png", "c.jpg", "d.png"]
    assert [target.name for _, target in summary.done] == [
        "a_edited.png",
        "c_edited.png",
        "d_edited.png",
    ]
    ((bad, reason),) = summary.failed
    assert bad == folder / "b.png" and "truncated" in reason
    assert summary.total == 4 and not summary.cancelled and not summary.ok
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(p.name for p in out.iterdir()) == ["a_edited.png", "c_edited.png", "d_edited.png"]
    for source, target in summary.done:  # full size, edited inside the box only
        assert load_image(target).size == load_image(source).size
    assert _bytes(folder) == before  # inputs untouched


def test_inputs_are_never_overwritten(bundle: Bundle, folder: Path) -> None:
    before = _bytes(folder)
    (folder / "a_1.png").write_bytes(b"an unrelated file")
    summary = run_batch(
        bundle, [folder / "a.png"], EDITS, folder, pattern="{name}", steps=0, tune_steps=1
    )
    ((_, written),) = summary.done
    assert written == folder / "a_2.png"  # a.png is the input, a_1.png was taken
    assert (folder / "a_1.png").read_bytes() == b"an unrelated file"
    assert all(path.read_bytes() == data for path, data in before.items())


def test_earlier_results_and_clashing_names_get_numbers(bundle: Bundle, tmp_path: Path) -> None:
    first = _picture(tmp_path / "x" / "face.png", seed=1)
    second = _picture(tmp_path / "y" / "face.png", seed=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "face_edited.webp").write_bytes(b"earlier")
    summary = run_batch(bundle, [second, first], EDITS, out, fmt="webp", steps=0, tune_steps=1)
    assert [(s, t.name) for s, t in summary.done] == [
        (first, "face_edited_1.webp"),
        (second, "face_edited_2.webp"),
    ]
    assert (out / "face_edited.webp").read_bytes() == b"earlier"
    assert load_image(out / "face_edited_1.webp").source_format == "WEBP"


def test_shards_partition_the_inputs(bundle: Bundle, tmp_path: Path) -> None:
    pictures = [_picture(tmp_path / "in" / f"{i}.png", seed=i) for i in range(5)]
    out = tmp_path / "out"
    shards = [
        run_batch(bundle, [tmp_path / "in"], EDITS, out, steps=0, tune_steps=1, rank=r, world=2)
        for r in (0, 1)
    ]
    mine = [[source for source, _ in s.done] for s in shards]
    assert mine == [pictures[0::2], pictures[1::2]]
    assert [s.total for s in shards] == [3, 2]
    assert sorted(p.name for p in out.iterdir()) == [f"{i}_edited.png" for i in range(5)]


def test_shard_from_env() -> None:
    assert shard_from_env({}) == (0, 1)
    assert shard_from_env({"RANK": "1", "WORLD_SIZE": "2"}) == (1, 2)
    with pytest.raises(BatchError, match="rank 2 of 2"):
        shard_from_env({"RANK": "2", "WORLD_SIZE": "2"})
    with pytest.raises(BatchError, match="WORLD_SIZE='two'"):
        shard_from_env({"WORLD_SIZE": "two"})


def test_cancel_between_pictures(bundle: Bundle, folder: Path, tmp_path: Path) -> None:
    stop = []
    summary = run_batch(
        bundle,
        [folder],
        EDITS,
        tmp_path / "out",
        steps=0,
        progress=lambda done, total: stop.append(done),
        should_stop=lambda: bool(stop),
    )
    assert summary.cancelled and len(summary.done) == 1
    assert summary.skipped == [folder / "b.png", folder / "c.jpg", folder / "sub" / "d.png"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a_edited.png"]


def test_cancel_inside_an_inversion_writes_nothing(
    bundle: Bundle, folder: Path, tmp_path: Path
) -> None:
    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3  # the first check between pictures, then two steps

    summary = run_batch(
        bundle, [folder], EDITS, tmp_path / "out", steps=50, tune_steps=2, should_stop=stop
    )
    assert summary.cancelled and summary.done == [] and len(summary.skipped) == 4
    assert list((tmp_path / "out").iterdir()) == []


def test_the_output_folder_is_not_scanned(bundle: Bundle, tmp_path: Path) -> None:
    _picture(tmp_path / "in" / "a.png")
    out = tmp_path / "in" / "edited"
    run_batch(bundle, [tmp_path / "in"], EDITS, out, steps=0, tune_steps=1)
    again = run_batch(bundle, [tmp_path / "in"], EDITS, out, steps=0, tune_steps=1)
    assert [s.name for s, _ in again.done] == ["a.png"]
    assert sorted(p.name for p in out.iterdir()) == ["a_edited.png", "a_edited_1.png"]
    assert expand_inputs([tmp_path / "in"], exclude=out) == [tmp_path / "in" / "a.png"]


def test_a_box_outside_one_picture_fails_that_picture(bundle: Bundle, tmp_path: Path) -> None:
    from nfe_core.facebox import FaceBox

    small = _picture(tmp_path / "in" / "small.png", 10, 10)
    big = _picture(tmp_path / "in" / "big.png", 60, 60)
    summary = run_batch(
        bundle, [small, big], EDITS, tmp_path / "out", box=FaceBox(30, 30, 20, 20), steps=0
    )
    assert [s for s, _ in summary.done] == [big]
    assert summary.failed[0][0] == small and "outside" in summary.failed[0][1]


def test_output_names() -> None:
    source = Path("dir/face.v2.png")
    assert output_name("{stem}_edited.{ext}", source, "jpg", 3) == "face.v2_edited.jpg"
    assert output_name("{index:04d}_{name}.{ext}", source, "png", 7) == "0007_face.v2.png.png"
    for pattern, needle in [
        ("{what}.{ext}", "unknown field {what}"),
        ("{stem}.png", "does not end in .jpg"),
        ("{stem}", "does not end in .jpg"),
        ("sub/{stem}.{ext}", "plain file name"),
        ("{stem", "cannot make a file name"),
    ]:
        with pytest.raises(BatchError, match=needle):
            output_name(pattern, source, "jpg", 0)


def test_bad_arguments_fail_before_any_work(bundle: Bundle, folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(BatchError, match="format 'gif'"):
        run_batch(bundle, [folder], EDITS, out, fmt="gif")
    with pytest.raises(BatchError, match="pattern"):
        run_batch(bundle, [folder], EDITS, out, pattern="{x}.png")
    with pytest.raises(ValueError, match="steps must be"):
        run_batch(bundle, [folder], EDITS, out, steps=-1)
    with pytest.raises(BatchError, match="quality"):
        run_batch(bundle, [folder], EDITS, out, quality=0)
    with pytest.raises(BatchError, match=r"W\+ has 8 rows"):
        run_batch(bundle, [folder], EDITS, out, layers=(2, 99))
    with pytest.raises(BatchError, match="no edits"):
        run_batch(bundle, [folder], [], out)
    with pytest.raises(BatchError, match="rank 3 of 2"):
        run_batch(bundle, [folder], EDITS, out, rank=3, world=2)
    assert not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BatchError, match="no pictures found"):
        run_batch(bundle, [empty], EDITS, out)

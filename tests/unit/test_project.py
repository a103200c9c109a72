"""The ``.nfe`` project file: a session saved and reopened exactly, and every bad file refused."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from nfe_core import project as project_module
from nfe_core.facebox import FaceBox
from nfe_core.fileio import FileWriteError
from nfe_core.imageio import Picture, from_array, load_image
from nfe_core.project import (
    PROJECT_FORMAT,
    PROJECT_VERSION,
    ProjectError,
    load_project,
    save_project,
)
from nfe_core.session import EditState, Face, Session
from tests.icc import srgb_profile

MODEL = {"name": "anime64", "fingerprint": "0123456789abcdef"}


# --- helpers ----------------------------------------------------------------------------------


def write_rgba_png(path: Path, size: tuple[int, int] = (40, 30), seed: int = 0) -> Path:
    """An RGBA PNG of random pixels with an sRGB ICC profile."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(path, icc_profile=srgb_profile())
    return path


def make_face(kind: str = "picture", *, seed: int = 1) -> Face:
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((6, 16)).astype(np.float32)
    reconstruction = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    if kind == "picture":
        tuned = {
            "conv1.conv.weight": rng.standard_normal((1, 8, 8, 3, 3)).astype(np.float32),
            "to_rgb1.bias": rng.standard_normal((1, 3, 1, 1)).astype(np.float32),
        }
        return Face(
            latent, reconstruction, "picture", dict(MODEL), box=FaceBox(4, 2, 20, 20), steps=60,
            seconds=3.25, tuned=tuned, tune_steps=100,
        )  # fmt: skip
    return Face(latent, reconstruction, "generated", dict(MODEL), seed=42, truncation=0.7)


def edited_state() -> EditState:
    state = EditState().with_keep("eye_color", True).with_target("hair_color", "blue")
    return state.with_strength("hair_length", 1.5)


def picture_session(path: Path) -> Session:
    session = Session()
    session.open_picture(load_image(path), FaceBox(3, 1, 22, 22))
    session.set_face(make_face())
    session.set_state(edited_state())
    return session


def assert_same_picture(a: Picture, b: Picture) -> None:
    assert a.size == b.size
    assert np.array_equal(np.asarray(a.rgb), np.asarray(b.rgb))
    assert (a.alpha is None) == (b.alpha is None)
    if a.alpha is not None and b.alpha is not None:
        assert np.array_equal(np.asarray(a.alpha), np.asarray(b.alpha))
    assert a.icc_profile == b.icc_profile
    assert a.source_format == b.source_format
    assert a.source_mode == b.source_mode


def assert_same_face(a: Face | None, b: Face | None) -> None:
    assert a is not None and b is not None
    assert a.latent.dtype == b.latent.dtype == np.float32
    assert a.latent.tobytes() == b.latent.tobytes()  # bit-exact
    assert np.array_equal(a.reconstruction, b.reconstruction)
    assert (a.kind, a.box, a.seed, a.truncation, a.steps, a.seconds, a.model, a.tune_steps) == (
        b.kind, b.box, b.seed, b.truncation, b.steps, b.seconds, b.model, b.tune_steps,
    )  # fmt: skip
    assert (a.tuned is None) == (b.tuned is None)
    if a.tuned is not None and b.tuned is not None:
        assert set(a.tuned) == set(b.tuned)
        assert all(a.tuned[k].tobytes() == b.tuned[k].tobytes() for k in a.tuned)  # bit-exact


def rewrite(path: Path, *, drop: str = "", replace: dict[str, bytes] | None = None) -> Path:
    """A copy of project ``path`` without member ``drop`` and with members replaced/added."""
    replace = replace or {}
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != drop}
    members.update(replace)
    out = path.with_name("changed.nfe")
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out


def with_record(path: Path, change: Any) -> Path:
    """A copy of project ``path`` whose project.json went through ``change(record)``."""
    with zipfile.ZipFile(path) as archive:
        record = json.loads(archive.read("project.json"))
    change(record)
    return rewrite(path, replace={"project.json": json.dumps(record).encode()})


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A project of an RGBA picture with a face and edits."""
    picture = write_rgba_png(tmp_path / "face.png")
    return save_project(tmp_path / "work.nfe", picture_session(picture), MODEL)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


# --- round trips ------------------------------------------------------------------------------


def test_picture_face_and_state_come_back_exactly(tmp_path: Path) -> None:
    source = write_rgba_png(tmp_path / "face.png")
    session = picture_session(source)
    path = save_project(tmp_path / "work.nfe", session, MODEL)

    project = load_project(path)

    again = project.session
    assert again.picture is not None and session.picture is not None
    assert_same_picture(again.picture, session.picture)
    assert again.picture.icc_profile == srgb_profile()
    assert again.picture.alpha is not None
    assert again.box == FaceBox(3, 1, 22, 22)
    assert_same_face(again.face, session.face)
    assert again.state == session.state
    assert [str(e) for e in again.state.edits] == ["hair_color=blue", "hair_length=+1.5"]
    assert again.state.keep == {"eye_color"}
    assert project.model == MODEL
    assert project.source_name == "face.png"
    assert project.path == path
    # the original still exists with the same bytes: the picture points at it
    assert again.picture.path == source.absolute()


def test_the_source_is_stored_as_the_original_bytes(tmp_path: Path, saved: Path) -> None:
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        record = json.loads(archive.read("project.json"))
        stored = archive.read(record["source"]["file"])
        latent = np.load(io.BytesIO(archive.read("latent.npy")), allow_pickle=False)
    assert names == {
        "project.json", "source.png", "latent.npy", "reconstruction.png", "tuned.safetensors",
    }  # fmt: skip
    assert record["face"]["tuned"] == "tuned.safetensors" and record["face"]["tune_steps"] == 100
    assert stored == (tmp_path / "face.png").read_bytes()
    assert record["format"] == PROJECT_FORMAT and record["version"] == PROJECT_VERSION
    assert record["source"]["size"] == [40, 30] and record["source"]["box"] == [3, 1, 22, 22]
    assert record["face"]["box"] == [4, 2, 20, 20] and record["face"]["latent"] == "latent.npy"
    assert record["state"] == edited_state().to_record()
    assert record["model"] == MODEL and record["app"] and record["created"]
    assert latent.shape == (6, 16) and latent.dtype == np.float32


def test_a_jpeg_comes_back_as_the_same_jpeg(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    source = tmp_path / "photo.jpeg"
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(source, quality=80)
    session = Session()
    session.open_picture(load_image(source))
    path = save_project(tmp_path / "p.nfe", session, MODEL)
    with zipfile.ZipFile(path) as archive:
        assert archive.read("source.jpg") == source.read_bytes()
    project = load_project(path)
    assert project.session.picture is not None and session.picture is not None
    assert_same_picture(project.session.picture, session.picture)
    assert project.session.face is None and project.session.box is None


def test_when_the_original_is_gone_the_picture_has_no_path(tmp_path: Path, saved: Path) -> None:
    (tmp_path / "face.png").unlink()
    project = load_project(saved)
    assert project.session.picture is not None
    assert project.session.picture.path is None
    assert project.source_name == "face.png"


def test_an_original_changed_on_disk_is_not_pointed_at(tmp_path: Path, saved: Path) -> None:
    write_rgba_png(tmp_path / "face.png", seed=9)  # same name, other pixels
    project = load_project(saved)
    assert project.session.picture is not None and project.session.picture.path is None


def test_a_picture_without_a_file_is_stored_as_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    alpha = Image.fromarray(rng.integers(0, 256, (20, 24), dtype=np.uint8), "L")
    picture = Picture(
        rgb=from_array(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)),
        alpha=alpha,
        icc_profile=srgb_profile(),
    )
    session = Session()
    session.open_picture(picture)
    path = save_project(tmp_path / "p.nfe", session, MODEL)
    with zipfile.ZipFile(path) as archive:
        assert "source.png" in archive.namelist()
    loaded = load_project(path).session.picture
    assert loaded is not None
    assert np.array_equal(np.asarray(loaded.rgb), np.asarray(picture.rgb))
    assert loaded.alpha is not None and loaded.alpha.tobytes() == alpha.tobytes()
    assert loaded.icc_profile == srgb_profile()
    assert loaded.path is None
    assert load_project(path).source_name is None


def test_a_picture_whose_file_changed_since_opening_saves_its_own_pixels(tmp_path: Path) -> None:
    source = write_rgba_png(tmp_path / "face.png")
    session = Session()
    session.open_picture(load_image(source))
    write_rgba_png(source, seed=5)  # changed on disk after opening
    path = save_project(tmp_path / "p.nfe", session, MODEL)
    loaded = load_project(path).session.picture
    assert loaded is not None and session.picture is not None
    assert np.array_equal(np.asarray(loaded.rgb), np.asarray(session.picture.rgb))
    assert loaded.path is None


def test_generated_face_round_trip(tmp_path: Path) -> None:
    session = Session()
    session.set_face(make_face("generated"))
    session.set_state(EditState().with_strength("glasses", -0.75))
    path = save_project(tmp_path / "gen.nfe", session, MODEL)
    with zipfile.ZipFile(path) as archive:
        record = json.loads(archive.read("project.json"))
        assert not any(n.startswith("source") for n in archive.namelist())
    assert record["source"] == {"kind": "generated", "seed": 42, "truncation": 0.7}

    project = load_project(path)
    assert project.session.picture is None and project.session.box is None
    assert_same_face(project.session.face, session.face)
    assert project.session.state == session.state
    assert project.source_name is None


def test_picture_without_face_keeps_its_keep_toggles(tmp_path: Path) -> None:
    session = Session()
    session.open_picture(load_image(write_rgba_png(tmp_path / "a.png")))
    session.set_state(EditState().with_keep("glasses", True))
    project = load_project(save_project(tmp_path / "a.nfe", session, MODEL))
    assert project.session.face is None
    assert project.session.state.keep == {"glasses"}


def test_unicode_names(tmp_path: Path) -> None:
    folder = tmp_path / "работа 作品"
    folder.mkdir()
    source = write_rgba_png(folder / "顔 ü.png")
    path = save_project(folder / "プロジェクト é.nfe", picture_session(source), MODEL)
    project = load_project(path)
    assert project.source_name == "顔 ü.png"
    assert project.session.picture is not None
    assert project.session.picture.path == source.absolute()


def test_saving_replaces_an_existing_project(tmp_path: Path, saved: Path) -> None:
    session = Session()
    session.set_face(make_face("generated"))
    save_project(saved, session, MODEL)
    assert load_project(saved).session.picture is None


# --- saving errors ----------------------------------------------------------------------------


def test_nothing_to_save(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="nothing to save") as caught:
        save_project(tmp_path / "empty.nfe", Session(), MODEL)
    assert str(caught.value).startswith(str(tmp_path / "empty.nfe"))
    assert not (tmp_path / "empty.nfe").exists()


def test_bad_model_argument(tmp_path: Path) -> None:
    session = Session()
    session.set_face(make_face("generated"))
    with pytest.raises(ValueError, match="model"):
        save_project(tmp_path / "p.nfe", session, {"name": "x"})


def test_a_missing_folder_is_a_file_write_error(tmp_path: Path) -> None:
    session = Session()
    session.set_face(make_face("generated"))
    with pytest.raises(FileWriteError, match="does not exist"):
        save_project(tmp_path / "nope" / "p.nfe", session, MODEL)


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "full"), KeyboardInterrupt()])
def test_a_failing_write_leaves_the_existing_file_untouched(
    tmp_path: Path, saved: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    before = saved.read_bytes()
    calls = {"n": 0}
    original = zipfile.ZipFile.writestr

    def failing_writestr(self: zipfile.ZipFile, name: Any, data: Any, *args: Any, **kw: Any):
        calls["n"] += 1
        if calls["n"] == 3:  # after project.json and the source are in the temp file
            raise failure
        return original(self, name, data, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    session = picture_session(tmp_path / "face.png")
    expected = FileWriteError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        save_project(saved, session, MODEL)
    assert calls["n"] == 3
    assert saved.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png", "work.nfe"]
    monkeypatch.undo()
    assert load_project(saved).session.face is not None


# --- loading errors ---------------------------------------------------------------------------


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "missing.nfe")
    with pytest.raises(ProjectError, match="folder"):
        load_project(tmp_path)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "text.nfe"
    path.write_text("hello")
    with pytest.raises(ProjectError, match="not an NFE project") as caught:
        load_project(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")


def test_missing_project_json(saved: Path) -> None:
    with pytest.raises(ProjectError, match=r"project\.json is missing"):
        load_project(rewrite(saved, drop="project.json"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not text"),
        (b"[1, 2]", "not an NFE project"),
        (b'{"format": "nfe-preset", "version": 1}', "not an NFE project"),
    ],
)
def test_invalid_project_json(saved: Path, text: bytes, reason: str) -> None:
    with pytest.raises(ProjectError, match=reason):
        load_project(rewrite(saved, replace={"project.json": text}))


def test_newer_version(saved: Path) -> None:
    changed = with_record(saved, lambda r: r.update(version=PROJECT_VERSION + 1))
    with pytest.raises(ProjectError, match="newer NFE"):
        load_project(changed)


@pytest.mark.parametrize("version", [0, "1", None, True])
def test_unknown_version(saved: Path, version: Any) -> None:
    with pytest.raises(ProjectError, match="unknown project version"):
        load_project(with_record(saved, lambda r: r.update(version=version)))


@pytest.mark.parametrize(
    "member", ["source.png", "latent.npy", "reconstruction.png", "tuned.safetensors"]
)
def test_missing_member(saved: Path, member: str) -> None:
    with pytest.raises(ProjectError, match=f"incomplete: {member} is missing"):
        load_project(rewrite(saved, drop=member))


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.zeros((6, 16), np.float64), "float32"),
        (np.zeros(16, np.float32), "float32"),
        (np.zeros((0, 16), np.float32), "float32"),
        (np.full((6, 16), np.nan, np.float32), "NaN"),
        (np.array([{"a": 1}], dtype=object), "pickle"),
    ],
)
def test_bad_latent(saved: Path, array: np.ndarray, reason: str) -> None:
    with pytest.raises(ProjectError, match=reason):
        load_project(rewrite(saved, replace={"latent.npy": npy_bytes(array)}))


def test_bad_tuned_weights(saved: Path) -> None:
    import safetensors.numpy

    with pytest.raises(ProjectError, match="not a safetensors file"):
        load_project(rewrite(saved, replace={"tuned.safetensors": b"not weights"}))
    halves = safetensors.numpy.save({"w": np.zeros(3, np.float16)})
    with pytest.raises(ProjectError, match="must be float32"):
        load_project(rewrite(saved, replace={"tuned.safetensors": halves}))
    nan = safetensors.numpy.save({"w": np.full(3, np.nan, np.float32)})
    with pytest.raises(ProjectError, match="NaN"):
        load_project(rewrite(saved, replace={"tuned.safetensors": nan}))


def test_latent_not_npy(saved: Path) -> None:
    with pytest.raises(ProjectError, match="not a numpy array file"):
        load_project(rewrite(saved, replace={"latent.npy": b"garbage"}))


def test_unreadable_picture(saved: Path) -> None:
    with pytest.raises(ProjectError, match=r"picture inside \(source.png\) cannot be read"):
        load_project(rewrite(saved, replace={"source.png": b"\x89PNG\r\n\x1a\n broken"}))


def test_picture_of_another_size(saved: Path) -> None:
    with pytest.raises(ProjectError, match="'size' says"):
        load_project(with_record(saved, lambda r: r["source"].update(size=[10, 10])))


def test_face_box_outside_the_picture(saved: Path) -> None:
    changed = with_record(saved, lambda r: r["face"].update(box=[30, 20, 20, 20]))
    with pytest.raises(ProjectError, match="reaches outside the 40 x 30 picture by more than"):
        load_project(changed)
    reaching = with_record(saved, lambda r: r["face"].update(box=[25, 15, 20, 20]))
    assert load_project(reaching).session.face.box == FaceBox(25, 15, 20, 20)


def test_non_square_reconstruction(saved: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 8)).save(buffer, "PNG")
    with pytest.raises(ProjectError, match="square"):
        load_project(rewrite(saved, replace={"reconstruction.png": buffer.getvalue()}))


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(model=None),
        lambda r: r.update(source={"kind": "video"}),
        lambda r: r.update(face=[1]),
        lambda r: r["face"].update(kind="dream"),
        lambda r: r["face"].update(steps=-1),
        lambda r: r["face"].update(seconds="long"),
        lambda r: r["face"].update(box=[1, 2, 3]),
        lambda r: r["face"].update(seed=1.5),
        lambda r: r.update(state={"edits": ["not an edit"]}),
        lambda r: r.update(state={"edits": "hair_color=blue"}),
        lambda r: r.update(source={"kind": "generated", "seed": 1, "truncation": 1.0}),
    ],
)
def test_inconsistent_fields(saved: Path, change: Any) -> None:
    with pytest.raises(ProjectError, match=r"project\.json"):
        load_project(with_record(saved, change))


def test_generated_source_without_face(saved: Path) -> None:
    def change(record: dict[str, Any]) -> None:
        record["source"] = {"kind": "generated", "seed": 1, "truncation": 1.0}
        record["face"] = None

    with pytest.raises(ProjectError, match="needs its face"):
        load_project(with_record(saved, change))


def test_member_over_the_size_cap(saved: Path) -> None:
    with pytest.raises(ProjectError, match="too large"):
        load_project(saved, max_member_bytes=200)


def test_zip_bomb_is_refused_without_reading_it(tmp_path: Path, saved: Path) -> None:
    # 600 MB of zeros compresses to about 600 KB; only the header is looked at.
    bomb = tmp_path / "bomb.nfe"
    with zipfile.ZipFile(saved) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "latent.npy"}
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with archive.open("latent.npy", "w", force_zip64=True) as stream:
            chunk = bytes(16 * 1024 * 1024)
            for _ in range(38):
                stream.write(chunk)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    with pytest.raises(ProjectError, match=r"latent\.npy is too large"):
        load_project(bomb)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "a/../../evil", "C:evil", "a\\b"])
def test_unsafe_member_names(saved: Path, name: str) -> None:
    with pytest.raises(ProjectError, match="unsafe name"):
        load_project(rewrite(saved, replace={name: b"x"}))


@pytest.mark.parametrize("name", ["../source.png", "sub/source.png", "", 5])
def test_unsafe_names_in_project_json(saved: Path, name: Any) -> None:
    with pytest.raises(ProjectError, match="plain file name"):
        load_project(with_record(saved, lambda r: r["source"].update(file=name)))


def test_duplicate_member_names(saved: Path) -> None:
    path = saved.with_name("dup.nfe")
    path.write_bytes(saved.read_bytes())
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("latent.npy", b"again")
    with pytest.raises(ProjectError, match=r"two files named 'latent\.npy'"):
        load_project(path)


def test_too_many_members(saved: Path) -> None:
    extra = {f"extra{i}.txt": b"" for i in range(70)}
    with pytest.raises(ProjectError, match="at most"):
        load_project(rewrite(saved, replace=extra))


def test_unknown_extra_members_are_ignored(saved: Path) -> None:
    assert load_project(rewrite(saved, replace={"notes.txt": b"hi"})).session.face is not None


# --- no torch ---------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_torch() -> None:
    code = "import sys, nfe_core.project; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(project_module.__file__).parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(project_module.__file__).parents[1])},
    )
    assert result.stdout.strip() == "False"

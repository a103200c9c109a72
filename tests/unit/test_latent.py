"""Latent files: W / W+ with their provenance in a .npz, never a pickle, written atomically."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import nfe_core.latent
from nfe_core.fileio import FileWriteError
from nfe_core.latent import (
    LATENT_FORMAT,
    LATENT_VERSION,
    Latent,
    LatentError,
    load_latent,
    model_fingerprint,
    save_latent,
)

W_DIM = 16
SOURCE = {"kind": "seed", "seed": 3, "truncation": 0.7}
MODEL = {"name": "tiny", "fingerprint": "0123456789abcdef"}


def _meta(**changes: object) -> np.ndarray:
    meta = {"format": LATENT_FORMAT, "version": LATENT_VERSION, "source": {}, "model": {}}
    meta.update(changes)
    return np.array(json.dumps(meta))


class _Payload:
    """Unpickling this creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


# --- round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(W_DIM,), (6, W_DIM)], ids=["W", "W+"])
def test_round_trip(tmp_path: Path, shape: tuple[int, ...]) -> None:
    w = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    path = save_latent(tmp_path / "face.npz", Latent(w, SOURCE, MODEL))
    loaded = load_latent(path, W_DIM)
    assert torch.equal(loaded.w, w) and loaded.w.dtype == torch.float32
    assert loaded.source == SOURCE and loaded.model == MODEL
    assert loaded.is_wplus == (len(shape) == 2) and loaded.w_dim == W_DIM
    with np.load(path, allow_pickle=False) as data:  # plain arrays, readable without pickle
        assert sorted(data.files) == ["meta", "w"]


def test_latent_is_kept_as_float32_on_the_cpu() -> None:
    latent = Latent(torch.ones(W_DIM, dtype=torch.float64))
    assert latent.w.dtype == torch.float32 and latent.w.device.type == "cpu"
    assert latent.source == {} and latent.model == {}


@pytest.mark.parametrize(
    ("w", "source", "message"),
    [
        (torch.zeros(2, 3, W_DIM), {}, "W \\(w_dim,\\) or W\\+"),
        (torch.zeros(0), {}, "W \\(w_dim,\\) or W\\+"),
        (torch.tensor([1.0, float("nan")]), {}, "finite"),
        (torch.zeros(W_DIM, dtype=torch.int64), {}, "finite floating-point"),
        (torch.zeros(W_DIM), {"path": Path("x")}, "JSON-able"),
        (torch.zeros(W_DIM), {"x": float("inf")}, "JSON-able"),
    ],
)
def test_latent_checks_its_values(w: torch.Tensor, source: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Latent(w, source)


def test_model_fingerprint_tells_weights_apart() -> None:
    state = {"a": torch.ones(3), "b": torch.zeros(2, 2)}
    print_ = model_fingerprint(state)
    assert len(print_) == 16 and int(print_, 16) >= 0
    assert model_fingerprint(dict(reversed(state.items()))) == print_  # key order is irrelevant
    assert model_fingerprint({**state, "a": torch.tensor([1.0, 1.0, 1.5])}) != print_
    assert model_fingerprint({**state, "b": torch.zeros(4)}) != print_  # shape counts


# --- refusals ---------------------------------------------------------------------------------


def test_a_pickle_inside_an_npz_is_refused_and_never_run(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(tmp_path / "EXECUTED")
    np.savez(path, w=payload, meta=_meta())
    with pytest.raises(LatentError, match="a pickle"):
        load_latent(path)
    assert not (tmp_path / "EXECUTED").exists()


def test_a_pickle_file_is_refused_and_never_run(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(_Payload(tmp_path / "EXECUTED")))
    with pytest.raises(LatentError, match=f"^{re.escape(str(path))}: "):
        load_latent(path)
    assert not (tmp_path / "EXECUTED").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: np.savez(p, w=np.zeros(W_DIM, np.float32)), "has no 'w' and 'meta'"),
        (lambda p: np.savez(p, meta=_meta()), "has no 'w' and 'meta'"),
        (lambda p: np.savez(p, w=np.array([np.nan, 1.0]), meta=_meta()), "NaN or infinite"),
        (lambda p: np.savez(p, w=np.array([np.inf, 1.0]), meta=_meta()), "NaN or infinite"),
        (lambda p: np.savez(p, w=np.zeros((2, 3, 4)), meta=_meta()), "should be W"),
        (lambda p: np.savez(p, w=np.zeros(4, np.int32), meta=_meta()), "should be W"),
        (lambda p: np.savez(p, w=np.zeros(4), meta=_meta(format="other")), "not an NFE latent"),
        (lambda p: np.savez(p, w=np.zeros(4), meta=_meta(version=99)), "version 99"),
        (lambda p: np.savez(p, w=np.zeros(4), meta=np.array("{oops")), "not a latent file"),
        (lambda p: np.savez(p, w=np.zeros(4), meta=_meta(source=[1])), "'meta' is malformed"),
        (lambda p: p.write_text("hello"), "^{path}: "),
        (lambda p: p.write_bytes(b"PK\x03\x04 truncated zip"), "not a latent file"),
        (lambda p: p.mkdir(), "this is a folder"),
        (lambda p: None, "no such file"),
    ],
    ids=[
        "no meta",
        "no w",
        "NaN",
        "infinite",
        "3-D",
        "integers",
        "other format",
        "other version",
        "bad JSON",
        "bad source",
        "text",
        "broken zip",
        "folder",
        "missing",
    ],
)
def test_unusable_files_are_refused_in_words(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "bad.npz"
    make(path)
    with pytest.raises(
        LatentError, match=message.replace("{path}", re.escape(str(path)))
    ) as caught:
        load_latent(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")


def test_another_w_dim_is_refused(tmp_path: Path) -> None:
    path = save_latent(tmp_path / "face.npz", Latent(torch.zeros(3, W_DIM)))
    with pytest.raises(LatentError, match=f"w_dim {W_DIM} but the model needs 512"):
        load_latent(path, 512)
    assert load_latent(path, W_DIM).w.shape == (3, W_DIM)


def test_an_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_latent(tmp_path / "face.npz", Latent(torch.zeros(W_DIM)))
    monkeypatch.setattr(nfe_core.latent, "MAX_FILE_BYTES", 10)
    with pytest.raises(LatentError, match="too large"):
        load_latent(path)


def test_a_text_file_is_not_called_a_pickle(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("not a latent")
    with pytest.raises(LatentError, match="not a latent file"):
        load_latent(path)


def test_an_npy_file_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(W_DIM, np.float32))
    with pytest.raises(LatentError, match="not a latent file"):
        load_latent(path)


# --- atomic writes ----------------------------------------------------------------------------


def test_a_missing_folder_is_a_file_write_error(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "face.npz"
    with pytest.raises(FileWriteError, match="the folder does not exist"):
        save_latent(target, Latent(torch.zeros(W_DIM)))
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_latent(tmp_path / "face.npz", Latent(torch.ones(W_DIM), SOURCE))
    before = path.read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nfe_core.latent.np, "savez", disk_full)
    with pytest.raises(FileWriteError, match=f"^{re.escape(str(path))}: "):
        save_latent(path, Latent(torch.zeros(W_DIM)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["face.npz"]


def test_save_replaces_a_file_whole(tmp_path: Path) -> None:
    path = save_latent(tmp_path / "face.npz", Latent(torch.ones(W_DIM)))
    save_latent(path, Latent(torch.zeros(4, W_DIM), SOURCE, MODEL))
    loaded = load_latent(path)
    assert loaded.w.shape == (4, W_DIM) and loaded.source == SOURCE
    assert [p.name for p in tmp_path.iterdir()] == ["face.npz"]

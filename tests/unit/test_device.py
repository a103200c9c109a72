"""Choosing the device: the best available by default, a clear error for one that is missing."""

from __future__ import annotations

import pytest
import torch

from nfe_core import device as device_module
from nfe_core.device import best_device, resolve_device


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)


@pytest.fixture
def one_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_none_is_the_cpu_on_a_machine_without_accelerators(cpu_only: None) -> None:
    assert resolve_device(None) == torch.device("cpu")
    assert best_device() == torch.device("cpu")


def test_none_matches_this_machine() -> None:
    if torch.cuda.is_available():
        assert resolve_device(None).type == "cuda"
    elif torch.backends.mps.is_available():
        assert resolve_device(None).type == "mps"
    else:
        assert resolve_device(None) == torch.device("cpu")


def test_none_prefers_cuda_then_mps(monkeypatch: pytest.MonkeyPatch, one_gpu: None) -> None:
    monkeypatch.setattr(device_module, "_mps_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("mps")


@pytest.mark.parametrize("name", ["cpu", torch.device("cpu")])
def test_cpu_always_works(name: str | torch.device) -> None:
    assert resolve_device(name) == torch.device("cpu")


def test_missing_cuda_is_a_clear_value_error(cpu_only: None) -> None:
    with pytest.raises(
        ValueError, match=r"^CUDA was asked for but is not available on this machine$"
    ):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="CUDA was asked for"):
        resolve_device("cuda:0")


def test_missing_mps_is_a_clear_value_error(cpu_only: None) -> None:
    with pytest.raises(ValueError, match=r"^Apple MPS was asked for but is not available"):
        resolve_device("mps")


def test_cuda_when_present(one_gpu: None) -> None:
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda:0")


def test_a_gpu_index_this_machine_lacks(one_gpu: None) -> None:
    with pytest.raises(
        ValueError, match=r"cuda:2 was asked for but this machine has 1 CUDA device"
    ):
        resolve_device("cuda:2")


@pytest.mark.parametrize("name", ["gpu", "tpu", "", "cuda:x", "meta"])
def test_names_that_are_not_devices(name: str) -> None:
    with pytest.raises(ValueError, match="expected a device: cpu, cuda, cuda:N or mps"):
        resolve_device(name)

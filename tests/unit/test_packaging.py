"""The wheel carries every package of ours and the resources the app needs."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_is_listed_for_the_wheel():
    listed = set(_config()["tool"]["setuptools"]["packages"])
    for top in ("nfe_core", "nfe_desktop", "training"):
        for init in (ROOT / top).rglob("__init__.py"):
            package = ".".join(init.parent.relative_to(ROOT).parts)
            assert package in listed, f"add {package!r} to [tool.setuptools] packages"
    assert "nfe_resources" in listed


def test_resources_are_package_data():
    setuptools = _config()["tool"]["setuptools"]
    assert setuptools["package-dir"]["nfe_resources"] == "resources"
    assert _config()["tool"]["setuptools"]["package-data"]["nfe_resources"] == ["**/*"]
    assert any((ROOT / "resources").rglob("*.*")), "resources/ is empty"


def test_training_only_libraries_stay_out_of_the_app_dependencies():
    project = _config()["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for lib in ("scikit-learn", "onnxruntime", "pytest", "pyinstaller"):
        assert lib not in runtime
    assert any("scikit-learn" in d for d in project["optional-dependencies"]["train"])

"""The one resource lookup: source checkout, installed package, PyInstaller bundle; user folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nfe_core import resources

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_source_checkout_finds_the_repository_resources() -> None:
    assert resources.resources_dir() == REPO_ROOT / "resources"


def test_resource_path_joins_parts_and_finds_the_icon() -> None:
    icon = resources.resource_path("icons", "nfe.svg")
    assert icon == REPO_ROOT / "resources" / "icons" / "nfe.svg"
    assert icon.is_file()


@pytest.mark.parametrize("part", ["/etc/passwd", "../pyproject.toml", "icons/../../x"])
def test_resource_path_refuses_to_leave_resources(part: str) -> None:
    with pytest.raises(ValueError, match="relative path inside resources"):
        resources.resource_path(part)


def test_pyinstaller_bundle_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resources_dir() == tmp_path / "resources"
    assert resources.resource_path("icons") == tmp_path / "resources" / "icons"


def test_installed_package_is_used_when_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a wheel installs: a folder `nfe_resources` without __init__.py on sys.path.
    site = tmp_path / "site-packages"
    (site / "nfe_resources" / "icons").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "nfe_resources", raising=False)
    assert resources.resources_dir() == site / "nfe_resources"


def test_wheel_install_does_not_pick_up_a_stray_resources_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Installed as a wheel: nfe_core sits in site-packages, next to no pyproject.toml.
    site = tmp_path / "site-packages"
    (site / "resources").mkdir(parents=True)  # some other package's folder
    monkeypatch.setattr(resources, "_CHECKOUT_ROOT", site)
    monkeypatch.setattr(resources, "_package_dir", lambda: None)
    with pytest.raises(resources.ResourceError, match="cannot find NFE's resources"):
        resources.resources_dir()


def test_user_folders_are_per_user_and_named_for_the_app() -> None:
    for folder in (resources.user_data_dir(), resources.user_log_dir()):
        assert folder.is_absolute()
        assert "NeuralFaceEditor" in folder.parts


def test_importing_it_pulls_in_no_qt() -> None:
    code = (
        "import sys, nfe_core.resources; print(any(m.startswith('PySide6') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"

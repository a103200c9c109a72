"""The one place that finds NFE's files: packaged resources and the user's data and log folders.

``resources/`` (the default model bundle, icons) lives at the repository root in a source
checkout, ships inside the wheel as the resource-only package ``nfe_resources``, and is
copied to ``<bundle>/resources`` by the PyInstaller spec. The lookup tries, in order: the
PyInstaller bundle (``sys._MEIPASS``), the installed ``nfe_resources`` package, and the
source checkout this module sits in. No Qt here.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import sys
from pathlib import Path

import platformdirs

APP_NAME = "NeuralFaceEditor"
RESOURCE_PACKAGE = "nfe_resources"

_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


class ResourceError(FileNotFoundError):
    """NFE's resources folder cannot be found; the message says where it was looked for."""


def _frozen_dir() -> Path | None:
    """``<bundle>/resources`` when running inside a PyInstaller bundle, else None."""
    meipass = getattr(sys, "_MEIPASS", None)
    if not meipass:
        return None
    candidate = Path(meipass) / "resources"
    return candidate if candidate.is_dir() else None


def _package_dir() -> Path | None:
    """The folder of the installed ``nfe_resources`` package (a wheel or editable install)."""
    try:
        traversable = importlib.resources.files(RESOURCE_PACKAGE)
    except (ModuleNotFoundError, TypeError, NotADirectoryError):
        traversable = None
    if isinstance(traversable, Path) and traversable.is_dir():
        return traversable
    # A namespace package (no __init__.py) may come back as a MultiplexedPath, which is not
    # a pathlib.Path: ask the import system for its folders instead.
    try:
        spec = importlib.util.find_spec(RESOURCE_PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location)
        if candidate.is_dir():
            return candidate
    return None


def _checkout_dir() -> Path | None:
    """``<repository>/resources`` when running from a source checkout or an editable install."""
    candidate = _CHECKOUT_ROOT / "resources"
    if candidate.is_dir() and (_CHECKOUT_ROOT / "pyproject.toml").is_file():
        return candidate
    return None


def resources_dir() -> Path:
    """The folder that holds NFE's resources (bundle, icons), wherever NFE was installed from."""
    for finder in (_frozen_dir, _package_dir, _checkout_dir):
        found = finder()
        if found is not None:
            return found
    raise ResourceError(
        "cannot find NFE's resources: not in a PyInstaller bundle, no installed "
        f"'{RESOURCE_PACKAGE}' package, and no {_CHECKOUT_ROOT / 'resources'} folder"
    )


def resource_path(*parts: str) -> Path:
    """The path of a resource, e.g. ``resource_path("icons", "nfe.svg")``; it may not exist."""
    for part in parts:
        if Path(part).is_absolute() or ".." in Path(part).parts:
            raise ValueError(f"expected a relative path inside resources/, got {part!r}")
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """The user's NFE data folder (models, sessions), per platform; not created here."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def user_log_dir() -> Path:
    """The user's NFE log folder, per platform; not created here."""
    return platformdirs.user_log_path(APP_NAME, appauthor=False)

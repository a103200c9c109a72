"""The window's file dialogs and the words and paths around them.

Name filters for Open and Save As, the ``.nfe`` project suffix, the dialogs themselves (each
returns the chosen path, with the suffix the chosen filter implies, or None when cancelled),
the folder they start in, the one file dropped on the window, and the status bar's words for
a picture. Nothing here needs the window: the dialogs take a parent widget.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir, QMimeData
from PySide6.QtWidgets import QFileDialog, QWidget

from nfe_core.imageio import READ_SUFFIXES, WRITE_SUFFIXES, Picture
from nfe_desktop.settings import LAST_FOLDER, Settings

PROJECT_SUFFIX = ".nfe"
PROJECT_FILTER = f"NFE project (*{PROJECT_SUFFIX})"

_MODE_WORDS = {
    "1": "1-bit",
    "L": "grayscale",
    "LA": "grayscale",
    "La": "grayscale",
    "P": "palette",
    "PA": "palette",
    "RGB": "RGB",
    "RGBA": "RGB",
    "RGBa": "RGB",
    "RGBX": "RGB",
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "Lab",
    "HSV": "HSV",
    "I": "32-bit grayscale",
    "I;16": "16-bit grayscale",
    "I;16B": "16-bit grayscale",
    "I;16L": "16-bit grayscale",
    "I;16N": "16-bit grayscale",
    "F": "32-bit float grayscale",
}


def open_filter() -> str:
    """The Open dialog's name filters: pictures and projects, pictures, projects, all files."""
    patterns = " ".join(f"*{suffix}" for suffix in READ_SUFFIXES)
    return (
        f"Pictures and projects ({patterns} *{PROJECT_SUFFIX});;Pictures ({patterns});;"
        f"NFE projects (*{PROJECT_SUFFIX});;All files (*)"
    )


def save_filters() -> dict[str, str]:
    """The picture formats Save As offers, each mapped to the extension it adds by default."""
    by_format: dict[str, list[str]] = {}
    for suffix, fmt in WRITE_SUFFIXES.items():
        by_format.setdefault(fmt, []).append(suffix)
    names = {"PNG": "PNG picture", "JPEG": "JPEG picture", "WEBP": "WebP picture"}
    return {
        f"{names.get(fmt, fmt)} ({' '.join(f'*{s}' for s in suffixes)})": suffixes[0]
        for fmt, suffixes in by_format.items()
    }


def describe_picture(picture: Picture) -> str:
    """The status bar's words for a picture: name, size, mode and format."""
    name = picture.path.name if picture.path is not None else "untitled"
    width, height = picture.size
    mode = _MODE_WORDS.get(picture.source_mode, picture.source_mode)
    if picture.has_alpha:
        mode += " with transparency"
    fmt = f" ({picture.source_format})" if picture.source_format else ""
    return f"{name}  ·  {width} × {height} px  ·  {mode}{fmt}"


def is_project(path: Path) -> bool:
    """Whether ``path`` names a ``.nfe`` project (by its suffix, in any case)."""
    return path.suffix.lower() == PROJECT_SUFFIX


def with_project_suffix(path: Path) -> Path:
    """``path``, with ``.nfe`` added unless it already ends so."""
    return path if is_project(path) else path.with_name(path.name + PROJECT_SUFFIX)


def start_folder(settings: Settings) -> str:
    """Where file dialogs start: the last folder used if it still exists, else home."""
    folder = settings.get(LAST_FOLDER)
    return folder if folder and Path(folder).is_dir() else QDir.homePath()


def remember_folder(settings: Settings, path: Path) -> None:
    """Make ``path``'s folder the one file dialogs start in next time."""
    settings.set(LAST_FOLDER, str(path.resolve().parent))


def dropped_file(mime: QMimeData) -> Path | None:
    """The one local picture or project file being dragged, or None."""
    if not mime.hasUrls():
        return None
    urls = [url for url in mime.urls() if url.isLocalFile()]
    if len(urls) != 1:
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.suffix.lower() in READ_SUFFIXES or is_project(path) else None


def ask_open_path(parent: QWidget, folder: str) -> Path | None:
    """File > Open: a picture or project file, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open", folder, open_filter())
    return Path(path) if path else None


def ask_model_folder(parent: QWidget, folder: str) -> Path | None:
    """Model > Open Bundle: a bundle folder, or None."""
    chosen = QFileDialog.getExistingDirectory(parent, "Open Model Bundle", folder)
    return Path(chosen) if chosen else None


def ask_project_path(parent: QWidget, folder: str, stem: str) -> Path | None:
    """Where to save the project (``.nfe`` added when missing), or None."""
    suggested = str(Path(folder) / f"{stem}{PROJECT_SUFFIX}")
    path, _ = QFileDialog.getSaveFileName(parent, "Save Project", suggested, PROJECT_FILTER)
    return with_project_suffix(Path(path)) if path else None


def ask_save_as_path(parent: QWidget, folder: str, stem: str, default_ext: str) -> Path | None:
    """File > Save As: a picture file (its format's extension added when it has none) or a
    ``.nfe`` project (the project filter, or a name ending in ``.nfe``), or None."""
    filters = save_filters()
    names = [PROJECT_FILTER, *filters]
    chosen_filter = next((f for f, ext in filters.items() if ext == default_ext), names[1])
    suggested = str(Path(folder) / f"{stem}_edited{default_ext}")
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Save As", suggested, ";;".join(names), chosen_filter
    )
    if not path:
        return None
    target = Path(path)
    if chosen == PROJECT_FILTER or is_project(target):
        return with_project_suffix(target)
    if not target.suffix:
        target = target.with_suffix(filters.get(chosen, ".png"))
    return target


def ask_face_path(parent: QWidget, folder: str, stem: str) -> Path | None:
    """File > Save Face As: a picture file for the edited face alone, or None."""
    filters = save_filters()
    suggested = str(Path(folder) / f"{stem}_face.png")
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Save Face As", suggested, ";;".join(filters), next(iter(filters))
    )
    if not path:
        return None
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(filters.get(chosen, ".png"))
    return target

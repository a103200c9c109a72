"""What goes into the packaged app and what stays out: the rules ``nfe.spec`` applies.

Plain data and pure functions (no PyInstaller import), so that the spec, ``build.py`` and
``tests/test_installer.py`` share one list. Paths are a bundle entry's destination inside
the app folder, with ``/`` separators, e.g. ``torch/lib/libtorch_cpu.so`` or
``PySide6/Qt/plugins/platforms/libqxcb.so``.

The packaged app is CPU torch, Qt (widgets only) and our code: nothing training-only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the folder holding ``pyproject.toml`` and ``main.py``)."""

APP_NAME = "nfe-desktop"
"""The executable, the app folder, the Debian package and the launcher on the PATH."""

DATA_GLOBS: tuple[tuple[str, str], ...] = (
    ("resources/models/default/*", "resources/models/default"),
    ("resources/icons/*", "resources/icons"),
)
"""(glob under the repository root, destination folder in the bundle): our data files.

``nfe_core.resources`` finds them at ``sys._MEIPASS/resources`` in the frozen app.
"""

HIDDEN_IMPORTS: tuple[str, ...] = (
    "nfe_desktop.self_test",  # imported inside main() for --self-test only
    "PySide6.QtSvg",  # the SVG icon plugins (imageformats/qsvg, iconengines/qsvgicon) need it
)
"""Modules the analysis cannot see from ``main.py`` (imported lazily or only by Qt)."""

EXCLUDED_MODULES: tuple[str, ...] = (
    # training-only: never in the app
    "training",
    "sklearn",
    "onnxruntime",
    "onnx",
    "torchmetrics",
    "lightning_utilities",
    # development tools
    "pytest",
    "_pytest",
    "pytestqt",
    "PyInstaller",
    "ruff",
    "importlinter",
    "IPython",
    "setuptools",
    "pip",
    # optional torch dependencies the app never reaches (torch.compile, plotting, ...)
    "scipy",
    "networkx",
    "jinja2",
    "matplotlib",
    "pandas",
    "tensorboard",
    "triton",
    "ml_dtypes",  # torch.onnx only
    "google",  # protobuf: torch.onnx, tensorboard
    "tensorflow",
    "rich",
    "pygments",
    # heavy Qt modules the app does not use (it imports QtCore, QtGui, QtWidgets only)
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtMultimedia",
    "PySide6.QtNetwork",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtPdf",
    "tkinter",
)
"""Python packages kept out of the analysis (and so out of the bundle)."""

FORBIDDEN_TOP_LEVEL: tuple[str, ...] = (
    "training",
    "sklearn",
    "onnxruntime",
    "torchmetrics",
    "pytest",
)
"""Top-level packages that must not appear anywhere in the built app folder."""

QT_PLUGINS_KEPT: dict[str, tuple[str, ...]] = {
    # X11, headless (--self-test, CI) and Wayland; no eglfs/linuxfb/vnc/minimal
    "platforms": (
        "libqxcb.so",
        "libqoffscreen.so",
        "libqwayland.so",
        "qwindows.dll",
        "libqcocoa.dylib",
    ),
    # the portal theme gives native file dialogs; gtk3 would drag in GTK, cairo, pango, ...
    "platformthemes": ("libqxdgdesktopportal.so",),
    "platforminputcontexts": (
        "libcomposeplatforminputcontextplugin.so",
        "libibusplatforminputcontextplugin.so",
    ),
    "xcbglintegrations": ("*",),
    "wayland-shell-integration": ("*",),
    "wayland-decoration-client": ("*",),
    "wayland-graphics-integration-client": ("*",),
    # the app icon is an SVG; pictures are read and written by Pillow, not by Qt
    "imageformats": ("libqsvg.so", "qsvg.dll", "libqsvg.dylib"),
    "iconengines": ("*",),
    "styles": ("*",),
    "generic": (),
    "egldeviceintegrations": (),
    "tls": (),
    "networkinformation": (),
    "printsupport": (),
}
"""Qt plugin folder -> file-name globs kept in it; a folder not named here is dropped whole."""

DROPPED_GLOBS: tuple[str, ...] = (
    # torch: C++ headers, CMake files, tests and test-only libraries, build tools
    "torch/include/*",
    "torch/share/*",
    "torch/bin/*",  # except torch_shm_manager: see KEPT_GLOBS
    "torch/lib/libshm/*",
    "torch/lib/libshm_windows/*",
    "torch/lib/libaoti_custom_ops.so",
    "torch/lib/libbackend_with_compiler.so",
    "torch/lib/libjitbackend_test.so",
    "torch/lib/libtorchbind_test.so",
    "torch/test/*",
    "torch/_inductor/codegen/*.cpp",
    "torch/_inductor/codegen/*.h",
    "*.pyi",
    "*/__pycache__/*",
    # Qt: translations (the app is English only), QML, and modules the app never loads
    "PySide6/Qt/translations/*",
    "PySide6/Qt/qml/*",
    "PySide6/Qt/metatypes/*",
    "PySide6/Qt/libexec/*",
    "PySide6/Qt/resources/*",
    "PySide6/Qt/lib/libQt6Qml*",
    "PySide6/Qt/lib/libQt6Quick*",
    "PySide6/Qt/lib/libQt6Pdf*",
    "PySide6/Qt/lib/libQt6Network*",
    "PySide6/Qt/lib/libQt6WebEngine*",
    "PySide6/Qt/lib/libQt6Multimedia*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/lib/libQt6Designer*",
    "PySide6/Qt/lib/libQt6EglFS*",
    "PySide6/typesystems/*",
    "PySide6/include/*",
    "PySide6/glue/*",
    "PySide6/scripts/*",
    "shiboken6/include/*",
)
"""Bundle paths left out of the app (matched with :func:`fnmatch.fnmatchcase`)."""

KEPT_GLOBS: tuple[str, ...] = ("torch/bin/torch_shm_manager",)
"""Bundle paths kept even though a :data:`DROPPED_GLOBS` entry matches them."""

QT_PLUGIN_PREFIXES: tuple[str, ...] = ("PySide6/Qt/plugins/", "PySide6/plugins/")


def _posix(dest: str) -> PurePosixPath:
    return PurePosixPath(dest.replace("\\", "/"))


def keep_qt_plugin(dest: str) -> bool:
    """Whether a bundle entry under a Qt plugin folder stays; True for anything else."""
    path = _posix(dest).as_posix()
    for prefix in QT_PLUGIN_PREFIXES:
        if path.startswith(prefix):
            rest = PurePosixPath(path[len(prefix) :])
            if len(rest.parts) < 2:
                return True
            kind, name = rest.parts[0], rest.name
            globs = QT_PLUGINS_KEPT.get(kind, ())
            return any(fnmatch.fnmatchcase(name, glob) for glob in globs)
    return True


def keep(dest: str) -> bool:
    """Whether the bundle entry with destination ``dest`` goes into the app."""
    path = _posix(dest).as_posix()
    if any(fnmatch.fnmatchcase(path, glob) for glob in KEPT_GLOBS):
        return True
    if any(fnmatch.fnmatchcase(path, glob) for glob in DROPPED_GLOBS):
        return False
    top = PurePosixPath(path).parts[0] if path else ""
    if top in FORBIDDEN_TOP_LEVEL or top.split("-")[0] in FORBIDDEN_TOP_LEVEL:
        return False
    return keep_qt_plugin(path)


def keep_module(name: str) -> bool:
    """Whether the Python module ``name`` (dotted) goes into the app's archive."""
    return name.split(".")[0] not in FORBIDDEN_TOP_LEVEL


def forbidden_entries(folder: Path, modules: Iterable[str] = ()) -> list[str]:
    """What in a built app carries a training-only or development package.

    Looks at the app folder's top-level entries and those of its ``_internal/`` folder
    (``_internal/sklearn``, ``_internal/scikit_learn-1.4.dist-info``, ``_internal/training``)
    and at ``modules``, the dotted names in the app's Python archive. Returns the offending
    paths and module names; empty when the app is clean.
    """
    names = {name.replace("-", "_").lower() for name in FORBIDDEN_TOP_LEVEL}
    names |= {"scikit_learn", "onnxruntime", "torchmetrics"}
    found: list[str] = []
    for parent in (folder, folder / "_internal"):
        if not parent.is_dir():
            continue
        for path in sorted(parent.iterdir()):
            stem = path.name.split("-")[0].split(".")[0].replace("-", "_").lower()
            if stem in names:
                found.append(path.relative_to(folder).as_posix())
    found += sorted(name for name in modules if name.split(".")[0].lower() in names)
    return found


def folder_size(folder: Path) -> int:
    """The bytes of all plain files under ``folder`` (symbolic links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


TocEntry = tuple[str, str, str]
"""A PyInstaller TOC entry: (destination in the bundle, source file, type code)."""


def filter_toc(entries: Iterable[TocEntry]) -> list[TocEntry]:
    """PyInstaller TOC entries ``(dest, source, kind)`` that :func:`keep` allows."""
    return [entry for entry in entries if keep(entry[0])]


def orphaned_libraries(
    kept: Iterable[TocEntry],
    dropped: Iterable[TocEntry],
    imports: Callable[[str], Iterable[str]],
) -> set[str]:
    """Top-level shared libraries that only left-out binaries need.

    PyInstaller collects a plugin's libraries before the spec can drop the plugin (GTK,
    cairo and pango come with the gtk3 theme plugin). ``imports(source)`` names the
    libraries a binary loads, transitively (``ldd``). A top-level library (a destination
    without a folder, e.g. ``libcairo.so.2``) is orphaned when a dropped binary needs it
    and no other kept binary does; libraries no dropped binary links to (e.g. those loaded
    with ctypes) are never orphaned.
    """
    kept = list(kept)
    needed_by_dropped: set[str] = set()
    for _, source, _ in dropped:
        needed_by_dropped.update(PurePosixPath(name).name for name in imports(source))
    candidates = {
        dest for dest, _, _ in kept if "/" not in dest.replace("\\", "/")
    } & needed_by_dropped
    needed_by_kept: set[str] = set()
    for dest, source, _ in kept:
        if dest not in candidates:  # libpython's own libraries count too
            needed_by_kept.update(PurePosixPath(name).name for name in imports(source))
    return candidates - needed_by_kept

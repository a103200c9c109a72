"""The installer: ``installer/build.py`` makes a folder, a ``.deb`` and a ``.tar.gz`` that run.

The slow tests build the packages once (``python installer/build.py`` into a temporary
folder, a few minutes), run the built program's ``--self-test`` offscreen, install the
``.deb`` into a temporary root with ``dpkg -x`` and run the installed program's self-test
too, and check the size budget and that nothing training-only went in. They are skipped,
saying why, only where PyInstaller or dpkg-deb is not available. The fast tests check the
rules of what goes into the bundle (``installer/bundle_rules.py``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from installer import bundle_rules as rules
from nfe_core import __version__

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "installer" / "build.py"
NAME = rules.APP_NAME
SIZE_BUDGET_BYTES = 700_000_000
"""The app folder may not grow past this (measured: about 590 MB, trimmed and stripped)."""
BUILD_TIMEOUT_S = 1500
SELF_TEST_TIMEOUT_S = 300


@dataclass(frozen=True)
class Built:
    """What one run of ``installer/build.py`` produced."""

    out: Path
    app: Path
    deb: Path
    tar: Path
    log: str


def _missing_tools() -> list[str]:
    missing = []
    if importlib.util.find_spec("PyInstaller") is None:
        missing.append("PyInstaller (pip install -e .[dev])")
    for tool in ("dpkg-deb", "dpkg"):
        if shutil.which(tool) is None:
            missing.append(tool)
    return missing


def _clean_env(home: Path) -> dict[str, str]:
    """An environment for the built program: offscreen, user folders in ``home``, and no
    trace of this virtual environment (the program must carry its own Python)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "QT_", "XDG_", "LD_"))
    }
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if part != venv_bin
    )
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["HOME"] = str(home)
    for variable, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        (home / folder).mkdir(parents=True, exist_ok=True)
        env[variable] = str(home / folder)
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


def _run_self_test(executable: Path, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(executable), "--self-test"],
        env=_clean_env(home),
        cwd=cwd,  # not the checkout: resources must come from the bundle
        capture_output=True,
        text=True,
        timeout=SELF_TEST_TIMEOUT_S,
        check=False,
    )


def _ar_members(path: Path) -> list[str]:
    """The member names of a Unix ``ar`` archive (a ``.deb``)."""
    names = []
    with path.open("rb") as file:
        if file.read(8) != b"!<arch>\n":
            raise AssertionError(f"{path} is not an ar archive")
        while header := file.read(60):
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            names.append(name)
            file.seek(size + size % 2, os.SEEK_CUR)
    return names


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Run ``installer/build.py`` once for this module, into a temporary folder."""
    missing = _missing_tools()
    if missing:
        pytest.skip(f"cannot build the installer here: missing {', '.join(missing)}")
    base = tmp_path_factory.mktemp("installer")
    out = base / "dist"
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(out), "--work", str(base / "build")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"build.py failed:\n{log[-6000:]}"
    debs = sorted(out.glob(f"{NAME}_{__version__}_*.deb"))
    tars = sorted(out.glob(f"{NAME}-{__version__}-linux-*.tar.gz"))
    assert len(debs) == 1, f"expected one .deb in {out}: {sorted(p.name for p in out.iterdir())}"
    assert len(tars) == 1, f"expected one .tar.gz in {out}: {sorted(p.name for p in out.iterdir())}"
    return Built(out=out, app=out / NAME, deb=debs[0], tar=tars[0], log=log)


@pytest.fixture(scope="module")
def installed_root(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``.deb`` unpacked into a temporary root with ``dpkg -x``."""
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg", "-x", str(built.deb), str(root)], check=True)
    return root


# --- fast: the bundle rules -------------------------------------------------------------


def test_rules_keep_what_torch_and_qt_need():
    assert rules.keep("torch/bin/torch_shm_manager")
    assert rules.keep("torch/lib/libtorch_cpu.so")
    assert rules.keep("PySide6/Qt/plugins/platforms/libqxcb.so")
    assert rules.keep("PySide6/Qt/plugins/platforms/libqoffscreen.so")
    assert rules.keep("PySide6/Qt/plugins/imageformats/libqsvg.so")
    assert rules.keep("PySide6/Qt/lib/libQt6Widgets.so.6")
    assert rules.keep("resources/models/default/bundle.json")


def test_rules_leave_out_tests_headers_translations_and_training():
    for dest in (
        "torch/bin/test_jit",
        "torch/bin/protoc",
        "torch/include/ATen/ATen.h",
        "torch/share/cmake/Torch/TorchConfig.cmake",
        "torch/lib/libtorchbind_test.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platforms/libqvnc.so",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/qmltooling/libqmldbg_debugger.so",
        "PySide6/Qt/qml/QtQuick/qmldir",
        "sklearn/__init__.py",
        "onnxruntime/capi/libonnxruntime.so",
        "torchmetrics/__init__.py",
        "training/cli.py",
    ):
        assert not rules.keep(dest), dest
    for module in ("sklearn.svm", "training.cli", "torchmetrics", "onnxruntime"):
        assert not rules.keep_module(module), module
    assert rules.keep_module("torch.nn.functional")
    assert rules.keep_module("nfe_desktop.self_test")


def test_rules_name_training_only_packages_as_excluded():
    for package in ("training", "sklearn", "onnxruntime", "torchmetrics", "pytest"):
        assert package in rules.EXCLUDED_MODULES


def test_forbidden_entries_finds_training_packages(tmp_path: Path):
    internal = tmp_path / "_internal"
    (internal / "sklearn").mkdir(parents=True)
    (internal / "scikit_learn-1.4.0.dist-info").mkdir()
    (internal / "torch").mkdir()
    assert rules.forbidden_entries(tmp_path, ["torch.nn", "training.cli"]) == [
        "_internal/scikit_learn-1.4.0.dist-info",
        "_internal/sklearn",
        "training.cli",
    ]


def test_data_files_exist():
    for pattern, _ in rules.DATA_GLOBS:
        assert any(ROOT.glob(pattern)), pattern


# --- slow: build, run, install ----------------------------------------------------------


@pytest.mark.slow
def test_built_app_passes_its_self_test(built: Built, tmp_path: Path):
    executable = built.app / NAME
    assert executable.is_file() and os.access(executable, os.X_OK)
    result = _run_self_test(executable, tmp_path / "home", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"self-test failed:\n{output[-6000:]}"
    assert "self-test passed" in output


@pytest.mark.slow
def test_built_app_reports_its_version(built: Built, tmp_path: Path):
    result = subprocess.run(
        [str(built.app / NAME), "--version"],
        env=_clean_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{NAME} {__version__}"


@pytest.mark.slow
def test_app_folder_fits_the_size_budget(built: Built):
    size = rules.folder_size(built.app)
    assert size <= SIZE_BUDGET_BYTES, (
        f"the app folder is {size / 1e6:.0f} MB, over the budget of "
        f"{SIZE_BUDGET_BYTES / 1e6:.0f} MB: see installer/bundle_rules.py"
    )


@pytest.mark.slow
def test_app_carries_nothing_training_only(built: Built):
    from PyInstaller.archive.readers import pkg_archive_contents

    modules = pkg_archive_contents(str(built.app / NAME))
    assert any(name.startswith("nfe_desktop") for name in modules), "our code is not in it"
    assert rules.forbidden_entries(built.app, modules) == []
    internal = built.app / "_internal"
    assert (internal / "torch" / "bin" / "torch_shm_manager").is_file()
    assert not (internal / "torch" / "include").exists()
    assert not list(internal.glob("PySide6/Qt/translations/*.qm"))
    assert (internal / "resources" / "models" / "default" / "bundle.json").is_file()
    assert (internal / "resources" / "icons" / "nfe.svg").is_file()


@pytest.mark.slow
def test_deb_installs_under_opt_with_launcher_entry_and_icon(built: Built, installed_root: Path):
    fields = subprocess.run(
        ["dpkg-deb", "--field", str(built.deb), "Package", "Version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Package: {NAME}" in fields and f"Version: {__version__}" in fields
    assert any(name.startswith("data.tar.zst") for name in _ar_members(built.deb))

    launcher = installed_root / "usr" / "bin" / NAME
    assert launcher.is_symlink(), f"{launcher} should be a link into /opt/{NAME}"
    target = Path(os.readlink(launcher))
    assert target == Path(f"/opt/{NAME}/{NAME}")
    in_root = installed_root / target.relative_to("/")  # the target, re-rooted
    assert in_root.is_file() and os.access(in_root, os.X_OK)

    entry = installed_root / "usr" / "share" / "applications" / f"{NAME}.desktop"
    text = entry.read_text(encoding="utf-8")
    assert f"Exec={NAME} %f" in text and f"Icon={NAME}" in text
    icon = installed_root / "usr/share/icons/hicolor/scalable/apps" / f"{NAME}.svg"
    assert icon.is_file()


@pytest.mark.slow
def test_installed_app_passes_its_self_test(installed_root: Path, tmp_path: Path):
    executable = installed_root / "opt" / NAME / NAME
    result = _run_self_test(executable, tmp_path / "home", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"installed self-test failed:\n{output[-6000:]}"
    assert "self-test passed" in output


@pytest.mark.slow
def test_tarball_holds_the_app_folder(built: Built):
    with tarfile.open(built.tar, "r:gz") as archive:
        names = set(archive.getnames())
    assert f"{NAME}/{NAME}" in names
    assert f"{NAME}/_internal/resources/models/default/bundle.json" in names

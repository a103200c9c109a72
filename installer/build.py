"""Build Neural Face Editor's Linux packages: the app folder, a ``.deb`` and a ``.tar.gz``.

    python installer/build.py                 # dist/nfe-desktop/, dist/*.deb, dist/*.tar.gz
    python installer/build.py --skip-deb --out /tmp/nfe

Steps, each timed: PyInstaller runs ``installer/nfe.spec`` (one-folder build, the app in
``<out>/nfe-desktop/``, executable ``<out>/nfe-desktop/nfe-desktop``); torch's shared
libraries are stripped of their symbol tables (the spec cannot strip: it breaks numpy's
OpenBLAS); ``dpkg-deb -Zzstd`` packs the folder under ``/opt/nfe-desktop`` with a launcher
``/usr/bin/nfe-desktop``, a ``.desktop`` entry and an SVG icon; the folder is also packed
as ``nfe-desktop-<version>-linux-<machine>.tar.gz``. Sizes and times are printed at the end.

Run it with the interpreter of the environment to package (PyInstaller must be installed
there: ``pip install -e .[dev]``). Windows and macOS are built on those systems: see
``installer/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bundle_rules as rules

ROOT = rules.ROOT
INSTALLER = ROOT / "installer"
SPEC = INSTALLER / "nfe.spec"
NAME = rules.APP_NAME
INSTALL_DIR = f"/opt/{NAME}"
DISPLAY_NAME = "Neural Face Editor"
SUMMARY = "edit anime faces with StyleGAN2 and InterFaceGAN sliders, offline"
ICON = ROOT / "resources" / "icons" / "nfe.svg"

DEB_DEPENDS = (
    "libc6 (>= 2.28)",
    "libfontconfig1",
    "libfreetype6",
    "libgl1",
    "libegl1",
    "libglib2.0-0 | libglib2.0-0t64",
    "libdbus-1-3",
    "libx11-6",
    "libx11-xcb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libwayland-client0",
    "libwayland-cursor0",
    "libwayland-egl1",
)
"""System libraries Qt's X11 and Wayland plugins load (OpenGL, fonts, X11, Wayland); some
are bundled too, but a desktop has them all and PyInstaller leaves out libGL and Wayland."""


class BuildError(RuntimeError):
    """A build step cannot run or failed; the message says what to do."""


@dataclass
class Report:
    """Times (seconds) and sizes (bytes) of one build, printed at the end."""

    times: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Time the ``with`` block as ``step``, and say when it starts."""
        print(f"==> {step}", flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times[step] = time.perf_counter() - start

    def print(self) -> None:
        """Print the times and sizes, one a line."""
        print("\nBuild report")
        for step, seconds in self.times.items():
            print(f"  {step:<34} {seconds:8.1f} s")
        print(f"  {'total':<34} {sum(self.times.values()):8.1f} s")
        for what, size in self.sizes.items():
            print(f"  {what:<34} {size / 1e6:8.1f} MB")


def app_version() -> str:
    """The version of the package being built (``nfe_core.__version__``)."""
    sys.path.insert(0, str(ROOT))
    from nfe_core import __version__

    return __version__


def deb_architecture() -> str:
    """Debian's name for this machine's architecture, e.g. ``amd64``."""
    dpkg = shutil.which("dpkg")
    if dpkg:
        return subprocess.run(
            [dpkg, "--print-architecture"], check=True, capture_output=True, text=True
        ).stdout.strip()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def check_tools(need_deb: bool) -> None:
    """Fail with a clear message when PyInstaller (or dpkg-deb, for the .deb) is missing."""
    if not sys.platform.startswith("linux"):
        raise BuildError(
            "build.py builds the Linux packages; on Windows and macOS run "
            "`pyinstaller installer/nfe.spec` (see installer/README.md)"
        )
    try:
        import PyInstaller  # noqa: F401
    except ImportError as error:
        raise BuildError(
            f"PyInstaller is not installed for {sys.executable}: "
            "run `pip install -e .[dev]` (or `pip install pyinstaller`) first"
        ) from error
    if need_deb and shutil.which("dpkg-deb") is None:
        raise BuildError(
            "dpkg-deb is not on the PATH: install dpkg (`apt-get install dpkg`), "
            "or pass --skip-deb to build the folder and the .tar.gz only"
        )


def folder_size(folder: Path) -> int:
    """Bytes of the plain files under ``folder``."""
    return rules.folder_size(folder)


def run_pyinstaller(out: Path, work: Path, clean: bool) -> Path:
    """Run the spec; returns the app folder ``<out>/nfe-desktop``."""
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(SPEC),
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(out),
        "--workpath",
        str(work),
    ]
    if clean:
        command.append("--clean")
    result = subprocess.run(command, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise BuildError(f"PyInstaller failed (exit status {result.returncode}); see above")
    app = out / NAME
    if not (app / NAME).is_file():
        raise BuildError(f"PyInstaller finished but {app / NAME} is missing")
    return app


def torch_libraries(app: Path) -> list[Path]:
    """Torch's shared libraries in the app folder (``torch/lib/*.so*``, ``torch/_C*.so``)."""
    torch = app / "_internal" / "torch"
    found = [*torch.glob("lib/*.so*"), *torch.glob("_C*.so")]
    return sorted(path for path in found if path.is_file() and not path.is_symlink())


def strip_libraries(paths: Sequence[Path]) -> int:
    """``strip --strip-unneeded`` each file in place; returns the bytes saved (0 without strip)."""
    strip = shutil.which("strip")
    if strip is None:
        print("    strip not found: torch's libraries are left as they are")
        return 0
    before = sum(path.stat().st_size for path in paths)
    for path in paths:
        subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
    return before - sum(path.stat().st_size for path in paths)


def desktop_entry(version: str) -> str:
    """The freedesktop ``.desktop`` entry: the menu item that starts the app."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={DISPLAY_NAME}\n"
        f"GenericName=Face editor\n"
        f"Comment=Neural Face Editor {version}: {SUMMARY}\n"
        f"Exec={NAME} %f\n"
        f"TryExec={NAME}\n"
        f"Icon={NAME}\n"
        "Terminal=false\n"
        "Categories=Graphics;RasterGraphics;Qt;\n"
        "MimeType=image/png;image/jpeg;image/webp;\n"
        "StartupWMClass=nfe-desktop\n"
    )


def control_file(version: str, architecture: str, installed_kib: int) -> str:
    """The package's ``DEBIAN/control``."""
    return (
        f"Package: {NAME}\n"
        f"Version: {version}\n"
        f"Architecture: {architecture}\n"
        "Maintainer: The NFE developers <nfe@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(DEB_DEPENDS)}\n"
        "Section: graphics\n"
        "Priority: optional\n"
        f"Description: {DISPLAY_NAME}: {SUMMARY}\n"
        " A desktop app that edits anime faces with sliders (hair colour, hair length,\n"
        " eyes, ...), inverts a picture into the model and saves the result; it carries\n"
        " its own Python, CPU PyTorch, Qt and the default model, under /opt/nfe-desktop.\n"
    )


def link_tree(source: Path, destination: Path) -> None:
    """Copy ``source`` to ``destination`` as hard links where it can (same disk), else copies."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, destination, symlinks=True, copy_function=link_or_copy)


def build_deb(app: Path, out: Path, work: Path, version: str) -> Path:
    """Pack ``app`` as ``<out>/nfe-desktop_<version>_<arch>.deb``; returns its path."""
    architecture = deb_architecture()
    root = work / "deb-root"
    if root.exists():
        shutil.rmtree(root)
    opt = root / INSTALL_DIR.lstrip("/")
    link_tree(app, opt)

    launcher = root / "usr" / "bin" / NAME
    launcher.parent.mkdir(parents=True)
    launcher.symlink_to(f"{INSTALL_DIR}/{NAME}")

    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{NAME}.desktop").write_text(desktop_entry(version), encoding="utf-8")

    icons = root / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy2(ICON, icons / f"{NAME}.svg")

    debian = root / "DEBIAN"
    debian.mkdir()
    installed_kib = (folder_size(root) + 1023) // 1024
    (debian / "control").write_text(
        control_file(version, architecture, installed_kib), encoding="utf-8"
    )
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o755)
    (debian / "control").chmod(0o644)

    deb = out / f"{NAME}_{version}_{architecture}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(root), str(deb)],
        check=True,
    )
    shutil.rmtree(root)
    return deb


def build_tar(app: Path, out: Path, version: str) -> Path:
    """Pack ``app`` as ``<out>/nfe-desktop-<version>-linux-<machine>.tar.gz``."""
    tar_path = out / f"{NAME}-{version}-linux-{platform.machine()}.tar.gz"

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(tar_path, "w:gz", compresslevel=6) as archive:
        archive.add(app, arcname=NAME, filter=as_root)
    return tar_path


def make_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="build.py", description="Build Neural Face Editor's app folder, .deb and .tar.gz."
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "build",
        help="PyInstaller's work folder (default: build/)",
    )
    parser.add_argument("--skip-deb", action="store_true", help="do not build the .deb")
    parser.add_argument("--skip-tar", action="store_true", help="do not build the .tar.gz")
    parser.add_argument(
        "--no-strip", action="store_true", help="leave torch's libraries unstripped"
    )
    parser.add_argument(
        "--clean", action="store_true", help="empty PyInstaller's cache first (slower)"
    )
    return parser


def build(options: argparse.Namespace) -> Report:
    """Run every step ``options`` asks for; returns the report."""
    check_tools(need_deb=not options.skip_deb)
    out: Path = options.out.resolve()
    work: Path = options.work.resolve()
    out.mkdir(parents=True, exist_ok=True)
    version = app_version()
    report = Report()
    print(f"Building {NAME} {version} into {out}", flush=True)

    with report.timed("PyInstaller (app folder)"):
        app = run_pyinstaller(out, work, options.clean)
    report.sizes["app folder, unstripped"] = folder_size(app)
    if not options.no_strip:
        with report.timed("strip torch libraries"):
            saved = strip_libraries(torch_libraries(app))
        print(f"    saved {saved / 1e6:.1f} MB")
    report.sizes[f"app folder {app.relative_to(out.parent)}"] = folder_size(app)
    if not options.skip_deb:
        with report.timed("dpkg-deb -Zzstd (.deb)"):
            deb = build_deb(app, out, work, version)
        report.sizes[deb.name] = deb.stat().st_size
    if not options.skip_tar:
        with report.timed("tar.gz"):
            tar = build_tar(app, out, version)
        report.sizes[tar.name] = tar.stat().st_size
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Build, print the report; exit status 1 with a message when a step cannot run."""
    options = make_parser().parse_args(argv)
    try:
        report = build(options)
    except (BuildError, subprocess.CalledProcessError) as error:
        print(f"build.py: error: {error}", file=sys.stderr)
        return 1
    report.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

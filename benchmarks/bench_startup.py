"""Desktop start-up: seconds from launch to the window on screen, and to ready to edit.

    python benchmarks/bench_startup.py [--runs 5] [--model BUNDLE]

Starts ``nfe-desktop --startup-timing`` --runs times, one after another, offscreen, with a
fresh temporary home (settings, logs) each time, and prints the median and the best of
"window shown" (its first paint done) and "ready to edit" (the model loaded in its worker),
counted from just before the process starts (``NFE_STARTED``): the interpreter's start and
every import are in. For reference, the same for ``python -c "import torch"``, the largest
part of loading the model. Budget (the installer issue): the window well under 2 s on 2 CPU
cores, ready to edit under 3 s. Run it on an otherwise idle machine: the load average is
printed, since a busy core stretches every figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIGURES = ("window shown", "ready to edit")
TIMEOUT_S = 120


def desktop_command() -> list[str]:
    """The ``nfe-desktop`` console script of this Python, or the same entry point via -c."""
    script = Path(sys.executable).with_name("nfe-desktop")
    for candidate in (script, script.with_suffix(".exe")):
        if candidate.is_file():
            return [str(candidate)]
    return [sys.executable, "-c", "import sys; from nfe_desktop.app import main; sys.exit(main())"]


def isolated_env(home: Path) -> dict[str, str]:
    """This environment, offscreen, with the user's folders moved into ``home``."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home), USERPROFILE=str(home))
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    env["APPDATA"] = env["LOCALAPPDATA"] = str(home / "appdata")
    return env


def startup_run(extra: list[str]) -> dict[str, float]:
    """One start of the app with --startup-timing: its figures in seconds."""
    with tempfile.TemporaryDirectory(prefix="nfe-bench-home-") as home:
        env = isolated_env(Path(home))
        env["NFE_STARTED"] = repr(time.time())
        done = subprocess.run(
            [*desktop_command(), "--startup-timing", *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    figures = {
        name: float(value)
        for name, value in re.findall(
            r"^(window shown|ready to edit): ([\d.]+) s$", done.stdout, re.M
        )
    }
    if done.returncode != 0 or set(figures) != set(FIGURES):
        raise SystemExit(
            f"nfe-desktop --startup-timing failed (status {done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    return figures


def torch_import_s() -> float:
    """Seconds from launch to exit of ``python -c "import torch"``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True, timeout=TIMEOUT_S)
    return time.perf_counter() - started


def load_words() -> str:
    """ ", load average 1.9 1.8 1.5" where the system tells it, else ""."""
    if not hasattr(os, "getloadavg"):
        return ""
    return ", load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of the app (and of torch)")
    parser.add_argument("--model", type=Path, help="bundle to load (default: the default)")
    args = parser.parse_args()
    extra = ["--model", str(args.model)] if args.model is not None else []

    print(
        f"{' '.join(desktop_command())}, {args.runs} runs, {os.cpu_count()} CPUs{load_words()}, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    runs = [startup_run(extra) for _ in range(args.runs)]
    columns = {name: [run[name] for run in runs] for name in FIGURES}
    columns['python -c "import torch"'] = [torch_import_s() for _ in range(args.runs)]
    print(f"{'seconds from launch':<26}{'median':>8}{'best':>8}")
    for name, values in columns.items():
        print(f"{name:<26}{statistics.median(values):>8.2f}{min(values):>8.2f}")


if __name__ == "__main__":
    main()

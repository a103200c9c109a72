# Shared by run_app.sh and run_tests.sh: make .venv (Python 3.11+) and install NFE into it.
# Usage: source scripts/_venv.sh EXTRAS   (EXTRAS: "" for the app, "dev" for the test suite)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${NFE_VENV:-$ROOT/.venv}"
# The CPU build of PyTorch by default. For an NVIDIA GPU set NFE_TORCH to a CUDA build first,
# e.g. NFE_TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128".
NFE_TORCH="${NFE_TORCH:-torch==2.13.0}"

if [ ! -x "$VENV/bin/python" ]; then
  PY="${NFE_PYTHON:-}"
  if [ -z "$PY" ]; then
    for candidate in python3.11 python3.12 python3.13 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
    done
  fi
  if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: NFE needs Python 3.11 or newer (set NFE_PYTHON to its path)" >&2
    exit 2
  fi
  "$PY" -m venv "$VENV"
fi

pip_quiet() { "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@"; }
# shellcheck disable=SC2086  # NFE_TORCH may carry pip options such as --index-url
if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then pip_quiet $NFE_TORCH; fi
# Reinstall only when the project's dependencies or the requested extras changed.
stamp="$VENV/.nfe-installed-${1:-app}-$(cksum < "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
  echo "Installing Neural Face Editor into $VENV ..." >&2
  if [ -n "${1:-}" ]; then pip_quiet -e "$ROOT[$1]"; else pip_quiet -e "$ROOT"; fi
  rm -f "$VENV"/.nfe-installed-"${1:-app}"-*
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"

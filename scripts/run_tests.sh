#!/usr/bin/env bash
# Install Neural Face Editor with its development tools into .venv and run every check:
# lint, format, the layer contracts, and the whole test suite (GUI tests offscreen).
# Arguments are passed to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" dev
cd "$ROOT"
echo "== ruff" && ruff check . && ruff format --check .
echo "== import contracts" && lint-imports
echo "== tests" && QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" pytest "$@"

#!/usr/bin/env bash
# Install Neural Face Editor into .venv (first run only takes a while) and start the app.
# Arguments are passed to the app, e.g. a picture to open.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""

# Qt's X11 plugin needs a few system libraries that minimal Linux installs lack; Qt itself
# would only abort with a cryptic message, so name them here.
if [ "$(uname -s)" = Linux ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  plugin=$("$VENV/bin/python" -c 'import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / "Qt/plugins/platforms/libqxcb.so")')
  missing=$(ldd "$plugin" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
  if [ -n "$missing" ]; then
    echo "error: Qt needs these system libraries to open a window: $missing" >&2
    echo "       on Debian/Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0" >&2
    exit 2
  fi
fi
exec nfe-desktop "$@"

#!/usr/bin/env bash
# Install Neural Face Editor into .venv (first run only takes a while) and start the app.
# Arguments are passed to the app, e.g. a picture to open.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" ""
exec nfe-desktop "$@"

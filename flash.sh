#!/bin/sh
# Flash MicroPython onto an ESP32-S3 and deploy hushmic:  ./flash.sh --port /dev/ttyUSB0 --image ESP32_GENERIC_S3-...bin
# A thin wrapper: it creates .venv next to this script if needed (as `make setup` does), then runs `hushmic flash`.
# Every argument is passed through; `./flash.sh --help` lists them. Docs: docs/deploy.md, docs/wiring.md.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${VENV:-"$HERE/.venv"}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/hushmic" ]; then
    echo "flash.sh: creating $VENV and installing hushmic (once)..." >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$HERE"
fi
exec "$VENV/bin/hushmic" flash "$@"

#!/usr/bin/env bash
# Set up gridtool on Debian 12 (bookworm) with Python 3.11: system packages, a venv, the package.
#   bash scripts/setup.sh           # what the app needs
#   bash scripts/setup.sh --test    # plus what the test suite needs (Chromium, PostgreSQL/PostGIS, Xvfb)
# Run as root to have the Debian packages installed; otherwise it lists what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# Qt (offscreen and xcb), a CJK font, and Python's venv module.
APP_PKGS="python3-venv python3-pip libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3
 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0
 libxcb-image0 libxcb-xkb1 fonts-noto-cjk"
# Headless Chromium (HTML export tests), PostgreSQL + PostGIS (shared findings store tests), Xvfb.
TEST_PKGS="chromium postgresql-15 postgresql-15-postgis-3 xvfb"

pkgs="$APP_PKGS"
[ $want_test = 1 ] && pkgs="$pkgs $TEST_PKGS"
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: these Debian packages are missing; install them as root and rerun:" >&2
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup: gridtool needs Python >= 3.11; $($PY --version 2>&1) found. Set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
if [ $want_test = 1 ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
echo "setup: ready (.venv)" >&2

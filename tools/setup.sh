#!/usr/bin/env bash
# Create .venv with the pinned toolchain (constraints.txt) and the package in editable mode. Safe to re-run: it does
# nothing when .venv already matches settings.ini and constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=$(cat settings.ini constraints.txt setup.py | sha256sum | cut -c1-16)
if [ -f .venv/.stamp ] && [ "$(cat .venv/.stamp)" = "$stamp" ] && .venv/bin/python -c "import self_supervised" 2>/dev/null; then
  exit 0
fi
[ -x .venv/bin/python ] || bash tools/need_disk.sh . "tools/setup.sh: .venv"
echo "Installing into .venv (first run takes about 2-3 minutes)..."
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -U "pip>=24" 2>&1 | grep -v "^WARNING: Location" || true
# constraints pin the notebook toolchain (nbdev 2 needs fastcore<2, hence fastai 2.8.7); the package itself admits newer
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import self_supervised, nbdev, fastai, timm, kornia" 
echo "$stamp" > .venv/.stamp

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
# torch's CUDA build with its libraries takes ~6.5 GB: say so before pip fails half-way with "No space left on device"
free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
if [ ! -x .venv/bin/python ] && [ "$free_kb" -lt $((7 * 1024 * 1024)) ]; then
  echo "tools/setup.sh: .venv needs about 7 GB of disk, $(pwd) has $((free_kb / 1024 / 1024)) GB free: free some space (old clones, pip caches) and re-run" >&2
  exit 1
fi
echo "Installing into .venv (first run takes about 2-3 minutes)..."
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -U "pip>=24" 2>&1 | grep -v "^WARNING: Location" || true
# constraints pin the notebook toolchain (nbdev 2 needs fastcore<2, hence fastai 2.8.7); the package itself admits newer
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import self_supervised, nbdev, fastai, timm, kornia" 
echo "$stamp" > .venv/.stamp

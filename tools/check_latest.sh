#!/usr/bin/env bash
# Installs that keep working: the package with the NEWEST fastai / fastcore / timm / kornia (not the pins in
# constraints.txt, which hold fastcore<2 for nbdev 2) in a separate venv, resolving the runtime requirements from
# settings.ini; then imports every public name of every module and runs `dino_train` on the embedded sample photos.
# Usage: bash tools/check_latest.sh        (venv: $LATEST_VENV, default .venv-latest; upgraded on every run)
set -euo pipefail
cd "$(dirname "$0")/.."
V=$(realpath -m "${LATEST_VENV:-.venv-latest}")
start=$(date +%s)
[ -x "$V/bin/python" ] || bash tools/need_disk.sh "$(dirname "$V")" "tools/check_latest.sh: $V"
[ -x "$V/bin/python" ] || "${PYTHON:-python3}" -m venv "$V"
log=$(mktemp)
pipi() { "$V/bin/python" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1 || { grep -v "^WARNING: Location" "$log"; exit 1; }; }
pipi -U "pip>=24"
# a regular (non-editable) install built from the tree, so it uses only what the package ships
pipi -U fastai fastcore timm kornia .
pipi --force-reinstall --no-deps .   # the same version number on a re-run: make sure it is this tree's code
"$V/bin/python" -m pip check | grep -v "^No broken" || true
"$V/bin/python" - <<'PY'
from importlib.metadata import version
print('newest-deps env:', ', '.join(f'{p} {version(p)}' for p in
      'self_supervised fastai fastcore timm kornia torch torchvision'.split()))
PY
tmp=$(mktemp -d); trap 'rm -rf "$tmp" "$log"' EXIT
# outside the repo, so `import self_supervised` is the installed package, not the working tree
cd "$tmp"
"$V/bin/python" - <<'PY'
import importlib, pkgutil, self_supervised
assert 'site-packages' in self_supervised.__file__, self_supervised.__file__
mods = [m.name for m in pkgutil.walk_packages(self_supervised.__path__, 'self_supervised.') if not m.name.endswith('_modidx')]
n = 0
for name in mods:
    m = importlib.import_module(name)
    for o in getattr(m, '__all__', []):
        assert hasattr(m, o), f'{name}.__all__ names {o!r}, which the module does not define'
        n += 1
    exec(f'from {name} import *', {})
print(f'imported {n} public names from {len(mods)} modules')
PY
# the flags as the README and `dino_train --help` document them, with underscores: fastcore 2's call_parse spells them
# with dashes, and the `dino_train` entry point accepts both
MPLBACKEND=Agg "$V/bin/dino_train" --epochs 1 --epoch_len 32 --out "$tmp/run" > "$log" 2>&1 || { cat "$log"; exit 1; }
tail -n 5 "$log"
ls "$tmp/run" | head
echo "check_latest: newest fastai/fastcore/timm/kornia install, import and dino_train passed in $(( $(date +%s) - start )) s"

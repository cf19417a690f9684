#!/usr/bin/env bash
# The project's test command (README, CI): install if needed, check the library and README are in sync with the
# notebooks and the notebooks are clean, then run every notebook's test cells with nbdev.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# one torch thread per notebook: nbdev_test runs 2 notebooks at once, and oversubscribed cores slow torch down many times
export PATH="$PWD/.venv/bin:$PATH" MPLBACKEND=Agg PYTHONWARNINGS=ignore OMP_NUM_THREADS=1
state() { { git status --porcelain; git diff; } | sha256sum; }
before=$(state)
nbdev_export
nbdev_clean
python tools/readme.py
if [ "$before" != "$(state)" ]; then
  echo "FAIL: nbdev_export / nbdev_clean / tools/readme.py changed files: the library, the notebooks or README.md were"
  echo "out of sync. Run them and commit the result:"; git status --porcelain; exit 1
fi
echo "sync: library, notebooks and README.md are in sync"
start=$(date +%s)
nbdev_test --n_workers 2 --timing "$@"
echo "nbdev_test passed in $(( $(date +%s) - start )) s"

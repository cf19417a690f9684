#!/usr/bin/env bash
# Browser test of the built docs site (bash tools/docs.sh builds it): headless Chromium opens every page.
# Installs Debian's chromium + chromium-driver when they are missing (needs root, as on CI).
set -euo pipefail
cd "$(dirname "$0")/.."
# $CHROMIUM / $CHROMEDRIVER may name another Chrome and its driver (GitHub's runners have Google Chrome)
if ! [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || ! [ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]; then
  echo "Installing chromium and chromium-driver (Debian packages)..."
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
[ -d site ] || { echo "FAIL: no site/: run bash tools/docs.sh first"; exit 1; }
start=$(date +%s)
.venv-docs/bin/python -m pytest -q -p no:cacheprovider tests/test_docs_site.py "$@"
echo "docs browser test passed in $(( $(date +%s) - start )) s"

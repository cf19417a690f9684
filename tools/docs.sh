#!/usr/bin/env bash
# Build the docs site into site/ from the notebooks, offline (Quarto, which nbdev_docs needs, cannot be installed here):
#   1. tools/docs.py (toolchain venv .venv): nbdev's processors (show_doc signatures, hidden cells, links), executing
#      the notebooks committed without outputs so their figures appear -> plain notebooks in _proc/docs_src/
#   2. mkdocs-material + mkdocs-jupyter (docs venv .venv-docs, pinned in docs/requirements.txt) -> site/, with
#      navigation and search; MathJax is copied into the site (from the npm registry, once) so it works offline.
# Usage: bash tools/docs.sh [--no-exec] [--test] [--serve]
#   --no-exec  don't execute notebooks (quick look at layout; figures missing)
#   --test     then open every page in headless Chromium (tests/test_docs_site.py: each page against its notebook)
#   --serve    then serve site/ on http://127.0.0.1:8000 (this machine only)
set -euo pipefail
cd "$(dirname "$0")/.."
exec_flag=() test=0 serve=0
for a in "$@"; do case $a in
  --no-exec) exec_flag=(--no-exec);; --test) test=1;; --serve) serve=1;;
  *) echo "unknown option $a (use --no-exec, --test, --serve)"; exit 2;; esac; done
MATHJAX=2.7.9
start=$(date +%s)
bash tools/setup.sh
# the docs tools live in their own venv: mkdocs-jupyter brings nbconvert/ipykernel, which must not move .venv's pins
stamp=$(cat docs/requirements.txt | sha256sum | cut -c1-16)-mathjax$MATHJAX
if ! { [ -f .venv-docs/.stamp ] && [ "$(cat .venv-docs/.stamp)" = "$stamp" ]; }; then
  echo "Installing the docs tools into .venv-docs (about a minute)..."
  [ -x .venv-docs/bin/python ] || "${PYTHON:-python3}" -m venv .venv-docs
  .venv-docs/bin/python -m pip install -q --disable-pip-version-check -r docs/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
  .venv-docs/bin/python -c "import mkdocs, material, mkdocs_jupyter, selenium, pytest"
  rm -rf .venv-docs/mathjax && mkdir -p .venv-docs/mathjax
  ( cd .venv-docs/mathjax && npm pack -q "mathjax@$MATHJAX" >/dev/null && tar xzf "mathjax-$MATHJAX.tgz" && rm "mathjax-$MATHJAX.tgz" )
  echo "$stamp" > .venv-docs/.stamp
fi
.venv/bin/python tools/docs.py "${exec_flag[@]}"
rm -rf site
NO_MKDOCS_2_WARNING=1 .venv-docs/bin/mkdocs build -q -f _proc/docs_src/mkdocs.yml
# MathJax 2 (the version nbconvert's template configures): only what the TeX-AMS_CHTML-full config loads, about 5 MB
mj=.venv-docs/mathjax/package dst=site/assets/mathjax
mkdir -p $dst/config $dst/jax $dst/fonts/HTML-CSS/TeX $dst/localization
cp $mj/MathJax.js $dst/ && cp $mj/config/TeX-AMS_CHTML-full.js $mj/config/Safe.js $dst/config/ && cp -r $mj/extensions $dst/
cp -r $mj/jax/input $mj/jax/element $dst/jax/ && mkdir -p $dst/jax/output && cp -r $mj/jax/output/CommonHTML $dst/jax/output/
cp -r $mj/fonts/HTML-CSS/TeX/woff $dst/fonts/HTML-CSS/TeX/ && cp -r $mj/localization/en $dst/localization/
.venv/bin/python tools/docs.py --finish site
echo "docs: site/ built in $(( $(date +%s) - start )) s ($(find site -name index.html | wc -l) pages)"
if [ $test = 1 ]; then bash tools/test_docs.sh; fi
if [ $serve = 1 ]; then  # this machine only: http.server alone listens on every interface
  echo "serving on http://127.0.0.1:8000 (Ctrl-C stops)"
  cd site && exec ../.venv-docs/bin/python -m http.server --bind 127.0.0.1 8000
fi

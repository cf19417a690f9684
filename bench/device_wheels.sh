#!/usr/bin/env bash
# Fetch, here, the wheels that the lent GPU machine lacks (its Python 3.12 image has torch, timm, accelerate,
# safetensors, scikit-image, matplotlib, pandas, rich, httpx ... but not fastai, fastcore, kornia and their small
# dependencies) into .whl/ (git-ignored, ~5 MB). Then, on the device, in the repository root:
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
#   bash bench/run_gpu.sh bench/results
# The list is what importing self_supervised (all modules), fastai.vision.all and kornia loads, minus the device's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${plat[@]}" -d .whl \
  fastai==2.8.7 fastcore==1.14.5 fastdownload==0.0.8 fastprogress==1.1.6 fasttransform==0.0.2 plum-dispatch==2.10.1 \
  beartype==0.23.1 kornia==0.9.0 kornia_rs==0.2.0 python-fasthtml==0.14.5 starlette==1.10.0 itsdangerous==2.2.0 \
  python-multipart==0.0.34 httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 2>&1 | grep -v "^WARNING: Location" || true
ls .whl | wc -l; du -sh .whl

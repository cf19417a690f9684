#!/usr/bin/env bash
# All GPU benchmarks in one go (about 8 minutes on one H200). Usage: bash bench/run_gpu.sh OUTDIR
# Needs fastai, fastcore, kornia on the machine: on the lent GPU machine, fetch them here with bench/device_wheels.sh
# and install them there first (the commands are in that script).
out=${1:-bench/results}; mkdir -p "$out/fp16"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
python3 -c "import torch, timm, kornia, fastai; print(torch.__version__, timm.__version__, kornia.__version__, fastai.__version__)"
if [ -n "$QUICK" ]; then  # a short device lease: the main rows only (about 3 minutes)
timeout 150 python3 bench/bench_step.py --device cuda --amp bf16 --reps 2 --steps 4 --locals 6 --variants fastai fastai_nosync fastai_compiled plain_fused plain_reference --out "$out"
timeout 35 python3 bench/bench_aug.py --device cuda --batch 64 --locals 6 --reps 2 --out "$out"
timeout 45 python3 bench/bench_step.py --device cuda --amp fp16 --reps 2 --steps 4 --locals 6 --skip components --variants fastai plain_fused --out "$out/fp16"
timeout 25 python3 bench/bench_knn.py --device cuda --reps 2 --out "$out"
exit
fi
timeout 300 python3 bench/bench_step.py --device cuda --amp bf16 --reps 2 --steps 5 --out "$out"
timeout 110 python3 bench/bench_step.py --device cuda --amp fp16 --reps 2 --steps 5 --skip components --variants fastai plain_fused --out "$out/fp16"
timeout 80 python3 bench/bench_aug.py --device cuda --batch 64 --locals 2 6 10 --reps 2 --out "$out"
timeout 60 python3 bench/bench_knn.py --device cuda --reps 3 --out "$out"

#!/usr/bin/env bash
# GPU check: the speed study at paper scale on one GPU, in one command.
#
#   bash benchmarks/gpu_check.sh            # writes benchmarks/results/speed_gpu/
#
# Needs a CUDA build of JAX (e.g. `pip install -U "jax[cuda13]"`). It times chunks of training
# steps of the reference network at batch 1024 (float32 and bfloat16 compute), extrapolates
# 1M steps, then runs benchmarks/speed.py (training, guided sampling latency, scaling study).
# Each stage runs even if an earlier one fails; every stage's output is kept.
set -uo pipefail
OUT=${OUT_DIR:-benchmarks/results/speed_gpu}
LIMIT=${SPEED_LIMIT_S:-900}
source "$(dirname "$0")/gpu_env.sh" gpu_check.log --require-gpu
status=0
"$PY" benchmarks/gpu_check.py --out "$OUT" 2>&1 | tee -a "$LOG" || status=1
timeout "$LIMIT" "$PY" benchmarks/speed.py --out "$OUT" 2>&1 | tee -a "$LOG" || status=1
exit $status

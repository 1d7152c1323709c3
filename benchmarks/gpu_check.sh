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
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
OUT=${OUT_DIR:-benchmarks/results/speed_gpu}
LIMIT=${SPEED_LIMIT_S:-900}
mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
{
  date -u
  git rev-parse --short HEAD 2>/dev/null || true
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true
  "$PY" -c 'import jax; print("jax", jax.__version__, jax.devices())'
} 2>&1 | tee "$LOG"
"$PY" -c 'import jax, sys; sys.exit(jax.devices()[0].platform != "gpu")' \
  || { echo "no GPU visible to JAX: install a CUDA build of jax" | tee -a "$LOG"; exit 1; }
status=0
"$PY" benchmarks/gpu_check.py --out "$OUT" 2>&1 | tee -a "$LOG" || status=1
timeout "$LIMIT" "$PY" benchmarks/speed.py --out "$OUT" 2>&1 | tee -a "$LOG" || status=1
exit $status

#!/usr/bin/env bash
# GPU check: the speed study at paper scale on one GPU, in one command.
#
#   bash benchmarks/gpu_check.sh            # writes benchmarks/results/speed_gpu/
#
# Needs a CUDA build of JAX (`pip install -U "jax[cuda12]"`). It times a chunk of training steps
# of the reference network at batch 1024 (float32 and bfloat16 compute), extrapolates 1M steps,
# and measures guided sampling latency.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT_DIR:-benchmarks/results/speed_gpu}
mkdir -p "$OUT"
"$PY" - <<'PYEOF' | tee "$OUT/gpu_check.log"
import jax
print("devices:", jax.devices())
assert jax.devices()[0].platform == "gpu", "no GPU visible to JAX: install jax[cuda12]"
PYEOF
"$PY" benchmarks/gpu_check.py --out "$OUT" 2>&1 | tee -a "$OUT/gpu_check.log"
"$PY" benchmarks/speed.py --out "$OUT" 2>&1 | tee -a "$OUT/gpu_check.log"

# Sourced by the benchmarks/gpu_*.sh scripts: run from the repository root, write the
# machine's description to "$OUT/$1" and tee everything after it there.
#
#   OUT=benchmarks/results/... ; source benchmarks/gpu_env.sh NAME.log [--require-gpu]
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
mkdir -p "$OUT"
LOG="$OUT/$1"
{
  date -u
  git rev-parse --short HEAD 2>/dev/null || true
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true
  nproc
  "$PY" -c 'import jax; print("jax", jax.__version__, jax.devices())'
} 2>&1 | tee "$LOG"
if [ "${2:-}" = "--require-gpu" ]; then
  "$PY" -c 'import jax, sys; sys.exit(jax.devices()[0].platform != "gpu")' \
    || { echo "no GPU visible to JAX: install a CUDA build of jax" | tee -a "$LOG"; exit 1; }
fi

#!/usr/bin/env bash
# The locomotion suite at the paper's budget on the accelerator machine, in one command:
#
#   bash benchmarks/gpu_rl_locomotion.sh     # writes benchmarks/results/rl_locomotion-full/
#
# Stage 1 builds the locomotion datasets from the committed SAC policies
# (benchmarks/build_locomotion.py --policies-from benchmarks/results/locomotion; an
# environment without committed policies trains them first), the machine's CPU cores in
# parallel. Stage 2 runs benchmarks/rl.py --suite locomotion --full --together (500k value
# steps, 1M diffusion steps at batch 1024, T = 15, the reference network; each dataset's
# seeds trained in one compiled program) on them, RL_JOBS datasets side by side on the GPU,
# within RL_LIMIT_S. Both stages resume: finished datasets and
# (dataset, seed) parts are kept, so a suite longer than one sitting completes over several.
#
# Settings (environment): ENVS (default hopper,walker2d,halfcheetah), DATASETS (rl.py
# --datasets, default the nine), SEEDS (default 5), RL_JOBS (default 3), BUILD_LIMIT_S,
# RL_LIMIT_S, LOCOMOTION_DIR (default runs/locomotion), EXTRA (more rl.py arguments; a
# smoke run: DATASETS=hopper-medium-replay SEEDS=1 BUILD_ARGS="--steps 2000" EXTRA="--set
# values.steps=20 --set policy.steps=20 --episodes 1 --val-episodes 1").
set -uo pipefail
OUT=${OUT_DIR:-benchmarks/results/rl_locomotion-full}
source "$(dirname "$0")/gpu_env.sh" gpu_rl_locomotion.log
LOCO=${LOCOMOTION_DIR:-runs/locomotion}
status=0
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # several runs share the GPU
JAX_PLATFORMS=cpu timeout "${BUILD_LIMIT_S:-3600}" "$PY" benchmarks/build_locomotion.py \
  --envs "${ENVS:-hopper,walker2d,halfcheetah}" --out "$LOCO" --jobs "$(nproc)" \
  --policies-from benchmarks/results/locomotion ${BUILD_ARGS:-} 2>&1 | tee -a "$LOG" || status=1
# shellcheck disable=SC2086
timeout "${RL_LIMIT_S:-36000}" "$PY" benchmarks/rl.py --suite locomotion --full \
  --locomotion-dir "$LOCO" --together --seeds "${SEEDS:-5}" --jobs "${RL_JOBS:-3}" --out "$OUT" \
  ${DATASETS:+--datasets "$DATASETS"} ${EXTRA:-} 2>&1 | tee -a "$LOG" || status=1
exit $status

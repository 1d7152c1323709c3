#!/usr/bin/env bash
# GPU check for many runs in one program, in one command:
#
#   bash benchmarks/gpu_members.sh          # writes benchmarks/results/members_gpu/
#
# Needs a CUDA build of JAX. Stage 1: benchmarks/members.py, K = 1, 2, 5, 10 members of the
# reference network at batch 1024 against K sequential runs. Stage 2:
# benchmarks/rl_full_timing.py, the paper-budget pipeline for one PointMaze dataset with
# five seeds together, timed on chunks and extrapolated (500k value steps, 1M diffusion
# steps, 5 x 20 evaluation episodes). Each stage runs even if the other fails.
set -uo pipefail
OUT=${OUT_DIR:-benchmarks/results/members_gpu}
source "$(dirname "$0")/gpu_env.sh" gpu_members.log
status=0
timeout "${MEMBERS_LIMIT_S:-300}" "$PY" benchmarks/members.py --ks 1,2,5,10 --steps 2000 \
  --out "$OUT" 2>&1 | tee -a "$LOG" || status=1
timeout "${PIPELINE_LIMIT_S:-360}" "$PY" benchmarks/rl_full_timing.py --out "$OUT" \
  2>&1 | tee -a "$LOG" || status=1
exit $status

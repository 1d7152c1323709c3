"""What one locomotion run of the CPU budget costs, stage by stage, and what that means for
`benchmarks/rl.py --suite locomotion --quick` (Hopper medium-replay, 3 seeds).

Trains one short run with `train_run` on a local Hopper dataset (the one in
`--locomotion-dir` if it is built, else 20,000 steps collected from the committed medium
policy into a temporary folder), `--chunks` timed chunks of 1,000 steps per stage after a
first chunk that compiles; each stage's milliseconds per step times the locomotion preset's
steps is its cost in one run. Beside it, in the same process: XLA's FLOP count of one value
step and the matrix-product rate of this machine (256 × 256 by 256 × 256, float32), so the
value stage's time can be read against its floor.

    python benchmarks/rl_stage_cost.py            # writes benchmarks/results/rl_stage_cost.md
"""

import argparse
import csv
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from sac_speed import matmul_rate  # noqa: E402

import selfguide_rl as sgrl  # noqa: E402
from selfguide.checkpoint import atomic_write_text  # noqa: E402

POLICIES = ROOT / "benchmarks" / "results" / "locomotion" / "hopper" / "policies"


def value_step_flops(config: sgrl.ValueConfig, obs_dim: int, act_dim: int) -> float:
    """XLA's FLOP count of one value-learning step at the config's batch size."""
    from selfguide.training import adam
    from selfguide_rl._values import ValueStep, _init_state

    optimizer = adam(config.learning_rate)
    state = _init_state(obs_dim, act_dim, config, optimizer, jr.key(0))
    arrays, static = eqx.partition(state, eqx.is_array)
    n = 4096
    data = (jnp.zeros((n, obs_dim)), jnp.zeros((n, act_dim)), jnp.zeros(n),
            jnp.zeros((n, obs_dim)), jnp.zeros(n))
    step = ValueStep(config, optimizer)
    compiled = jax.jit(lambda a, k: step(eqx.combine(a, static), data, k)[1]).lower(
        arrays, jr.key(1)).compile()
    cost = compiled.cost_analysis()
    return float((cost[0] if isinstance(cost, list) else cost)["flops"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locomotion-dir", type=Path, default=ROOT / "runs" / "locomotion")
    parser.add_argument("--chunks", type=int, default=3, help="timed chunks per stage")
    parser.add_argument("--seeds", type=int, default=3, help="runs of the quick benchmark")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    jax.config.update("jax_platforms", "cpu")

    root = (args.locomotion_dir / "minari").resolve()
    dataset = "selfguide/hopper/medium-v0"
    if not (root / dataset / "data").exists():
        work = Path(tempfile.mkdtemp(prefix="stage-cost-"))
        root = work / "minari"
        sgrl.collect_locomotion("hopper-medium", work_dir=work, steps=20_000, seed=0,
                                root=root, ref_episodes=10, policies_dir=POLICIES,
                                progress=False)
    preset = sgrl.get_preset("locomotion")
    steps = 1000 * (args.chunks + 1)
    run_dir = Path(tempfile.mkdtemp(prefix="stage-cost-run-"))
    sgrl.train_run(dataset, run_dir, root=root, seed=0, progress=False,
                   overrides={"values.steps": steps, "actor.steps": steps,
                              "policy.steps": steps})
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    full = {"values": preset.values.steps, "actor": preset.actor.steps,
            "policy": preset.policy.steps}
    ms = {}
    for stage in full:
        chunks = [float(r["seconds"]) for r in rows if r["stage"] == stage][1:]
        ms[stage] = 1e3 * sum(chunks) / (1000 * len(chunks))
    rate = matmul_rate(256, 200) / 1e9
    data, _ = sgrl.load_run_data(run_dir)
    flops = value_step_flops(preset.values, data.obs_dim, data.act_dim)

    per_run = {s: ms[s] * full[s] / 1e3 for s in full}
    run_s = sum(per_run.values())
    names = {"values": "values (twin Q + V)", "actor": "IQL's actor",
             "policy": "diffusion model"}
    lines = [
        "# One locomotion run of the CPU budget, stage by stage", "",
        f"Command: `python benchmarks/rl_stage_cost.py`. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPU cores. Hopper (11-d observations, 3-d actions); each stage "
        f"timed over {args.chunks} chunks of 1,000 steps after a compiling one, times the "
        "locomotion preset's steps. Matrix products (256 × 256 by 256 × 256, float32) in the "
        f"same process: {rate:.1f} GFLOP/s.", "",
        "| stage | steps (preset) | ms / step | seconds per run |", "|---|---|---|---|",
        *[f"| {names[s]} | {full[s]:,} | {ms[s]:.2f} | {per_run[s]:.0f} |" for s in full],
        f"| **one run** | | | **{run_s:.0f}** ({run_s / 60:.1f} min) |", "",
        f"- One value step is {flops / 1e6:.1f} MFLOP (XLA's count, batch "
        f"{preset.values.batch_size}): {flops / (ms['values'] / 1e3) / 1e9:.1f} GFLOP/s, "
        f"{flops / (ms['values'] / 1e3) / 1e9 / rate:.2f} of the matrix-product rate; at that "
        f"rate the {full['values']:,} value steps alone need "
        f"{flops * full['values'] / (rate * 1e9):.0f} s.",
        f"- `--quick` trains {args.seeds} such runs on the machine's cores: "
        f"{args.seeds * run_s / 60:.1f} min of training before any evaluation (side by side "
        "on 2 cores each run takes about twice as long, so `--jobs 2` does not shorten it).",
    ]
    text = "\n".join(lines) + "\n"
    atomic_write_text(args.out / "rl_stage_cost.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The paper-budget pipeline for one dataset and five seeds trained together, timed from
chunks and extrapolated: 500k value steps, 1M diffusion steps at batch 1024, the reference
network, T = 15, then 5 × 20 evaluation episodes.

    python benchmarks/rl_full_timing.py                          # on the accelerator machine
    python benchmarks/rl_full_timing.py --value-steps 200 --policy-steps 200 --episodes 2  # smoke

Each stage trains `--value-steps` / `--policy-steps` steps with `train_runs` (all seeds in
one program); the time per step of the second half (after compilation) times the paper's
steps is the extrapolated stage time. IQL's actors are timed the same way. Evaluation runs
the five methods on `--episodes` episodes per seed. Written to
`benchmarks/results/rl_full_timing[_<platform>].md`.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAPER = {"values": 500_000, "actor": 500_000, "policy": 1_000_000}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="pointmaze-medium-dense")
    parser.add_argument("--collect-steps", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--value-steps", type=int, default=20_000)
    parser.add_argument("--policy-steps", type=int, default=20_000)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    import jax

    import selfguide_rl as sgrl

    work = Path(tempfile.mkdtemp(prefix="rl-full-"))
    report = sgrl.collect_pointmaze(args.dataset, steps=args.collect_steps, seed=0,
                                    root=work / "minari", ref_episodes=10)
    seeds = tuple(range(args.seeds))
    # Chunks of a tenth of each stage: the history's per-chunk seconds give the rate.
    overrides = {"values.steps": args.value_steps, "actor.steps": args.value_steps,
                 "policy.steps": args.policy_steps,
                 "values.steps_per_chunk": max(args.value_steps // 10, 1),
                 "actor.steps_per_chunk": max(args.value_steps // 10, 1),
                 "policy.steps_per_chunk": max(args.policy_steps // 10, 1)}
    start = time.perf_counter()
    agents = sgrl.train_runs(report.dataset_id, work / "runs", seeds=seeds, full=True,
                             overrides=overrides, root=work / "minari", progress=False)
    train_wall = time.perf_counter() - start
    rates = {}
    rows = sgrl._pipeline.read_csv(agents[0].run_dir / "metrics.csv")
    for stage in ("values", "actor", "policy"):
        chunk = overrides[f"{stage}.steps_per_chunk"]
        sel = [r for r in rows if r["stage"] == stage]
        half = sel[len(sel) // 2:]  # after compilation
        per_step = sum(float(r["seconds"]) for r in half) / (len(half) * chunk)
        # Values and diffusion train all seeds in one program (the seconds are shared);
        # the actors train one after the other, so theirs add up over the seeds.
        rates[stage] = per_step * (len(seeds) if stage == "actor" else 1)
    t0 = time.perf_counter()
    for seed, agent in zip(seeds, agents, strict=True):
        sgrl.evaluate_agent(agent, seeds=(seed,), episodes=args.episodes, record=False)
    eval_s = time.perf_counter() - t0
    total = sum(rates[s] * PAPER[s] for s in PAPER) + eval_s
    device = jax.devices()[0]
    name = device.platform if device.platform == "cpu" else device.device_kind
    lines = [
        f"# Paper-budget pipeline, {args.seeds} seeds together ({name})", "",
        f"Command: `python benchmarks/rl_full_timing.py --dataset {args.dataset} --seeds "
        f"{args.seeds} --value-steps {args.value_steps} --policy-steps {args.policy_steps} "
        f"--episodes {args.episodes}`. Machine: {platform.machine()}, {os.cpu_count()} CPU "
        f"cores, {name}. Dataset: {args.dataset}, {args.collect_steps:,} steps.", "",
        "| stage | seconds per step (all seeds) | paper's steps | extrapolated |",
        "|---|---|---|---|",
    ]
    for stage in PAPER:
        lines.append(f"| {stage} | {rates[stage] * 1e3:.3f} ms | {PAPER[stage]:,} | "
                     f"{rates[stage] * PAPER[stage] / 60:.1f} min |")
    lines += [f"| evaluation ({args.seeds} × {args.episodes} episodes, 5 methods) | – | – | "
              f"{eval_s / 60:.1f} min (measured) |",
              f"| **total** | | | **{total / 60:.1f} min** |", "",
              f"Measured wall time of the timed training: {train_wall:.0f} s.", ""]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if device.platform == "cpu" else f"_{device.platform}"
    (args.out / f"rl_full_timing{suffix}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

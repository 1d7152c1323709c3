"""What a validation sweep costs: one call per setting against the whole grid in one call.

Loads trained runs (default: the locomotion quick suite's Hopper medium-replay seeds) and
evaluates SWG over `benchmarks/rl.py`'s validation grid (6 guidance scales × 2 clips, 3
episodes per seed, the validation environment seeds) twice per round, alternating:

- `per setting`: one `evaluate_agents` call per (clip, scale) (each setting's episodes
  step alone, one small sampler call per step);
- `grid`: one call for all twelve settings (`evaluate_grid`: the settings share the
  weights in one batched sampler call per step, and the sweep runs until its longest
  episode ends).

Prints and writes the seconds of each, their ratio, the environment steps, and how far the
two paths' per-setting means lie apart (float32 rounding of the larger products, grown along
the episodes).

    python benchmarks/eval_sweep.py                 # writes benchmarks/results/eval_sweep.md
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rl import VAL_CLIPS, VAL_SCALES, VALIDATION_SEED_OFFSET, clip_label  # noqa: E402

import selfguide_rl as sgrl  # noqa: E402
from selfguide.checkpoint import atomic_write_text  # noqa: E402

RUNS = ROOT / "runs" / "rl-locomotion-quick" / "runs" / "hopper-medium-replay"


def per_setting(agents, seeds, episodes) -> tuple[dict, int]:
    means, steps = [{} for _ in agents], 0
    for clip in VAL_CLIPS:
        for scale in VAL_SCALES:
            got = sgrl.evaluate_agents(agents, methods=("swg",), scales=(scale,), clips=(clip,),
                                       seeds=seeds, episodes=episodes, record=False)
            for m, (r,) in zip(means, got, strict=True):
                m[f"{scale:g}|{clip_label(clip)}"] = r.mean
                steps += r.env_steps
    return means, steps


def grid(agents, seeds, episodes) -> tuple[dict, int]:
    got = sgrl.evaluate_agents(agents, methods=("swg",), scales=VAL_SCALES, clips=VAL_CLIPS,
                               seeds=seeds, episodes=episodes, record=False)
    means = [{f"{r.scale:g}|{clip_label(r.clip_max)}": r.mean for r in rs} for rs in got]
    return means, sum(r.env_steps for rs in got for r in rs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=RUNS,
                        help="a folder of run directories seed<k> (default: the quick suite's)")
    parser.add_argument("--seeds", default="0,1,2", help="which seed<k> runs (default 0,1,2)")
    parser.add_argument("--episodes", type=int, default=3, help="episodes per seed (3)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (2)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                        "eval_sweep.md")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    missing = [s for s in seeds if not (args.runs / f"seed{s}" / "config.json").exists()]
    if missing:
        raise SystemExit(f"eval_sweep.py: no trained run seed{missing[0]} in {args.runs}; "
                         "train them with `python benchmarks/rl.py --suite locomotion "
                         "--quick` (or pass --runs).")
    agents = [sgrl.load_run(args.runs / f"seed{s}") for s in seeds]
    val_seeds = tuple(VALIDATION_SEED_OFFSET + s for s in seeds)
    for sweep in (grid, per_setting):  # compile both at the timed shapes
        sweep(agents, val_seeds, args.episodes)
    times = {"per setting": [], "grid": []}
    found = {}  # path: (per-seed means, environment steps), the same every round
    for _ in range(args.rounds):
        for name, sweep in (("per setting", per_setting), ("grid", grid)):
            t0 = time.perf_counter()
            found[name] = sweep(agents, val_seeds, args.episodes)
            times[name].append(time.perf_counter() - t0)
    (a, _), (b, _) = found["per setting"], found["grid"]
    gap = max(abs(x[key] - y[key]) for x, y in zip(a, b, strict=True) for key in x)
    same_choice = sum(max(x, key=x.get) == max(y, key=y.get) for x, y in zip(a, b, strict=True))
    med = {k: float(np.median(times[k])) for k in ("per setting", "grid")}
    lines = [
        "# A validation sweep: one call per setting against the grid in one call",
        "",
        f"Command: `python benchmarks/eval_sweep.py`. Machine: {platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} CPU cores. Runs: {len(agents)} trained "
        f"runs of `{args.runs.relative_to(ROOT) if args.runs.is_relative_to(ROOT) else args.runs}`"
        f" ({agents[0].task.dataset_id}); SWG at {len(VAL_SCALES)} scales × {len(VAL_CLIPS)} "
        f"clips, {args.episodes} episodes per seed on the validation environment seeds; "
        f"median of {args.rounds} alternating rounds after a compiling one.",
        "",
        "| path | seconds (median) | rounds | environment steps |",
        "|---|---|---|---|",
        *(f"| {k} | {med[k]:.1f} | {', '.join(f'{t:.1f}' for t in times[k])} | "
          f"{found[k][1]:,} |" for k in ("per setting", "grid")),
        "",
        f"- The grid takes {med['grid'] / med['per setting']:.2f}× the time of one call per "
        f"setting ({med['per setting'] / med['grid']:.2f}× faster).",
        f"- The per-setting validation means of the two paths differ by at most {gap:.2f} "
        f"normalised points (float32 rounding of the larger batched products, grown along "
        f"the episodes); the best setting is the same for {same_choice} of {len(agents)} "
        "seeds.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    atomic_write_text(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

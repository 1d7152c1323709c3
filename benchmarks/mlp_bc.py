"""D4RL's behaviour cloning beside the benchmark's: a Gaussian MLP fitted by maximum
likelihood, scored on the benchmark's own test episodes.

The benchmark's `BC` is the run's diffusion model sampled unguided (the behaviour policy
`μ` that SWG reweights). Published tables (D4RL, IQL) use an MLP instead. This script
trains that MLP for each finished (dataset, seed) part of `benchmarks/rl.py`: IQL's Gaussian
actor with `β = 0` (every weight 1), the run's actor settings (steps, network, learning
rate) and its seed, on the run's data; it acts with its mean on the part's test episodes
(environment seeds `seed · 10⁴ + i`, the same episodes every method of the part was scored
on). MLP BC needs only the data, the actor settings and the action bounds: the benchmark's
run directories (`runs/rl-locomotion/runs/<dataset>/seed<k>`) when they are there, else a
shell run trained for one chunk of each stage (`<work>/mlp_bc_shells/`, read for its data,
task and action scaling only) on the dataset in `--locomotion-dir`, with the locomotion
preset's actor settings, which the part's budget must match.

Written: `<out>/mlp_bc/<dataset>__seed<k>.json` per part (an interrupted run resumes) and
`<out>/mlp_bc.md`: per dataset, MLP BC's mean ± seed-level SE beside the part's BC and SWG,
and SWG − MLP BC paired by seed with its 95% Student-t interval.

    python benchmarks/mlp_bc.py --datasets walker2d-medium-expert,walker2d-medium-replay
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bc_mixture import mlp_bc  # noqa: E402
from rl import interval95, locomotion_dataset_id, mean_se  # noqa: E402

import selfguide_rl as sgrl  # noqa: E402
from selfguide.checkpoint import atomic_write_text  # noqa: E402


def shell_run(args, name: str, part: dict) -> tuple[sgrl.Agent, sgrl.ActorConfig]:
    """A run of the part's dataset and seed trained for one chunk of each stage (its values
    and diffusion model are not used), and the benchmark's actor settings."""
    settings = sgrl.get_preset("locomotion").actor
    if settings.steps != part["budget"]["actor_steps"]:
        raise SystemExit(f"mlp_bc.py: {name} seed {part['seed']} trained its actor for "
                         f"{part['budget']['actor_steps']} steps, the locomotion preset for "
                         f"{settings.steps}; rebuild its run directory instead.")
    agent = sgrl.train_run(
        locomotion_dataset_id(name), args.work / "mlp_bc_shells" / name / f"seed{part['seed']}",
        root=args.locomotion_dir / "minari", seed=part["seed"], progress=False,
        overrides={"values.steps": 1000, "actor.steps": 1000, "policy.steps": 1000})
    return agent, settings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True, help="comma-separated benchmark datasets")
    parser.add_argument("--results", type=Path,
                        default=ROOT / "benchmarks" / "results" / "rl_locomotion",
                        help="the benchmark's results folder (its parts/ are read)")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "rl-locomotion",
                        help="the benchmark's run directories")
    parser.add_argument("--locomotion-dir", type=Path, default=ROOT / "runs" / "locomotion",
                        help="where the locomotion datasets were built (its minari/ root)")
    args = parser.parse_args(argv)
    jax.config.update("jax_platforms", "cpu")
    out = args.results / "mlp_bc"
    out.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    for name in names:
        for part_file in sorted((args.results / "parts").glob(f"{name}__seed*.json")):
            part = json.loads(part_file.read_text())
            target = out / part_file.name
            if target.exists():
                continue
            run_dir = args.work / "runs" / name / f"seed{part['seed']}"
            start = time.perf_counter()
            agent, settings = (sgrl.load_run(run_dir), None) if run_dir.exists() else \
                shell_run(args, name, part)
            data, _ = sgrl.load_run_data(agent.run_dir)
            actor = mlp_bc(agent, data, part["seed"], settings)
            episodes = len(next(r for r in part["rows"] if r["method"] == "bc")["scores"])
            (result,), = sgrl.evaluate_agents([dataclasses.replace(agent, actor=actor)],
                                              methods=("iql",), seeds=(part["seed"],),
                                              episodes=episodes)
            atomic_write_text(target, json.dumps(
                {"dataset": name, "seed": part["seed"], "scores": result.scores.tolist(),
                 "returns": result.returns.tolist(), "actor_steps": agent.preset.actor.steps,
                 "seconds": time.perf_counter() - start}))
            print(f"{name} seed {part['seed']}: MLP BC {result.mean:.1f}", flush=True)

    lines = ["# D4RL's behaviour cloning (Gaussian MLP) on the benchmark's test episodes", "",
             f"Command: `python benchmarks/mlp_bc.py --datasets {','.join(names)}`. MLP BC: IQL's "
             "Gaussian actor with β = 0 (plain maximum likelihood), the run's actor settings and "
             "seed, acting with its mean on the part's test episodes. BC and SWG: the "
             "benchmark's (unguided diffusion model at temperature 0; SWG at the validated ρ). "
             "Mean ± seed-level SE; differences paired by seed with the 95% Student-t interval.",
             "", "| dataset | MLP BC | BC (diffusion) | SWG | IQL | SWG − MLP BC | "
             "IQL − MLP BC | seeds |", "|---|---|---|---|---|---|---|---|"]
    for name in names:
        files = sorted(out.glob(f"{name}__seed*.json"))
        if not files:
            continue
        mlp = {(r := json.loads(f.read_text()))["seed"]: r["scores"] for f in files}
        parts = {seed: json.loads((args.results / "parts" / f"{name}__seed{seed}.json")
                                  .read_text()) for seed in mlp}

        def scores(method: str, parts=parts) -> dict[int, list[float]]:
            return {seed: next(r for r in p["rows"] if r["method"] == method)["scores"]
                    for seed, p in parts.items()}

        cells = [sgrl.seed_summary(s) for s in (mlp, scores("bc"), scores("swg"),
                                                 scores("iql"))]
        diffs = [sgrl.paired_difference(scores(m), mlp) for m in ("swg", "iql")]
        lines.append(f"| {name} | " + " | ".join(mean_se(c.mean, c.stderr) for c in cells)
                     + "".join(f" | {d.mean:+.1f} ± {d.stderr:.1f} "
                               f"{interval95(d.mean, d.stderr, d.seeds)}" for d in diffs)
                     + f" | {len(mlp)} |")
    atomic_write_text(args.results / "mlp_bc.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Offline-RL benchmark: BC vs IDQL vs SWG vs SWG-R, same data, same model, same budget.

CPU suite (default): locally collected PointMaze UMaze and Medium (sparse and dense; D4RL's
maze2d recipe, recreated from fixed seeds when missing) and D4RL's real `door-human-v0`
(Fu et al., 2020; demonstrations of Rajeswaran et al., 2018, DAPG; CC BY 4.0), read from the
shared data folder. For every dataset and seed one run trains the values and ONE diffusion
model over `[a, w]`; the four methods are four ways of acting with it:

- BC: the model unguided (the behaviour policy),
- IDQL: N unguided candidates, the best by Q,
- SWG: self-weighted guidance at the preset's scale,
- SWG-R: N guided candidates, the best by Q.

So the data, the networks and the training budget are identical by construction.

    nice -n 19 python benchmarks/rl.py                 # CPU suite, 3 seeds
    nice -n 19 python benchmarks/rl.py --full          # the paper's budgets and datasets

Results go to `benchmarks/results/rl/` (Markdown, CSV, JSON) and are rewritten after every
finished (dataset, seed), so an interrupted benchmark still leaves a table; rerunning resumes
from the run directories (finished stages are loaded, evaluations are redone).
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import selfguide_rl as sgrl  # noqa: E402
from selfguide_rl._pipeline import atomic_write_text, write_csv  # noqa: E402

DOOR_FILE = ROOT.parent / "shared" / "data" / "d4rl_door-human-v0" / "door-v0_demos_clipped.hdf5"

# name: (source, collection task, collection steps) — collection seed 0, 50 reference episodes.
POINTMAZE = {
    "pointmaze-umaze": 200_000,
    "pointmaze-umaze-dense": 200_000,
    "pointmaze-medium": 300_000,
    "pointmaze-medium-dense": 300_000,
}
# Published D4RL normalised scores for door-human-v0 (v0 data, original mujoco-py env):
# IQL paper (Kostrikov et al., 2022), Table 3: BC 2.0, CQL 9.9, IQL 4.3.
DOOR_PUBLISHED = {"BC (IQL paper)": 2.0, "CQL (IQL paper)": 9.9, "IQL (IQL paper)": 4.3}
# The paper's D4RL datasets (Minari ports), tried with --full where they can be loaded.
FULL_MINARI = (
    "mujoco/halfcheetah/medium-v0", "mujoco/hopper/medium-v0", "mujoco/walker2d/medium-v0",
    "D4RL/antmaze/umaze-v1", "D4RL/antmaze/medium-diverse-v1", "D4RL/kitchen/complete-v2",
    "D4RL/door/human-v2",
)
METHODS = ("bc", "idql", "swg", "swg-r")


def ensure_pointmaze(root: Path, name: str, steps: int) -> str:
    dataset_id = f"selfguide/{name}-v0"
    if not (root / dataset_id / "data").exists():
        print(f"collecting {name} ({steps:,} steps, seed 0) into {root}", flush=True)
        sgrl.collect_pointmaze(name, steps=steps, seed=0, root=root, ref_episodes=50,
                               overwrite=True)
    return dataset_id


def summarise(rows: list[dict]) -> dict:
    """Per dataset and method: the mean over seeds of each seed's mean episode score, its
    standard error over seed means, and the paired difference to BC on the same seeds."""
    out = {}
    for r in rows:
        out.setdefault(r["dataset"], {}).setdefault(r["method"], {})[r["seed"]] = r
    table = {}
    for ds, by_method in out.items():
        table[ds] = {}
        bc = {s: r["scores"] for s, r in by_method.get("bc", {}).items()}
        for m, by_seed in by_method.items():
            scores = {s: r["scores"] for s, r in by_seed.items()}
            summary = sgrl.seed_summary(scores)
            entry = {"mean": summary.mean, "se": summary.stderr,
                     "episodes": int(sum(len(v) for v in scores.values())),
                     "seeds": sorted(scores), "per_seed": [summary.seed_means[s]
                                                           for s in sorted(scores)],
                     "eval_seconds": float(sum(r["eval_seconds"] for r in by_seed.values()))}
            if bc and m != "bc" and set(bc) & set(scores):
                diff = sgrl.paired_difference(scores, bc)
                entry.update(minus_bc=diff.mean, minus_bc_se=diff.stderr)
            table[ds][m] = entry
    return table


def mean_se(mean: float, se: float) -> str:
    return f"{mean:.1f}" if not np.isfinite(se) else f"{mean:.1f} ± {se:.1f}"


def method_key(method: str, scale: float, scales: tuple[float, ...] | None) -> str:
    """A table column: the method, with its guidance scale when several are evaluated."""
    return method if scales is None or method not in ("swg", "swg-r") else f"{method}@{scale:g}"


def method_columns(rows: list[dict]) -> list[str]:
    """Columns in the order BC, IDQL, SWG (by scale), SWG-R (by scale)."""
    def order(m: str) -> tuple[int, float]:
        name, _, scale = m.partition("@")
        return METHODS.index(name), float(scale or 0)
    return sorted({r["method"] for r in rows}, key=order)


def label(method: str) -> str:
    name, _, scale = method.partition("@")
    return name.upper() + (f" ρ={scale}" if scale else "")


def write_results(out: Path, started: float) -> None:
    """Rebuild the tables from every process's part file."""
    rows, runs, budgets, notes, wall, command = [], [], {}, [], 0.0, ""
    for f in sorted((out / "parts").glob("*.json")):
        d = json.loads(f.read_text())
        rows += d["rows"]
        runs += d["runs"]
        budgets.update(d["budgets"])
        notes += [n for n in d["notes"] if n not in notes]
        wall = max(wall, d["seconds"])
        command = command or d.get("command", "python benchmarks/rl.py")
    rows.sort(key=lambda r: (r["dataset"], r["method"], r["seed"]))
    table = summarise(rows)
    methods = method_columns(rows)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}"
    lines = [
        "# Offline RL: BC vs IDQL vs SWG vs SWG-R",
        "",
        f"Command: `{command}`, one process per seed list, in parallel (the processes share "
        "these tables; `--seeds 3` runs the same sequentially).",
        f"Machine: {machine}; shared with other jobs, so wall times are upper bounds.",
        f"Wall time: {wall / 60:.1f} min for {len(runs)} (dataset, seed) runs.",
        "",
        "Normalised score (D4RL convention: 0 random policy, 100 expert; for the local "
        "PointMaze datasets 100 is the noise-free waypoint controller): the mean over seeds of "
        "each seed's mean episode score, ± the standard error of the seed means; "
        "'− BC' is the difference to BC paired by seed, with its seed-level standard error. "
        "One value stage and one diffusion model per (dataset, seed) "
        "serve all four methods, so data, networks and training budget are identical.",
        "",
        "| dataset | " + " | ".join(label(m) for m in methods) + " | seeds × episodes |",
        "|---|" + "---|" * (len(methods) + 1),
    ]
    for ds, by_method in table.items():
        cells = [mean_se(by_method[m]["mean"], by_method[m]["se"]) if m in by_method
                 else "–" for m in methods]
        any_m = next(iter(by_method.values()))
        lines.append(f"| {ds} | " + " | ".join(cells)
                     + f" | {len(any_m['seeds'])} × {any_m['episodes'] // len(any_m['seeds'])} |")
    lines += ["", "## Budgets", "",
              "| dataset | τ | weight | ρ | N | value steps (batch) | diffusion steps (batch) "
              "| network | T | train s / seed |", "|---|---|---|---|---|---|---|---|---|---|"]
    for ds, b in budgets.items():
        ds_runs = [r for r in runs if r["dataset"] == ds]
        t_train = np.mean([r["train_seconds"] for r in ds_runs]) if ds_runs else float("nan")
        lines.append(
            f"| {ds} | {b['tau']} | {b['weight']} | {b['guidance_scale']} | "
            f"{b['num_candidates']} | {b['value_steps']:,} ({b['value_batch']}) | "
            f"{b['diffusion_steps']:,} ({b['diffusion_batch']}) | {b['network']} | {b['T']} | "
            f"{t_train:.0f} |"
        )
    lines += ["", "Value networks: twin Q and V, MLP 256-256 (V with input LayerNorm), Adam 3e-4, "
              "γ 0.99, Polyak 0.005. Diffusion: AdamW 3e-4 cosine, EMA 0.999, DDPM at "
              "temperature 0, actions clipped to [-1, 1], weight to [1e-4, 1]. "
              "Evaluation: 10 parallel episodes per seed (SyncVectorEnv), batched action call.",
              ""]
    for ds, by_method in table.items():
        lines += [f"## {ds}", "",
                  "| method | score | − BC (paired) | episodes | seeds | per-seed means |",
                  "|---|---|---|---|---|---|"]
        for m in methods:
            if m in by_method:
                t = by_method[m]
                vs_bc = (mean_se(t["minus_bc"], t["minus_bc_se"]) if "minus_bc" in t
                         else "–")
                lines.append(
                    f"| {label(m)} | {mean_se(t['mean'], t['se'])} | {vs_bc} | "
                    f"{t['episodes']} | {len(t['seeds'])} | "
                    f"{', '.join(f'{x:.1f}' for x in t['per_seed'])} |"
                )
        if ds.startswith("door"):
            lines += ["", "Published (door-human-v0, original D4RL environment): "
                      + ", ".join(f"{k} {v}" for k, v in DOOR_PUBLISHED.items()) + "."]
        ds_runs = [r for r in runs if r["dataset"] == ds]
        if ds_runs:
            lines += ["", "Weights (advantage statistics per seed): " + "; ".join(
                f"seed {r['seed']}: A>0 {r['weights']['frac_adv_pos']:.3f}, "
                f"A std {r['weights']['adv_std']:.3f}" for r in ds_runs)]
        lines.append("")
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.md", "\n".join(lines))
    flat = [{"dataset": d, "method": m, **{k: v for k, v in t.items() if k != "per_seed"},
             "per_seed": " ".join(f"{x:.2f}" for x in t["per_seed"])}
            for d, bm in table.items() for m, t in bm.items()]
    write_csv(out / "results.csv",
              ("dataset", "method", "mean", "se", "minus_bc", "minus_bc_se", "episodes", "seeds",
               "per_seed", "eval_seconds"), flat)
    atomic_write_text(out / "results.json", json.dumps(
        {"command": sys.argv, "machine": machine, "wall_seconds": wall, "budgets": budgets,
         "table": table, "runs": runs, "episodes": rows, "notes": notes,
         "door_published": DOOR_PUBLISHED}, indent=1, default=float))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed-list", default=None,
                        help="comma-separated seeds for this process (overrides --seeds); run "
                             "one process per seed to use idle cores, they share the tables")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per seed")
    parser.add_argument("--full", action="store_true", help="the paper's budgets and datasets")
    parser.add_argument("--scales", default=None,
                        help="comma-separated guidance scales for SWG and SWG-R (default: the "
                             "preset's); each is a column of the tables")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated subset (pointmaze-umaze, ..., door-human)")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "rl-bench")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "rl")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="FIELD=VALUE", help="preset override for every run")
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild the tables from the finished parts and exit")
    args = parser.parse_args(argv)
    if args.report_only:
        write_results(args.out, time.perf_counter())
        return 0
    overrides = {}
    for text in args.overrides:
        k, v = text.split("=", 1)
        overrides[k] = json.loads(v)

    minari_root = (args.work / "minari").resolve()
    suite: dict[str, tuple[str, str | None]] = {}
    notes: list[str] = []
    if args.full:
        for mid in FULL_MINARI:
            try:
                sgrl.load_minari(mid, download=True, root=minari_root)
                suite[mid.replace("/", "_")] = (mid, None)
            except Exception as err:  # noqa: BLE001  (report and go on)
                notes.append(f"{mid}: not loadable here ({type(err).__name__}: "
                             f"{str(err)[:160]}...)")
    else:
        for name in POINTMAZE:
            suite[name] = (f"selfguide/{name}-v0", None)
    if DOOR_FILE.is_file():
        suite["door-human-v0"] = (str(DOOR_FILE), "door-human-v0")
    else:
        notes.append(f"door-human-v0: file not found at {DOOR_FILE}")
    if args.datasets:
        wanted = [d.strip() for d in args.datasets.split(",")]
        suite = {k: v for k, v in suite.items() if any(k.startswith(w) for w in wanted)}

    scales = None if args.scales is None else tuple(float(x) for x in args.scales.split(","))
    given = list(argv if argv is not None else sys.argv[1:])
    if "--seed-list" in given:
        given[given.index("--seed-list") + 1] = "K"
    command = " ".join(["nice -n 19 python benchmarks/rl.py", *given])
    started = time.perf_counter()
    rows, runs, budgets = [], [], {}
    seeds = (list(range(args.seeds)) if args.seed_list is None
             else [int(x) for x in args.seed_list.split(",")])
    part = args.out / "parts" / f"seeds-{'-'.join(map(str, seeds))}.json"

    def save() -> None:
        """This process's part, then the tables from every part (resumable per run)."""
        atomic_write_text(part, json.dumps({"rows": rows, "runs": runs, "budgets": budgets,
                                            "notes": notes, "command": command,
                                            "seconds": time.perf_counter() - started}))
        write_results(args.out, started)

    for seed in seeds:
        for name, (source, dataset_id) in suite.items():
            run_dir = args.work / "runs" / name / f"seed{seed}"
            t0 = time.perf_counter()
            try:  # a dataset or environment that cannot be built is a note, not the end
                if name in POINTMAZE:
                    ensure_pointmaze(minari_root, name, POINTMAZE[name])
                agent = sgrl.train_run(source, run_dir, seed=seed, dataset_id=dataset_id,
                                       full=args.full, overrides=overrides, root=minari_root,
                                       progress=False)
                train_s = time.perf_counter() - t0
                results = sgrl.evaluate_agent(agent, methods=METHODS, scales=scales,
                                              seeds=(seed,), episodes=args.episodes)
            except Exception as err:  # noqa: BLE001  (report and go on)
                note = f"{name} seed {seed}: failed ({type(err).__name__}: {str(err)[:200]})"
                notes.append(note)
                print(note, flush=True)
                save()
                continue
            p = agent.preset
            budgets[name] = {
                "preset": p.name, "tau": p.values.tau, "weight": p.weight,
                "guidance_scale": ", ".join(f"{x:g}" for x in (scales or (p.guidance_scale,))),
                "num_candidates": p.num_candidates,
                "value_steps": p.values.steps, "value_batch": p.values.batch_size,
                "value_hidden": list(p.values.hidden),
                "diffusion_steps": p.policy.steps, "diffusion_batch": p.policy.batch_size,
                "network": f"LN-ResNet width {p.policy.width}, {p.policy.num_blocks} blocks x"
                           f"{p.policy.expansion}, weight head after block "
                           f"{p.policy.weight_head_at}",
                "T": p.policy.diffusion_steps, "temperature": 0.0,
                "eval_episodes_per_seed": args.episodes,
            }
            for r in results:
                rows.append({"dataset": name, "method": method_key(r.method, r.scale, scales),
                             "seed": seed,
                             "scale": r.scale, "scores": r.scores.tolist(),
                             "returns": r.returns.tolist(), "eval_seconds": r.seconds})
            runs.append({"dataset": name, "seed": seed, "train_seconds": train_s,
                         "eval_seconds": sum(r.seconds for r in results),
                         "weights": {k: round(v, 4) for k, v in agent.weight_stats.items()
                                     if k != "train_seconds_this_call"}})
            print(f"[{(time.perf_counter() - started) / 60:5.1f} min] {name} seed {seed}: "
                  + ", ".join(f"{method_key(r.method, r.scale, scales)} {r.mean:.1f}"
                              for r in results)
                  + f" (train {train_s:.0f} s)", flush=True)
            save()
    return 0


if __name__ == "__main__":
    sys.exit(main())

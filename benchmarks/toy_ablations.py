"""What makes the β-conditioned toy model learn `q` at the CPU budget? Measured ablations.

Each configuration is a fixed base (`BASE`, the reference's recipe) with some fields
changed (`CONFIGS`, or `--config LABEL FIELD=VALUE ...`); `Budget()`'s defaults are the
best row. For every toy it trains the SWG model (seed 0, cached),
then scores, against exact draws with the metric's noise floor beside it:

- the *unguided* model at β = 0 against `q` (does the model learn the data?),
- SWG (DDPM, ρ = 1) at β = 3 and β = 10 against `p_β`.

A cell passes when every metric is within 2× its floor (`value ≤ 2 · max(floor,
floor_std)`), the test of `benchmarks/toys.py`. The same test applied to exact draws
(`exact/<toy>.json`) says how often a perfect model would pass each cell. Printed and
written per configuration: the training seconds per toy, unguided cells passed (of 6),
SWG cells passed (of 12), and the geometric mean over all metrics of
`value / max(floor, floor_std)` (lower is better; 1 is as good as exact sampling at this
sample size; each ratio clipped to [1e-6, 1e3]). One JSON file per (configuration, toy)
under `benchmarks/results/toys/ablations/`, so an interrupted run resumes; `ablations.md`
is rebuilt from them. `--seed 1 --out benchmarks/results/toys/ablations-seed1` replicates a
row with other training and sampling seeds (table `ablations-seed1.md`).

    python benchmarks/toy_ablations.py                 # every configuration in CONFIGS
    python benchmarks/toy_ablations.py --only lr1e-3   # one of them
    python benchmarks/toy_ablations.py --config mine learning_rate=1e-3 steps=8000
"""

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfguide import toys  # noqa: E402
from selfguide.checkpoint import atomic_write_text  # noqa: E402
from selfguide.toys._command import budget_overrides  # noqa: E402
from selfguide.toys._run import Budget, draw, train_swg  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "toys" / "ablations"
BETAS = (3.0, 10.0)
# The configurations are changes to one fixed base, the reference's recipe (the first
# default): AdamW at 3e-4, 4000 steps, the weight channel's loss weight 2, the weight iterate
# clipped every step, no input features. `Budget()` is the best row.
BASE = Budget(steps=4000, learning_rate=3e-4, weight_loss=2.0, clip_weight=True,
              input_features=0, time_power=1.0)
# The 8000-step recipe that the Fourier-feature rows start from (the default before them).
_RECIPE = {"learning_rate": "3e-3", "weight_loss": "1", "steps": "8000", "clip_weight": "false"}
_FOURIER_12K = {**_RECIPE, "input_features": "64", "input_feature_scale": "0.5",
                "steps": "12000"}
# label -> Budget fields changed from BASE (read as `--set` values).
CONFIGS: dict[str, dict[str, str]] = {
    "reference": {},
    "lr1e-3": {"learning_rate": "1e-3"},
    "lr3e-3": {"learning_rate": "3e-3"},
    "lr1e-2": {"learning_rate": "1e-2"},
    "lr3e-3-wloss1": {"learning_rate": "3e-3", "weight_loss": "1"},
    "lr3e-3-ema0.995": {"learning_rate": "3e-3", "ema_decay": "0.995"},
    "lr3e-3-batch1024": {"learning_rate": "3e-3", "batch_size": "1024"},
    "lr3e-3-steps8000": {"learning_rate": "3e-3", "steps": "8000"},
    "lr3e-3-wloss0.5": {"learning_rate": "3e-3", "weight_loss": "0.5"},
    "lr3e-3-wloss1-steps8000": {"learning_rate": "3e-3", "weight_loss": "1", "steps": "8000"},
    # Sampling only (the models above, from the cache): the weight iterate's clip, ŵ0's
    # upper clip, the number of DDPM steps.
    **{f"lr3e-3-wloss1-steps8000+{label}": {"learning_rate": "3e-3", "weight_loss": "1",
                                            "steps": "8000", **change}
       for label, change in (("no-weight-clip", {"clip_weight": "false"}),
                             ("no-clip-max", {"clip_max": "null"}),
                             ("sample-steps200", {"sample_steps": "200"}))},
    # That recipe (the line above with no weight clip) with a heavier weight channel.
    **{f"lr3e-3-wloss{w}-steps8000+no-weight-clip": {"learning_rate": "3e-3", "weight_loss": w,
                                                     "steps": "8000", "clip_weight": "false"}
       for w in ("3", "10")},
    # The recipe with 64 random Fourier features of x_t (frequencies of standard deviation
    # 0.5, 1 or 2 cycles per unit), then the best of those with 12,000 steps or a heavier
    # weight channel.
    **{f"fourier64-s{scale}": {**_RECIPE, "input_features": "64", "input_feature_scale": scale}
       for scale in ("0.5", "1", "2")},
    "fourier64-s0.5-steps12000": _FOURIER_12K,
    "fourier64-s0.5-wloss3": {**_RECIPE, "input_features": "64", "input_feature_scale": "0.5",
                              "weight_loss": "3"},
    # That recipe with ŵ0's lower clip before the log at 1e-8 instead of the reference's 1e-4
    # (sampling only), and with the weight output predicting log ŵ0 (LogWeights), with either
    # clip.
    "fourier64-s0.5-steps12000+clip-min1e-8": {**_FOURIER_12K, "clip_min": "1e-8"},
    "log-weights": {**_FOURIER_12K, "weight_output": "log"},
    "log-weights+clip-min1e-8": {**_FOURIER_12K, "weight_output": "log", "clip_min": "1e-8"},
    # The divergence is about half the squared error near ŵ = w ≈ 1: the weight loss doubled.
    "log-weights-wloss2": {**_FOURIER_12K, "weight_output": "log", "weight_loss": "2"},
    # The default recipe with more low-noise training times: τ = 10⁻³ + (1 − 10⁻³) u², u ~ U[0, 1].
    "time-power2": {**_FOURIER_12K, "time_power": "2"},
    # The default recipe with β fed as 4 sine/cosine pairs beside β / β_max (the weight
    # channel is a different, sharp function of x at every β), and with the weight channel
    # three times larger (g · w / c(β): it stands out of the noise at higher noise levels).
    "beta-fourier4": {**_FOURIER_12K, "beta_features": "4"},
    "weight-gain3": {**_FOURIER_12K, "weight_gain": "3"},
    # The default recipe with one weight channel per reported β (3, 10, 20) and no β input:
    # every training draw teaches every channel (β-conditioning gives each β a 1/24 share of
    # the draws), at the price of guiding only at those βs; then with each channel's loss
    # weight a third, so the three weigh what the one did.
    "beta-channels3": {**_FOURIER_12K, "beta_channels": "[3, 10, 20]"},
    "beta-channels3-wloss0.33": {**_FOURIER_12K, "beta_channels": "[3, 10, 20]",
                                 "weight_loss": "0.3333"},
}


def ratio(report) -> float:
    """value / max(floor, floor_std); a zero floor (exact draws always agree, e.g. all mass
    in one energy level) passes only an exact value."""
    floor = max(report.floor, report.floor_std)
    if floor <= 0:
        return 0.0 if report.value <= 0 else float("inf")
    return report.value / floor


CELLS = [("unguided β 0", "unguided", 0.0)] + [(f"swg β {b:g}", "swg-ddpm", b) for b in BETAS]
EXACT_DRAWS = 8


def scored(dataset: str, x: np.ndarray, beta: float) -> dict:
    """Every metric of one sample of `p_β` against the cell's reference draw and floor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = toys.evaluate_many(dataset, {"x": x}, beta, rng=np.random.default_rng(3))["x"]
    return {name: {"value": r.value, "floor": max(r.floor, r.floor_std), "ratio": ratio(r)}
            for name, r in rep.items()}


def score(dataset: str, budget: Budget, cache: Path, seed: int = 0, draws: int = 1) -> dict:
    """One toy's cells for the model of training seed `seed`, sampled with seed `5 + seed`
    (and, for `draws > 1`, also with `5 + seed + 1000 j`, j = 1 … draws − 1: `"draws"` holds
    every draw's cells, `"cells"` the first's)."""
    start = time.perf_counter()
    model, cost = train_swg(dataset, budget, cache_dir=cache, seed=seed, progress=False)
    train_s = time.perf_counter() - start
    every = [{label: scored(dataset, draw(method, dataset, model, beta, budget,
                                          seed=5 + seed + 1000 * j), beta)
              for label, method, beta in CELLS} for j in range(draws)]
    return {"dataset": dataset, "seed": seed, "train_seconds": cost.seconds,
            "loaded": train_s < 1.0, "cells": every[0]} | ({"draws": every} if draws > 1 else {})


def exact_calibration(dataset: str, budget: Budget) -> dict:
    """The same test applied to exact draws (rejection sampling, `EXACT_DRAWS` of them per
    cell): the share of draws that pass each cell, i.e. what a perfect model would score."""
    shares = {}
    for label, _, beta in CELLS:
        passed = [passes(scored(dataset, toys.sample_target(
            dataset, beta, budget.num_samples, rng=np.random.default_rng([k, 77]),
            method="rejection")[0], beta)) for k in range(EXACT_DRAWS)]
        shares[label] = float(np.mean(passed))
    return {"dataset": dataset, "pass_share": shares}


def passes(cell: dict) -> bool:
    return all(m["ratio"] <= 2.0 for m in cell.values())


def write_table(out: Path) -> str:
    parts = [json.loads(f.read_text()) for f in sorted(out.glob("*.json"))]
    by_config: dict[str, list[dict]] = {}
    for p in parts:
        by_config.setdefault(p["config"], []).append(p)
    order = [c for c in CONFIGS if c in by_config] + [c for c in by_config if c not in CONFIGS]
    seeds = sorted({p.get("seed", 0) for p in parts})
    lines = [
        "# Toy ablations: what makes the β-conditioned model learn `q`",
        "",
        "Command: `python benchmarks/toy_ablations.py` (see its docstring). Machine: "
        f"{platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs: the "
        "seconds compare configurations only roughly). Training seed "
        f"{', '.join(map(str, seeds))} per toy (sampling seed 5 + it); 1000 samples per "
        "cell, scored against exact draws; a cell passes when every metric is within 2× "
        "its noise floor. Ratio: geometric mean over the cell's metrics of value / floor. "
        "Changes are from the reference's recipe (AdamW 3e-4, 4000 steps, weight loss 2, the "
        "weight iterate clipped, no input features, uniform training times); the current "
        "`Budget()` defaults are the row `fourier64-s0.5-steps12000`. Ratios are clipped "
        "to [1e-6, 1e3] before the mean; the last two columns clip them below at 0.5 "
        "instead (a metric under half its floor is as good as exact), so that MMD² "
        "estimates that come out negative by sampling noise (ratio ≤ 0, clipped to 1e-6) "
        "do not dominate the mean.",
        "",
        "| configuration | changes | toys | train s / toy | unguided cells ✓ | SWG cells ✓ "
        "(β 3, 10) | unguided ratio | SWG ratio | unguided ratio (≥ ½) | SWG ratio (≥ ½) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in order:
        ps = by_config[c]
        draws = [p.get("draws", [p["cells"]]) for p in ps]  # per toy, its draws' cells
        n_draws = min(len(d) for d in draws)
        ung = [d["unguided β 0"] for ds in draws for d in ds[:n_draws]]
        swg = [d[f"swg β {b:g}"] for ds in draws for d in ds[:n_draws] for b in BETAS]
        gm = lambda cells, low=1e-6: float(np.exp(np.mean(
            [np.log(min(max(m["ratio"], low), 1e3)) for cell in cells for m in cell.values()])))
        count = lambda cells, n=n_draws: (f"{sum(map(passes, cells))}/{len(cells)}" if n == 1
                                          else f"{sum(map(passes, cells)) / n:.1f}/"
                                               f"{len(cells) // n}")
        changes = ", ".join(f"{k}={v}" for k, v in ps[0]["changes"].items()) or "–"
        lines.append(f"| {c} | {changes} | {len(ps)} | "
                     f"{np.mean([p['train_seconds'] for p in ps]):.0f} | "
                     f"{count(ung)} | {count(swg)} | {gm(ung):.2f} | {gm(swg):.2f} | "
                     f"{gm(ung, 0.5):.2f} | {gm(swg, 0.5):.2f} |")
    lines += ["", "## Per toy: worst metric ratio (unguided β 0; SWG β 3; SWG β 10; the median "
              "over the draws where there are several)", "",
              "| configuration | " + " | ".join(toys.DATASETS) + " |",
              "|---|" + "---|" * len(toys.DATASETS)]
    for c in order:
        got = {p["dataset"]: p for p in by_config[c]}
        cells = []
        for d in toys.DATASETS:
            if d not in got:
                cells.append("–")
                continue
            worst = [float(np.median([max(m["ratio"] for m in cells[k].values())
                                      for cells in got[d].get("draws", [got[d]["cells"]])]))
                     for k in (label for label, _, _ in CELLS)]
            cells.append(" / ".join(f"{w:.1f}" for w in worst))
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    exact = [json.loads(f.read_text()) for f in sorted((out / "exact").glob("*.json"))]
    if exact:
        share = {e["dataset"]: e["pass_share"] for e in exact}
        swg_share = sum(v for e in share.values() for k, v in e.items() if k != "unguided β 0")
        lines += ["", "## Exact sampling under the same test", "",
                  f"The cells' test applied to {EXACT_DRAWS} exact draws of `p_β` per cell "
                  "(rejection sampling, the same size, reference draw and floors): the share "
                  "of draws that pass. A perfect model would pass about this often; the "
                  "expected number of cells an exact sampler passes is "
                  f"{sum(e['unguided β 0'] for e in share.values()):.2f} of {len(share)} "
                  "(unguided) and "
                  f"{swg_share:.2f} of {len(BETAS) * len(share)} (SWG).", "",
                  "| toy | " + " | ".join(label for label, _, _ in CELLS) + " |",
                  "|---|" + "---|" * len(CELLS)]
        lines += [f"| {d} | " + " | ".join(f"{share[d][label]:.3f}" for label, _, _ in CELLS)
                  + " |" for d in toys.DATASETS if d in share]
    text = "\n".join(lines) + "\n"
    atomic_write_text(out.parent / f"{out.name}.md", text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=None, help="labels of CONFIGS to run")
    parser.add_argument("--config", nargs="+", default=None, metavar="LABEL FIELD=VALUE",
                        help="one configuration of your own: a label, then Budget fields")
    parser.add_argument("--datasets", nargs="+", default=list(toys.DATASETS))
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "toy-ablations-cache")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="the folder of the part files; the table is written beside it "
                        "as <folder name>.md")
    parser.add_argument("--seed", type=int, default=0,
                        help="the models' training seed (a replicate: give it its own --out)")
    parser.add_argument("--draws", type=int, default=1,
                        help="sampling seeds per cell (more than 1: give it its own --out); "
                        "the table then counts the cells passed per draw, on average")
    args = parser.parse_args(argv)
    if args.config:
        configs = {args.config[0]: dict(p.split("=", 1) for p in args.config[1:])}
    else:
        configs = {k: v for k, v in CONFIGS.items() if args.only is None or k in args.only}
    budgets = {}
    for label, changes in configs.items():  # every configuration checked before any work
        try:
            fields = budget_overrides([f"{k}={v}" for k, v in changes.items()],
                                      call="toy_ablations")
            budgets[label] = dataclasses.replace(BASE, **fields)
        except (ValueError, TypeError) as err:
            raise SystemExit(str(err)) from None
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "exact").mkdir(exist_ok=True)
    for dataset in args.datasets:  # no training: seconds per toy
        path = args.out / "exact" / f"{dataset}.json"
        if not path.exists():
            atomic_write_text(path, json.dumps(exact_calibration(dataset, Budget()), indent=1))
    for label, budget in budgets.items():
        for dataset in args.datasets:
            path = args.out / f"{label}__{dataset}.json"
            if path.exists():
                continue
            part = score(dataset, budget, args.cache, args.seed, args.draws) | {
                "config": label, "changes": configs[label]}
            atomic_write_text(path, json.dumps(part, indent=1))
            u = part["cells"]["unguided β 0"]
            print(f"{label} {dataset}: train {part['train_seconds']:.0f} s; unguided "
                  + ", ".join(f"{k} {m['ratio']:.1f}×" for k, m in u.items()), flush=True)
        print(write_table(args.out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What makes SWG on the digits exact at ρ = 1 and close to the real images? Measured ablations.

Each configuration is the default `ConditionalConfig` with some fields changed (`CONFIGS`),
run without the label-conditioned model, the resampling baselines and the channel mix (the
joint SWG model only: its unguided samples and SWG at ρ = 1, 2, 4, 144 samples per class).
Scored by the experiment's judge as in `benchmarks/conditional.py`. One JSON file per
configuration under `benchmarks/results/conditional/ablations/`, so an interrupted run
resumes; `ablations.md` is rebuilt from them.

    nice -n 19 .venv/bin/python benchmarks/conditional_ablations.py            # all of CONFIGS
    nice -n 19 .venv/bin/python benchmarks/conditional_ablations.py --only wloss3
"""

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

from selfguide.checkpoint import atomic_write_text
from selfguide.conditional import ConditionalConfig, run_conditional

OUT = Path(__file__).parent / "results" / "conditional" / "ablations"
SCALES = (1.0, 2.0, 4.0)
# label -> ConditionalConfig fields changed from the default.
CONFIGS: dict[str, dict] = {
    "lr1e-3-wloss1": {"learning_rate": 1e-3, "weight_loss": 1.0},
    "wloss1": {"weight_loss": 1.0},
    "wloss3": {"weight_loss": 3.0},
    "wloss10": {"weight_loss": 10.0},
    "default": {},
    "wloss100": {"weight_loss": 100.0},
    "continuous": {"discrete_decoder": False},
    "T100": {"diffusion_steps": 100},
    "large-variance": {"variance": "large"},
}


def run(label: str, changes: dict) -> dict:
    config = dataclasses.replace(ConditionalConfig(), scales=SCALES, class_conditional=False,
                                 resample_candidates=0, mix=(), **changes)
    start = time.perf_counter()
    results = run_conditional(config, log=lambda _: None)
    rows = {name: m.mean() for name, m in results.metrics.items()}
    return {"config": label, "changes": changes, "wall_seconds": time.perf_counter() - start,
            "train_seconds": results.seconds["train joint model"], "rows": rows}


def write_table(out: Path) -> str:
    parts = {p["config"]: p for p in map(lambda f: json.loads(f.read_text()),
                                         sorted(out.glob("*.json")))}
    order = [c for c in CONFIGS if c in parts] + [c for c in parts if c not in CONFIGS]
    default = ConditionalConfig()
    lines = [
        "# Digits ablations: the joint SWG model",
        "",
        "Command: `nice -n 19 .venv/bin/python benchmarks/conditional_ablations.py`. Machine: "
        f"{platform.machine()}, {os.cpu_count()} CPU cores (shared with other jobs). Each "
        "row: the default `ConditionalConfig` (learning rate "
        f"{default.learning_rate:g}, weight loss {default.weight_loss:g}, T = "
        f"{default.diffusion_steps}, {default.variance} variance, discrete decoder "
        f"{'on' if default.discrete_decoder else 'off'}, {default.steps} steps, MLP "
        f"{default.width}×{default.depth}) with the changes shown; seed {default.seed}; "
        f"{default.samples_per_class} samples per class. Judge accuracy / Fréchet (first 10 "
        "judge features, against the real test images) / diversity, averaged over classes; "
        "the real held-out images score "
        + (lambda r: f"{100 * r['accuracy']:.1f}% / {r['frechet']:.2f} / {r['diversity']:.2f}")(
            next(iter(parts.values()))["rows"]["real held-out"]) + ".",
        "",
        "| configuration | changes | train s | unguided Fréchet | "
        + " | ".join(f"SWG ρ={s:g}" for s in SCALES) + " |",
        "|---|---|---|---|" + "---|" * len(SCALES),
    ]
    for c in order:
        p = parts[c]
        changes = ", ".join(f"{k}={v}" for k, v in p["changes"].items()) or "–"
        cells = []
        for s in SCALES:
            r = p["rows"][f"SWG ρ={s:g}"]
            cells.append(f"{100 * r['accuracy']:.1f}% / {r['frechet']:.2f} / "
                         f"{r['diversity']:.2f}")
        lines.append(f"| {c} | {changes} | {p['train_seconds']:.0f} | "
                     f"{p['rows']['unguided']['frechet']:.1f} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    atomic_write_text(out.parent / "ablations.md", text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=None, choices=list(CONFIGS),
                        help="labels of CONFIGS to run")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for label, changes in CONFIGS.items():
        path = args.out / f"{label}.json"
        if (args.only is not None and label not in args.only) or path.exists():
            continue
        part = run(label, changes)
        atomic_write_text(path, json.dumps(part, indent=1))
        one = part["rows"]["SWG ρ=1"]
        print(f"{label}: {part['wall_seconds']:.0f} s; SWG ρ=1 {100 * one['accuracy']:.1f}%, "
              f"Fréchet {one['frechet']:.2f}", flush=True)
    print(write_table(args.out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

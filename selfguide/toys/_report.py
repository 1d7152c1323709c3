"""Write a toy grid's results: the PNG figure, `metrics.csv` and `metrics.md`."""

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from ._run import METHOD_LABELS, GridResult, within

METRIC_ORDER = ("mode_tv", "energy_w1", "sliced_w2", "mmd2")


def write_csv(result: GridResult, path: Path) -> Path:
    """One row per (dataset, β, method, seed, metric): value, floor, floor_std, seconds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = [
        "dataset",
        "beta",
        "method",
        "seed",
        "metric",
        "value",
        "floor",
        "floor_std",
        "sample_seconds",
    ]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in result.rows:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
    return path


def summarise(result: GridResult) -> dict:
    """`{(dataset, β, method): {metric: (mean, std over seeds, floor, floor_std, passes)}}`."""
    groups: dict = defaultdict(lambda: defaultdict(list))
    floors: dict = {}
    for r in result.rows:
        key = (r["dataset"], r["beta"], r["method"])
        groups[key][r["metric"]].append(r["value"])
        floors.setdefault((r["dataset"], r["beta"], r["metric"]), []).append(
            (r["floor"], r["floor_std"])
        )
    out = {}
    for key, metrics in groups.items():
        out[key] = {}
        for name, values in metrics.items():
            fl = np.mean([f for f, _ in floors[(key[0], key[1], name)]])
            fs = np.mean([s for _, s in floors[(key[0], key[1], name)]])
            mean = float(np.mean(values))
            out[key][name] = (
                mean,
                float(np.std(values)),
                float(fl),
                float(fs),
                within(mean, fl, fs),
            )
    return out


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


NEGATIVE_FLOOR_MARK = "†"

DATASET_NOTES = {
    "moons": (
        "moons: mode_tv and energy_w1 nearly coincide because the energy is the arc label "
        "(0 outer, 1 inner). With p̂ the sample's inner fraction, energy_w1 = |p̂ − r̂| against "
        "the reference draw's inner fraction r̂ (Wasserstein-1 between two distributions on "
        "{0, 1}) and mode_tv = |p̂ − π_β| against the exact inner mass π_β (total variation "
        "over two modes), so they differ by at most the reference's own error |r̂ − π_β|: "
        "about the floor, and tiny at large β (π_β = 0.99995 at β = 10)."
    ),
}
"""Notes printed under the table when a toy is in it, by toy name."""


def _seed_counts(result: GridResult) -> dict[tuple[str, float, str], int]:
    """The number of sampling seeds behind each (dataset, β, method) cell."""
    seeds = defaultdict(set)
    for r in result.rows:
        seeds[(r["dataset"], r["beta"], r["method"])].add(r["seed"])
    return {key: len(s) for key, s in seeds.items()}


def _floor_cell(floor: float, floor_std: float) -> str:
    shown = f"0{NEGATIVE_FLOOR_MARK}" if floor < 0 else _fmt(floor)
    return f"*{shown} ± {_fmt(floor_std)}*"


def _method_cell(mean: float, std: float, num_seeds: int, passes: bool) -> str:
    spread = f" ± {_fmt(std)}" if num_seeds > 1 else ""
    return f"{_fmt(mean)}{spread}{' ✓' if passes else ''}"


def markdown_table(result: GridResult) -> str:
    """A Markdown table: each metric's mean over seeds (`mean ± std` for two or more), the
    noise floor above each dataset and β (a negative one shown as `0†`), ✓ where the mean is
    within 2× the floor. `table_legend` explains it."""
    summary = summarise(result)
    counts = _seed_counts(result)
    metrics = [m for m in METRIC_ORDER if any(m in v for v in summary.values())]
    head = "| dataset | β | method | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (3 + len(metrics))]
    seen_floor = set()
    for (dataset, beta, method), values in summary.items():
        if (dataset, beta) not in seen_floor:
            seen_floor.add((dataset, beta))
            cells = [_floor_cell(*values[m][2:4]) if m in values else "–" for m in metrics]
            lines.append(f"| {dataset} | {beta:g} | *noise floor* | " + " | ".join(cells) + " |")
        num_seeds = counts[(dataset, beta, method)]
        cells = []
        for m in metrics:
            if m not in values:
                cells.append("–")
                continue
            mean, std, _, _, ok = values[m]
            cells.append(_method_cell(mean, std, num_seeds, ok))
        label = METHOD_LABELS.get(method, method)
        if method == "resample":
            label += f" N={result.budget.resample_n}"
        lines.append(f"| {dataset} | {beta:g} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _seeds_note(num_seeds: int) -> str:
    if num_seeds == 1:
        return "Each cell: 1 seed of the sampler, so no ± (`--seeds N`: mean ± std over N seeds)."
    return f"Each cell: mean ± std over {num_seeds} seeds of the sampler."


FLOOR_NOTE = (
    "*noise floor*: the same metric between two independent exact draws of the target, each "
    "of the sample's size (mean ± std over several such pairs): what a perfect sampler would "
    "typically score."
)
CHECK_NOTE = (
    "✓: the mean is at most 2 × max(floor, floor std), i.e. within twice what exact sampling "
    "scores; the std stands in where the floor is near or below 0 (MMD²)."
)


def _negative_floor_note(metrics: list[str]) -> str:
    return (
        f"{NEGATIVE_FLOOR_MARK} shown as 0: the floor's unbiased estimate ({', '.join(metrics)}) "
        "came out below 0, so the floor is indistinguishable from 0 (metrics.csv keeps the raw "
        "value)."
    )


def _metrics_with_negative_floor(summary: dict) -> list[str]:
    """The metrics whose floor (as `markdown_table` shows it) is below 0 somewhere."""
    negative = {name for values in summary.values() for name, v in values.items() if v[2] < 0}
    return [m for m in METRIC_ORDER if m in negative]


def table_legend(result: GridResult) -> str:
    """The notes under `markdown_table`, as a Markdown list: the seeds behind a cell, the
    noise floor, ✓, and (when the table has them) negative floors and the notes of its toys
    in `DATASET_NOTES`."""
    num_seeds = max(_seed_counts(result).values(), default=1)
    notes = [_seeds_note(num_seeds), FLOOR_NOTE, CHECK_NOTE]
    negative = _metrics_with_negative_floor(summarise(result))
    if negative:
        notes.append(_negative_floor_note(negative))
    datasets = dict.fromkeys(r["dataset"] for r in result.rows)
    notes += [DATASET_NOTES[d] for d in datasets if d in DATASET_NOTES]
    return "\n".join(f"- {note}" for note in notes)


def cost_table(result: GridResult) -> str:
    """Training cost per dataset: SWG (one network) against CEP (q-model + energy network)."""
    lines = [
        "| dataset | SWG: steps | SWG: s | SWG: params | CEP energy net: steps | "
        "CEP energy net: s | CEP energy net: params | CEP total s (q-model + energy) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, c in result.costs.items():
        s = c["swg"]
        e = c.get("cep")
        if e is None:
            lines.append(
                f"| {dataset} | {s.steps} | {s.seconds:.0f} | {s.params} | – | – | – | – |"
            )
        else:
            lines.append(
                f"| {dataset} | {s.steps} | {s.seconds:.0f} | {s.params} | {e.steps} | "
                f"{e.seconds:.0f} | {e.params} | {s.seconds + e.seconds:.0f} |"
            )
    return "\n".join(lines)


def plot_grid(result: GridResult, path: Path, *, point_size: float = 0.5) -> Path:
    """Rows: datasets; column groups: β; in each group the exact target, then every method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(d for d, _ in result.targets))
    betas = list(dict.fromkeys(b for _, b in result.targets))
    methods = list(dict.fromkeys(m for _, _, m in result.samples))
    cols = [(b, None) for b in betas]
    cols = [(b, m) for b in betas for m in [None, *methods]]
    fig, axes = plt.subplots(
        len(datasets),
        len(cols),
        figsize=(1.35 * len(cols), 1.45 * len(datasets) + 0.4),
        squeeze=False,
    )
    for i, dataset in enumerate(datasets):
        target_all = np.concatenate([result.targets[(dataset, b)] for b in betas])
        lo, hi = np.percentile(target_all, [0.5, 99.5], axis=0)
        pad = 0.15 * (hi - lo)
        for j, (beta, method) in enumerate(cols):
            ax = axes[i, j]
            xs = (
                result.targets[(dataset, beta)]
                if method is None
                else result.samples[(dataset, beta, method)]
            )
            ax.scatter(
                xs[:, 0],
                xs[:, 1],
                s=point_size,
                alpha=0.5,
                color="black" if method is None else "C0",
                rasterized=True,
            )
            ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
            ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                name = "exact" if method is None else METHOD_LABELS.get(method, method)
                ax.set_title(f"β={beta:g}\n{name}", fontsize=7)
            if j == 0:
                ax.set_ylabel(dataset, fontsize=8)
    fig.tight_layout(pad=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

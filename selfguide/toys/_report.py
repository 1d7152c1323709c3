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


def markdown_table(result: GridResult) -> str:
    """A Markdown table: each metric as `mean ± std` over seeds, its floor beneath it in
    brackets, ✓ where the mean is within 2× the floor."""
    summary = summarise(result)
    metrics = [m for m in METRIC_ORDER if any(m in v for v in summary.values())]
    head = "| dataset | β | method | " + " | ".join(metrics) + " |"
    lines = [head, "|" + "---|" * (3 + len(metrics))]
    seen_floor = set()
    for (dataset, beta, method), values in summary.items():
        if (dataset, beta) not in seen_floor:
            seen_floor.add((dataset, beta))
            cells = []
            for m in metrics:
                if m in values:
                    _, _, fl, fs, _ = values[m]
                    cells.append(f"*{_fmt(fl)} ± {_fmt(fs)}*")
                else:
                    cells.append("–")
            lines.append(f"| {dataset} | {beta:g} | *noise floor* | " + " | ".join(cells) + " |")
        cells = []
        for m in metrics:
            if m not in values:
                cells.append("–")
                continue
            mean, std, _, _, ok = values[m]
            cells.append(f"{_fmt(mean)} ± {_fmt(std)}{' ✓' if ok else ''}")
        label = METHOD_LABELS.get(method, method)
        if method == "resample":
            label += f" N={result.budget.resample_n}"
        lines.append(f"| {dataset} | {beta:g} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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

"""Tables and figures for a conditional-generation run."""

import csv
from pathlib import Path

import numpy as np

from ._experiment import ConditionalResults

_METRICS = ("accuracy", "mmd2", "frechet", "diversity")


def metrics_table(results: ConditionalResults) -> str:
    """A Markdown table: one row per method, class-averaged accuracy, MMD², Fréchet distance
    and diversity, then the per-class judge accuracy (%)."""
    k = results.data.num_classes
    head = (
        "| method | accuracy | MMD² | Fréchet | diversity | "
        + " | ".join(f"acc {y}" for y in range(k))
        + " |"
    )
    lines = [head, "|---" * (5 + k) + "|"]
    for name, m in results.metrics.items():
        mean = m.mean()
        lines.append(
            f"| {name} | {100 * mean['accuracy']:.1f}% | {mean['mmd2']:.4f} | "
            f"{mean['frechet']:.2f} | {mean['diversity']:.2f} | "
            + " | ".join(f"{100 * a:.0f}" for a in m.accuracy)
            + " |"
        )
    return "\n".join(lines)


def write_csv(results: ConditionalResults, path: Path) -> Path:
    """One row per (method, class) with every metric; class `mean` averages them."""
    path = Path(path)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["method", "class", *_METRICS])
        for name, m in results.metrics.items():
            for y in range(results.data.num_classes):
                writer.writerow([name, y, *(f"{getattr(m, f)[y]:.6g}" for f in _METRICS)])
            writer.writerow([name, "mean", *(f"{m.mean()[f]:.6g}" for f in _METRICS)])
    return path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_grid(
    results: ConditionalResults, path: Path, *, method: str | None = None, per_row: int = 10
) -> Path:
    """One row per class. Images: panels for real data, the chosen SWG scale (default: the
    most accurate), the class-conditional model and resampling. Points: scatter panels."""
    plt = _plt()
    method = method or best_swg(results)
    shown = [m for m in ("real", method, "class-conditional") if m in results.samples]
    shown += [m for m in results.samples if m.startswith("resampling")]
    k, shape = results.data.num_classes, results.data.image_shape
    if shape is None:
        fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.4), squeeze=False)
        for ax, name in zip(axes[0], shown, strict=True):
            for y, xs in enumerate(results.samples[name]):
                ax.scatter(xs[:, 0], xs[:, 1], s=2, color=plt.cm.tab10(y % 10))
            ax.set_title(name, fontsize=9)
            ax.set_aspect("equal")
    else:
        fig, axes = plt.subplots(1, len(shown), figsize=(2.3 * len(shown), 2.5), squeeze=False)
        for ax, name in zip(axes[0], shown, strict=True):
            rows = []
            for xs in results.samples[name]:
                imgs = np.asarray(xs[:per_row]).reshape(-1, *shape)
                pad = np.full((per_row - len(imgs), *shape), -1.0)
                row = np.concatenate([imgs, pad]) if len(pad) else imgs
                rows.append(
                    np.concatenate(
                        list(np.pad(row, ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)), axis=1
                    )
                )
            ax.imshow(np.concatenate(rows, axis=0), cmap="gray_r", vmin=-1, vmax=1)
            ax.set_title(name, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks(np.arange(k) * (shape[0] + 2) + shape[0] / 2 + 1, labels=range(k))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def best_swg(results: ConditionalResults) -> str:
    """The SWG scale with the highest class-averaged judge accuracy."""
    swg = {n: m for n, m in results.metrics.items() if n.startswith("SWG ρ=")}
    return max(swg, key=lambda n: swg[n].mean()["accuracy"])


def plot_tradeoff(results: ConditionalResults, path: Path) -> Path:
    """Accuracy against diversity and against MMD² over guidance scales, with the references."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    swg = [(n, m.mean()) for n, m in results.metrics.items() if n.startswith("SWG ρ=")]
    for ax, key in zip(axes, ("diversity", "mmd2"), strict=True):
        ax.plot(
            [m[key] for _, m in swg],
            [100 * m["accuracy"] for _, m in swg],
            "o-",
            color="C0",
            label="SWG",
        )
        for n, m in swg:
            ax.annotate(
                n.removeprefix("SWG "),
                (m[key], 100 * m["accuracy"]),
                fontsize=8,
                xytext=(3, 3),
                textcoords="offset points",
            )
        for i, (n, m) in enumerate(results.metrics.items()):
            if not n.startswith("SWG"):
                mean = m.mean()
                ax.scatter(
                    mean[key], 100 * mean["accuracy"], marker="s", color=f"C{i + 1}", label=n
                )
        ax.set_xlabel(
            {
                "diversity": "diversity (pairwise distance / real)",
                "mmd2": "MMD² to real test class (judge features)",
            }[key]
        )
        ax.set_ylabel("judge accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)

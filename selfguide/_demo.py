"""`selfguide demo`: train one small SWG model on a 2-D toy and compare it with the exact target."""

import argparse
import time
from pathlib import Path

import jax.random as jr
import numpy as np

from . import toys
from ._augment import augment
from ._cli import command
from ._guidance import NoGuidance, SelfWeightedGuidance
from ._nn._mlp import MLPDenoiser
from ._sample import sample
from ._schedule import VPSchedule
from ._train import train


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="8gaussians", choices=toys.DATASETS)
    parser.add_argument("--beta", type=float, default=3.0, help="tilt β of the target")
    parser.add_argument("--steps", type=int, default=6000, help="training steps")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"))


@command(
    "demo", "Train SWG on a 2-D toy and compare guided samples with the exact target.", _arguments
)
def run_demo(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    x, e = toys.sample_q(args.dataset, 20_000, rng=rng)
    w = np.exp(args.beta * (e - 1.0))
    schedule = VPSchedule(num_steps=50, beta_max=20.0)
    net = MLPDenoiser(2, 1, width=128, depth=4, key=jr.key(args.seed))
    start = time.perf_counter()
    result = train(
        net,
        augment(x, w),
        schedule=schedule,
        steps=args.steps,
        batch_size=512,
        key=jr.key(args.seed + 1),
    )
    train_s = time.perf_counter() - start
    target, _ = toys.sample_target(args.dataset, args.beta, args.samples, rng=rng)
    rows, drawn = [], {"exact target": target}
    for name, guidance in [("unguided (q)", NoGuidance()), ("SWG ρ=1", SelfWeightedGuidance(1.0))]:
        s = sample(
            result.model, schedule, num=args.samples, guidance=guidance, key=jr.key(args.seed + 2)
        )
        drawn[name] = np.asarray(s.x)
    floor = toys.evaluate(args.dataset, target, args.beta, rng=rng)
    for name, xs in drawn.items():
        if name == "exact target":
            continue
        report = toys.evaluate(args.dataset, xs, args.beta, rng=rng)
        rows.append((name, {k: v.value for k, v in report.items()}))
    _print_table(rows, floor)
    args.out.mkdir(parents=True, exist_ok=True)
    png = _plot(drawn, args.out / f"demo_{args.dataset}.png", args.dataset, args.beta)
    print(f"\ntrained {args.steps} steps in {train_s:.0f} s; figure: {png}")


def _print_table(rows, floor) -> None:
    names = list(floor)
    print("\n| method | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for method, values in rows:
        print(f"| {method} | " + " | ".join(f"{values[n]:.4f}" for n in names) + " |")
    print("| noise floor | " + " | ".join(f"{floor[n].floor:.4f}" for n in names) + " |")


def _plot(drawn: dict, path: Path, dataset: str, beta: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(drawn), figsize=(4 * len(drawn), 4), sharex=True, sharey=True)
    for ax, (name, xs) in zip(axes, drawn.items(), strict=True):
        ax.scatter(xs[:, 0], xs[:, 1], s=1, alpha=0.4)
        ax.set_title(name)
        ax.set_aspect("equal")
    fig.suptitle(f"{dataset}, β = {beta:g}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

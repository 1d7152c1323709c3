"""`selfguide conditional`: class-conditional sampling from one unconditional SWG model.

The `selfguide` command finds it through its entry point (`HELP`, `add_arguments`, `run`).
"""

import argparse
import time
from pathlib import Path

from ._experiment import DATASETS, VARIANCES, ConditionalConfig, format_shares, run_conditional

_DEFAULT_MIX = {"digits": (3, 8), "mixture": (2, 5)}

HELP = (
    "Sample chosen classes from one unconditional SWG model with class-probability weights; "
    "write a grid (one row per class) and the metrics table."
)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from err


def _ints(text: str) -> tuple[int, ...]:
    if text in ("", "none"):
        return ()
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated classes, got {text!r}") from err


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = ConditionalConfig()
    parser.add_argument("--dataset", default=d.dataset, choices=DATASETS)
    parser.add_argument("--steps", type=int, default=d.steps, help="diffusion training steps")
    parser.add_argument("--network", default=d.network, choices=("mlp", "resnet"))
    parser.add_argument("--width", type=int, default=d.width)
    parser.add_argument("--depth", type=int, default=d.depth)
    parser.add_argument("--scales", type=_floats, default=d.scales, help="e.g. 1,2,4,8")
    parser.add_argument("--samples-per-class", type=int, default=d.samples_per_class)
    parser.add_argument(
        "--resample-candidates",
        type=int,
        default=d.resample_candidates,
        help="N of the resampling baseline (0: skip)",
    )
    parser.add_argument(
        "--no-class-conditional", action="store_true", help="skip the label-conditioned baseline"
    )
    parser.add_argument(
        "--mix",
        type=_ints,
        default=None,
        help="classes to mix, e.g. 3,8 (default: 3,8 for digits, 2,5 for the "
        "mixture; 'none' to skip)",
    )
    parser.add_argument(
        "--weight-loss",
        type=float,
        default=d.weight_loss,
        help="loss weight of each weight channel (data channels weigh 1)",
    )
    parser.add_argument(
        "--weight-output",
        default=d.weight_output,
        choices=("denoised", "eps"),
        help="what the weight outputs learn: the clean weights or the noise (the reference)",
    )
    parser.add_argument(
        "--variance",
        default=d.variance,
        choices=tuple(VARIANCES),
        help="the DDPM sampler's variance",
    )
    parser.add_argument(
        "--continuous",
        action="store_true",
        help="score the raw samples (default: read images as the data's 17 grey levels)",
    )
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--out", type=Path, default=Path("outputs/conditional"))


def config_from_args(args: argparse.Namespace) -> ConditionalConfig:
    return ConditionalConfig(
        dataset=args.dataset,
        steps=args.steps,
        network=args.network,
        width=args.width,
        depth=args.depth,
        scales=tuple(args.scales),
        samples_per_class=args.samples_per_class,
        resample_candidates=args.resample_candidates,
        class_conditional=not args.no_class_conditional,
        mix=tuple(args.mix) if args.mix is not None else _DEFAULT_MIX[args.dataset],
        weight_loss=args.weight_loss,
        weight_output=args.weight_output,
        variance=args.variance,
        discrete_decoder=not args.continuous,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> None:
    from ._report import metrics_table, plot_grid, plot_tradeoff, write_csv

    config = config_from_args(args)
    start = time.perf_counter()
    results = run_conditional(config)
    args.out.mkdir(parents=True, exist_ok=True)
    table = metrics_table(results)
    (args.out / "metrics.md").write_text(table + "\n")
    write_csv(results, args.out / "metrics.csv")
    grid = plot_grid(results, args.out / "grid.png")
    plot_tradeoff(results, args.out / "tradeoff.png")
    print("\n" + table)
    if results.mix_proportions is not None:
        print(f"\nchannel mix {config.mix}, judge labels:")
        for scale, shares in results.mix_proportions.items():
            print(f"  ρ={scale:g}: {format_shares(shares)}")
    print(f"\nwall time {time.perf_counter() - start:.0f} s; grid: {grid}")

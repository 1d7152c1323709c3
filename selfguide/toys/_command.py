"""`selfguide toy`: train (or load) β-conditioned SWG models on the 2-D toys, sample every
method, and write a figure and a metrics table next to the exact ground truth.

The `selfguide` command finds it through its entry point (`HELP`, `add_arguments`, `run`).
"""

import argparse
import dataclasses
from pathlib import Path

from selfguide.settings import check_field, read_value

from ._datasets import DATASETS
from ._report import cost_table, markdown_table, plot_grid, table_legend, write_csv
from ._run import METHODS, QUICK, Budget, GridResult, check_request, run_grid

HELP = "2-D energy toys: SWG against unguided, resampling and CEP, next to the exact target."


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(DATASETS),
        metavar="NAME",
        help=f"toys to run, from {', '.join(DATASETS)} (default: %(default)s)",
    )
    parser.add_argument(
        "--betas",
        nargs="+",
        type=float,
        default=[3.0, 10.0, 20.0],
        metavar="BETA",
        help="tilts β of the targets, in the trained range [0, 24] (default: %(default)s)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(METHODS),
        metavar="METHOD",
        help=f"methods to compare, from {', '.join(METHODS)} (default: all)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="sampling seeds per cell")
    parser.add_argument("--steps", type=int, default=None, help="SWG training steps")
    parser.add_argument("--cep-steps", type=int, default=None, help="CEP energy-net steps")
    parser.add_argument("--samples", type=int, default=None, help="samples per method and β")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the short budget of `selfguide demo` (small networks, few steps)",
    )
    parser.add_argument(
        "--set",
        dest="budget",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any other budget field, e.g. --set width=512 --set depth=6 --set "
        "clip_weight=false (fields: " + ", ".join(f.name for f in dataclasses.fields(Budget)) + ")",
    )
    parser.add_argument("--out", type=Path, default=Path("outputs/toy"), help="output folder")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("outputs/cache/toys"),
        help="folder of cached checkpoints (keyed by dataset and budget)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def budget_overrides(pairs: list[str], *, call: str = "selfguide toy") -> dict:
    """`["width=512", "clip_weight=false", ...]` as `Budget` field values.

    Values are read as JSON (`512`, `2.5`, `true`, `null`) or else taken as text; each must
    suit its field (a whole number for an integer field, `true`/`false` for a switch).
    """
    changes = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ValueError(
                f"{call}: --set {pair!r}: expected FIELD=VALUE with FIELD one of "
                f"{', '.join(f.name for f in dataclasses.fields(Budget))}."
            )
        changes[name] = check_field(f"{call}: --set {pair!r}", Budget, name, read_value(text))
    return changes


def budget_from(args: argparse.Namespace) -> Budget:
    budget = QUICK if args.quick else Budget()
    changes = {"steps": args.steps, "cep_steps": args.cep_steps, "num_samples": args.samples}
    changes = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(budget, **{**budget_overrides(args.budget), **changes})


def metrics_text(result: GridResult) -> str:
    """The metrics table and its legend, as printed and as written to `metrics.md`."""
    return f"{markdown_table(result)}\n\n{table_legend(result)}"


def write_outputs(result: GridResult, out: Path) -> dict[str, Path]:
    """`grid.png`, `metrics.csv` and `metrics.md` in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "metrics.md"
    md.write_text(
        f"# selfguide toy\n\nwall time {result.seconds:.0f} s; budget: "
        f"{dataclasses.asdict(result.budget)}\n\n{metrics_text(result)}\n\n"
        f"## Training cost\n\n{cost_table(result)}\n"
    )
    return {
        "png": plot_grid(result, out / "grid.png"),
        "csv": write_csv(result, out / "metrics.csv"),
        "md": md,
    }


def run_toy(args: argparse.Namespace) -> GridResult:
    if args.samples is not None and args.samples < 1:
        raise SystemExit(
            f"selfguide {args.command}: --samples must be a positive number, got {args.samples}."
        )
    for name in ("steps", "cep_steps", "seeds"):
        value = getattr(args, name)
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            raise SystemExit(f"selfguide {args.command}: {flag} must be >= 1, got {value}.")
    try:
        budget = budget_from(args)
        check_request(
            args.datasets,
            args.betas,
            args.methods,
            args.seeds,
            budget,
            call=f"selfguide {args.command}",
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    result = run_grid(
        args.datasets,
        args.betas,
        methods=args.methods,
        seeds=args.seeds,
        budget=budget,
        cache_dir=args.cache,
        progress=not args.no_progress,
    )
    paths = write_outputs(result, args.out)
    print(f"\n{metrics_text(result)}\n\n{cost_table(result)}")
    print(
        f"\nwall time {result.seconds:.0f} s; figure: {paths['png']}; tables: {paths['md']}, "
        f"{paths['csv']}"
    )
    return result


def run(args: argparse.Namespace) -> int:
    run_toy(args)
    return 0

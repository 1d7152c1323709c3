"""The `selfguide-rl` command line.

Each subcommand is one entry of `COMMANDS`: a help line, a function that adds its
arguments to an `argparse` parser, and a function that runs it and returns an exit code.
Add a subcommand by decorating its run function with `@command(...)`.
"""

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Subcommand:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Subcommand] = {}


def command(
    name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register `run(args) -> exit code` as the subcommand `name`."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        if name in COMMANDS:
            raise ValueError(f"command: the subcommand {name!r} is registered twice.")
        COMMANDS[name] = Subcommand(help, add_arguments, run)
        return run

    return register


# ---------------------------------------------------------------------------------------
# collect

# Dataset sizes of D4RL's maze2d-*-v1.
_D4RL_STEPS = {"umaze": 1_000_000, "medium": 2_000_000, "large": 4_000_000}


def _collect_arguments(parser: argparse.ArgumentParser) -> None:
    from .data import POINTMAZE_TASKS

    parser.add_argument("task", choices=sorted(POINTMAZE_TASKS), help="what to collect")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="environment steps to record (default: D4RL's size, 1M umaze, 2M medium, 4M large)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--out",
        "--root",
        dest="root",
        type=Path,
        default=None,
        help="Minari root to write to (default: $MINARI_DATASETS_PATH or ~/.minari/datasets)",
    )
    parser.add_argument(
        "--dataset-id", default=None, help="Minari id to write (default selfguide/<task>-v0)"
    )
    parser.add_argument(
        "--noise", type=float, default=0.5, help="action noise std (default 0.5, as D4RL)"
    )
    parser.add_argument(
        "--ref-episodes",
        type=int,
        default=100,
        help="evaluation episodes per reference score (default 100, as Minari)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing dataset")


@command(
    "collect",
    "build a local Minari dataset by the D4RL recipe (PointMaze: waypoints + PD + noise)",
    _collect_arguments,
)
def _collect(args: argparse.Namespace) -> int:
    from .data import collect_pointmaze

    size = args.task.split("-")[1]
    steps = args.steps if args.steps is not None else _D4RL_STEPS[size]
    print(f"collecting {steps:,} steps of {args.task} (seed {args.seed}) ...", flush=True)
    report = collect_pointmaze(
        args.task,
        steps=steps,
        seed=args.seed,
        dataset_id=args.dataset_id,
        action_noise=args.noise,
        ref_episodes=args.ref_episodes,
        root=args.root,
        overwrite=args.force,
    )
    print(
        f"collected {report.steps:,} steps ({report.episodes:,} episodes) in "
        f"{report.seconds:.1f} s: {report.steps_per_second:,.0f} steps/s"
    )
    print(
        f"reference scores over {args.ref_episodes} episodes: min {report.ref_min_score:.2f} "
        f"(random policy), max {report.ref_max_score:.2f} (controller)"
    )
    print(f"wrote '{report.dataset_id}' to {report.path} ({report.total_seconds:.1f} s in all)")
    root = report.path.parents[len(Path(report.dataset_id).parts) - 1]
    print(
        f"load it with: MINARI_DATASETS_PATH={root} and "
        f"selfguide_rl.load_minari('{report.dataset_id}')"
    )
    return 0


# ---------------------------------------------------------------------------------------
# info


def _info_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a Minari id or the path of a D4RL HDF5 file")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="Minari root to read from (default: $MINARI_DATASETS_PATH or ~/.minari/datasets)",
    )
    parser.add_argument(
        "--dataset-id", default=None, help="D4RL name of an HDF5 file, e.g. door-human-v0"
    )
    parser.add_argument(
        "--download", action="store_true", help="fetch a Minari dataset that is not local"
    )


@command("info", "print a dataset's size and task metadata", _info_arguments)
def _info(args: argparse.Namespace) -> int:
    from .data import load_dataset

    if args.root is not None:
        os.environ["MINARI_DATASETS_PATH"] = str(args.root.expanduser().resolve())
    data, task = load_dataset(args.source, download=args.download, dataset_id=args.dataset_id)
    returns = data.episode_returns()
    print(f"source: {args.source}")
    print(f"steps: {len(data):,}")
    print(f"episodes: {data.num_episodes:,}")
    print(f"observation dim: {data.obs_dim}")
    print(f"action dim: {data.act_dim}")
    print(f"terminals: {int(data.terminals.sum()):,}  timeouts: {int(data.timeouts.sum()):,}")
    print(
        f"episode return min / mean / max: {float(returns.min()):.2f} / "
        f"{float(returns.mean()):.2f} / {float(returns.max()):.2f}"
    )
    if task is None:
        print("task: unknown (pass --dataset-id for a D4RL HDF5 file)")
        return 0
    for field in dataclasses.fields(task):
        if field.name in ("env_spec_json", "obs_dim", "act_dim"):
            continue
        print(f"{field.name}: {getattr(task, field.name)}")
    return 0


# ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The `selfguide-rl` parser, with one subparser per entry of `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="selfguide-rl", description="Offline RL with self-weighted guidance."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `selfguide-rl`; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except (ValueError, TypeError, FileNotFoundError) as e:
        print(f"selfguide-rl {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

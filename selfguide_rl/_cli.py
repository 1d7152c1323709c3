"""The `selfguide-rl` command line.

Each subcommand is one entry of `COMMANDS`: a help line, a function that adds its
arguments to an `argparse` parser, and a function that runs it and returns an exit code.
Add a subcommand by decorating its run function with `@command(...)`.
"""

import argparse
import dataclasses
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


def _locomotion_names() -> list[str]:
    from .data import LOCOMOTION_ENVS, LOCOMOTION_KINDS

    return [f"{e}-{k}" for e in LOCOMOTION_ENVS for k in LOCOMOTION_KINDS]


def _collect_arguments(parser: argparse.ArgumentParser) -> None:
    from .data import POINTMAZE_TASKS

    parser.add_argument("task", choices=sorted(POINTMAZE_TASKS) + _locomotion_names(),
                        help="what to collect", metavar="TASK")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="environment steps to record (default: D4RL's size; PointMaze 1M umaze, 2M "
        "medium, 4M large; locomotion 1M, medium-replay the SAC run to the medium policy)",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=Path("runs/locomotion"),
        help="locomotion: where `selfguide-rl behaviour` put <env>/sac and <env>/policies "
        "(default runs/locomotion)",
    )
    parser.add_argument(
        "--policies", type=Path, default=None,
        help="locomotion: the kept policies to roll out (default <work-dir>/<env>/policies; "
        "e.g. the committed benchmarks/results/locomotion/<env>/policies)",
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
        "--dataset-id", default=None,
        help="Minari id to write (default selfguide/<task>-v1; goal-conditioned tasks -v0)",
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
    "build a local Minari dataset by the D4RL recipe (PointMaze: waypoints + PD + noise; "
    "locomotion: SAC behaviour policies)",
    _collect_arguments,
)
def _collect(args: argparse.Namespace) -> int:
    from .data import POINTMAZE_TASKS, collect_pointmaze

    if args.task not in POINTMAZE_TASKS:
        return _collect_locomotion(args)

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


def _collect_locomotion(args: argparse.Namespace) -> int:
    from .data import collect_locomotion

    env = args.task.split("-")[0]
    policies = args.policies or args.work_dir / env / "policies"
    print(f"collecting {args.task} (seed {args.seed}) from the policies in {policies} ...",
          flush=True)
    report = collect_locomotion(args.task, work_dir=args.work_dir / env, steps=args.steps,
                                seed=args.seed, dataset_id=args.dataset_id,
                                ref_episodes=args.ref_episodes, root=args.root,
                                overwrite=args.force, policies_dir=policies)
    print(f"wrote '{report.dataset_id}' to {report.path}: {report.steps:,} steps, "
          f"{report.episodes:,} episodes, reference scores {report.ref_min_score:.1f} (random) / "
          f"{report.ref_max_score:.1f} (expert), {report.seconds:.0f} s")
    return 0


def _behaviour_arguments(parser: argparse.ArgumentParser) -> None:
    from .data import LOCOMOTION_ENVS

    parser.add_argument("env", choices=sorted(LOCOMOTION_ENVS), help="the environment")
    parser.add_argument("--steps", type=int, default=1_000_000,
                        help="SAC environment steps (default 1M, the expert's run)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--work-dir", type=Path, default=Path("runs/locomotion"),
                        help="writes <work-dir>/<env>/sac and <env>/policies")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


@command("behaviour", "train the SAC behaviour policies (medium, expert) of a locomotion "
         "environment; resumable", _behaviour_arguments)
def _behaviour(args: argparse.Namespace) -> int:
    from .data import train_behaviour_policies

    kept = train_behaviour_policies(args.env, args.work_dir / args.env, steps=args.steps,
                                    seed=args.seed, progress=not args.no_progress)
    for kind, p in kept.items():
        print(f"{kind}: step {p.step:,}, return {p.mean_return:.1f} ± {p.stderr:.1f} over "
              f"{p.episodes} episodes, {p.path} (sha256 {p.sha256[:12]}...)")
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

    data, task = load_dataset(
        args.source, download=args.download, dataset_id=args.dataset_id, root=args.root
    )
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
# train / eval / sweep


def _parse_override(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects FIELD=VALUE, got {text!r}")
    from selfguide.settings import read_value

    name, raw = text.split("=", 1)
    return name.strip(), read_value(raw)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from err


def _seed_list(text: str) -> tuple[int, ...]:
    try:
        if "-" in text and "," not in text:
            first, last = (int(x) for x in text.split("-", 1))
            return tuple(range(first, last + 1))
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected seeds as a range (0-4) or a list (0,2,5), got {text!r}"
        ) from err


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from err


def _methods(text: str) -> tuple[str, ...]:
    from ._methods import METHODS

    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown method(s) {bad}; choose from {METHODS}")
    return methods


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from ._presets import PRESETS

    parser.add_argument("source", help="a Minari id or the path of a D4RL HDF5 file")
    parser.add_argument("--run-dir", type=Path, required=True, help="the run directory")
    parser.add_argument(
        "--preset", default="auto",
        help=f"task-family preset: auto (the dataset's family) or one of {', '.join(PRESETS)}",
    )
    parser.add_argument("--full", action="store_true",
                        help="the paper's budgets (500k value, 1M diffusion steps at batch 1024)")
    parser.add_argument("--reference", action="store_true",
                        help="the reference's parametrisation: the weight output predicts noise "
                        "(default: it predicts the clean weight, which guides more accurately)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--seeds", type=_seed_list, default=None, metavar="0-4",
                        help="train several seeds together in one program each stage "
                        "(e.g. 0-4 or 0,2,5), into <run-dir>/seed<k>")
    parser.add_argument("--dataset-id", default=None, help="D4RL name of an HDF5 file")
    parser.add_argument("--root", type=Path, default=None, help="Minari root to read from")
    parser.add_argument(
        "--set", dest="overrides", type=_parse_override, action="append", default=[],
        metavar="FIELD=VALUE",
        help="change a preset field, e.g. --set values.steps=2000 --set guidance_scale=5",
    )
    parser.add_argument("--eval", action="store_true",
                        help="evaluate all five methods after training")
    parser.add_argument("--eval-every", type=int, default=None, metavar="K",
                        help="evaluate BC and SWG every K diffusion steps (a multiple of "
                        "policy.steps_per_chunk) into eval_curve.csv and the curve plot")
    parser.add_argument("--eval-episodes", type=int, default=5,
                        help="episodes per evaluation during training (default 5)")
    parser.add_argument("--keep-checkpoints", type=_ints, default=(), metavar="K1,K2,...",
                        help="diffusion steps whose checkpoint is kept as policy-step<K>.ckpt")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


@command("train", "learn values, IQL's actor and the diffusion policy, in a resumable run "
         "directory",
         _train_arguments)
def _train(args: argparse.Namespace) -> int:
    from ._pipeline import evaluate_agent, format_results, train_run
    from ._presets import PRESETS

    if args.preset != "auto" and args.preset not in PRESETS:
        raise ValueError(
            f"unknown preset {args.preset!r}; expected auto or one of {', '.join(PRESETS)}."
        )
    if args.seeds is not None:
        return _train_seeds(args)
    agent = train_run(
        args.source, args.run_dir, preset=args.preset, seed=args.seed,
        dataset_id=args.dataset_id, full=args.full, reference=args.reference,
        overrides=dict(args.overrides), root=args.root,
        progress=not args.no_progress, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, keep_checkpoints=args.keep_checkpoints,
    )
    print(f"trained {agent.task.dataset_id} into {args.run_dir} (preset {agent.preset.name})")
    print("weights: " + ", ".join(f"{k} {v:.3g}" for k, v in agent.weight_stats.items()))
    if args.eval:
        print(format_results(evaluate_agent(agent, progress=not args.no_progress)))
    return 0


def _train_seeds(args: argparse.Namespace) -> int:
    from ._pipeline import evaluate_agent, format_results, train_runs

    if args.eval_every is not None or args.keep_checkpoints:
        raise ValueError("--eval-every and --keep-checkpoints train one seed at a time; "
                         "leave out --seeds, or those two.")
    agents = train_runs(
        args.source, args.run_dir, seeds=args.seeds, preset=args.preset,
        dataset_id=args.dataset_id, full=args.full, reference=args.reference,
        overrides=dict(args.overrides), root=args.root, progress=not args.no_progress,
    )
    for agent in agents:
        print(f"trained {agent.task.dataset_id} into {agent.run_dir} (preset {agent.preset.name})")
        if args.eval:
            seed = int(agent.run_dir.name.removeprefix("seed"))
            print(format_results(evaluate_agent(agent, seeds=(seed,),
                                                progress=not args.no_progress)))
    return 0


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="a run directory from `selfguide-rl train`")
    parser.add_argument("--methods", type=_methods, default=("bc", "iql", "idql", "swg", "swg-r"),
                        help="comma-separated: bc, iql, idql, swg, swg-r (default all)")
    parser.add_argument("--scale", type=float, default=None,
                        help="guidance scale for swg / swg-r (default: the preset's)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per seed")
    parser.add_argument("--seeds", type=int, default=1, help="evaluation seeds (default 1)")
    parser.add_argument("--candidates", type=int, default=None,
                        help="N for swg-r (default: the preset's num_candidates)")
    parser.add_argument("--idql-candidates", type=int, default=None,
                        help="N for idql (default: the preset's idql_candidates, 64)")
    parser.add_argument("--idql-temperature", type=float, default=None,
                        help="DDPM temperature of idql's candidates (default: the preset's, 1)")
    parser.add_argument("--max-episode-steps", type=int, default=None,
                        help="cut episodes short (quick checks; scores not comparable)")
    parser.add_argument("--root", type=Path, default=None, help="Minari root to read from")


def _check_eval_args(args: argparse.Namespace, scales) -> None:
    from ._methods import check_scale

    for s in scales or ():
        check_scale(f"selfguide-rl {args.command}", s)
    if args.episodes is not None and args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}.")
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}.")
    for flag in ("candidates", "idql_candidates"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {value}.")
    temperature = getattr(args, "idql_temperature", None)
    if temperature is not None and not temperature >= 0:
        raise ValueError(f"--idql-temperature must be >= 0, got {temperature}.")


@command("eval", "evaluate a trained run (BC, IQL, IDQL, SWG, SWG-R) in vector environments",
         _eval_arguments)
def _eval(args: argparse.Namespace) -> int:
    from ._pipeline import evaluate_agent, format_results, load_run

    scales = None if args.scale is None else (args.scale,)
    _check_eval_args(args, scales)
    agent = load_run(args.run_dir, root=args.root)
    results = evaluate_agent(agent, methods=args.methods, scales=scales,
                             seeds=tuple(range(args.seeds)), episodes=args.episodes,
                             num_candidates=args.candidates,
                             idql_candidates=args.idql_candidates,
                             idql_temperature=args.idql_temperature,
                             max_episode_steps=args.max_episode_steps, progress=True)
    print(f"{agent.task.dataset_id}: normalised score over {args.seeds} seed(s)")
    print(format_results(results))
    return 0


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="a run directory from `selfguide-rl train`")
    parser.add_argument("--scales", type=_floats, default=(0, 1, 5, 10, 15, 20, 25, 30),
                        help="comma-separated guidance scales (default 0,1,5,10,15,20,25,30)")
    parser.add_argument("--methods", type=_methods, default=("swg",),
                        help="swg and/or swg-r (default swg)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per seed")
    parser.add_argument("--seeds", type=int, default=1, help="evaluation seeds (default 1)")
    parser.add_argument("--candidates", type=int, default=None, help="N for swg-r")
    parser.add_argument("--max-episode-steps", type=int, default=None,
                        help="cut episodes short (quick checks; scores not comparable)")
    parser.add_argument("--root", type=Path, default=None, help="Minari root to read from")


@command("sweep", "evaluate SWG over guidance scales on a trained run (no retraining)",
         _sweep_arguments)
def _sweep(args: argparse.Namespace) -> int:
    from ._pipeline import evaluate_agent, format_results, load_run

    _check_eval_args(args, args.scales)
    bad = [m for m in args.methods if m not in ("swg", "swg-r")]
    if bad:
        raise ValueError(f"sweep: guidance scales apply to swg and swg-r only, got {bad}.")
    agent = load_run(args.run_dir, root=args.root)
    results = evaluate_agent(agent, methods=args.methods, scales=args.scales,
                             seeds=tuple(range(args.seeds)), episodes=args.episodes,
                             num_candidates=args.candidates,
                             max_episode_steps=args.max_episode_steps, progress=True)
    print(f"{agent.task.dataset_id}: guidance-scale sweep")
    print(format_results(results))
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as e:
        print(f"selfguide-rl {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        from selfguide.checkpoint import interrupted_message

        print(interrupted_message(f"selfguide-rl {args.command}", e, ["selfguide-rl", *argv]),
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

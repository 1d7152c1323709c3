"""`selfguide demo`: the short version of `selfguide toy` (a few minutes on 2 CPU cores).

Two toys, two tilts, every method (unguided, resampling, SWG with DDPM and with an ODE
solver, CEP's two-network guidance), next to exact draws of the target; writes
`outputs/demo/grid.png`, `metrics.md`, `metrics.csv` and prints the table with its legend
(seeds, noise floor, ✓). No downloads.
"""

import argparse
from pathlib import Path

from . import _command as toy

HELP = "Short SWG demo on two 2-D toys against the exact target (the quick `selfguide toy`)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    toy.add_arguments(parser)
    parser.set_defaults(
        datasets=["8gaussians", "moons"], betas=[3.0, 10.0], quick=True, out=Path("outputs/demo")
    )


def run(args: argparse.Namespace) -> int:
    toy.run_toy(args)
    return 0

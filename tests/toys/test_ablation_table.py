"""`benchmarks/toy_ablations.py`'s table on hand-made parts: cells passed per draw, the
geometric-mean ratio, and the per-toy median over draws of each cell's worst metric."""

import json
import math
from pathlib import Path

import pytest

from selfguide import toys

from ..benchmark_scripts import load


@pytest.fixture(scope="module")
def ablations():
    return load("toy_ablations")


def _cell(worst: float) -> dict:
    """Two metrics: one at ratio `worst`, one comfortably inside (ratio 0.5)."""
    return {"sliced_w2": {"value": worst, "floor": 1.0, "ratio": worst},
            "mmd": {"value": 0.5, "floor": 1.0, "ratio": 0.5}}


def _draw(unguided: float, swg3: float, swg10: float) -> dict:
    return {"unguided β 0": _cell(unguided), "swg β 3": _cell(swg3), "swg β 10": _cell(swg10)}


def _part(out: Path, config: str, dataset: str, draws: list[dict], changes: dict) -> None:
    part = {"dataset": dataset, "seed": 0, "train_seconds": 10.0, "loaded": False,
            "cells": draws[0], "config": config, "changes": changes}
    if len(draws) > 1:
        part["draws"] = draws
    (out / f"{config}__{dataset}.json").write_text(json.dumps(part))


def _row(text: str, label: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows]


def test_table_counts_cells_per_draw_and_takes_the_median_worst_ratio(ablations, tmp_path):
    out = tmp_path / "ablations"
    out.mkdir()
    a, b = toys.DATASETS[:2]
    # Toy a: the unguided cell passes on draw 0 only; SWG β 3 fails on draw 0 (3.0 > 2).
    _part(out, "fourier64-s0.5-steps12000", a, [_draw(1.0, 3.0, 1.4), _draw(3.0, 1.0, 1.0)], {})
    # Toy b: everything passes except SWG β 10 on draw 1.
    _part(out, "fourier64-s0.5-steps12000", b, [_draw(1.0, 1.0, 1.0), _draw(1.0, 1.0, 5.0)], {})
    # One draw: counts are whole numbers of cells.
    _part(out, "time-power2", a, [_draw(1.0, 2.5, 1.0)], {"time_power": "2"})
    text = ablations.write_table(out)
    assert (tmp_path / "ablations.md").read_text() == text

    (summary, per_toy), = [_row(text, "fourier64-s0.5-steps12000")]
    # Unguided: 3 of 4 (toy, draw) cells pass → 1.5 per draw of 2 toys; SWG: 6 of 8 → 3.0/4.
    assert summary[2:5] == ["2", "10", "1.5/2"] and summary[5] == "3.0/4"
    ung_ratios = [1.0, 3.0, 1.0, 1.0] + [0.5] * 4
    assert float(summary[6]) == pytest.approx(
        math.exp(sum(map(math.log, ung_ratios)) / 8), abs=0.005)
    # Per toy, each cell's worst metric, median over the draws: a (2.0, 2.0, 1.2), b (1, 1, 3).
    assert per_toy[1:3] == ["2.0 / 2.0 / 1.2", "1.0 / 1.0 / 3.0"]
    assert per_toy[3:] == ["–"] * (len(toys.DATASETS) - 2)

    # The last two columns floor each ratio at 0.5: a negative MMD² (ratio −2) counts 0.5,
    # not 1e-6. Here every ratio is already ≥ 0.5, so they agree with the plain means.
    assert summary[8] == summary[6] and float(summary[9]) == float(summary[7])
    noisy = {"unguided β 0": {"mmd": {"value": -2.0, "floor": 1.0, "ratio": -2.0},
                              "sliced_w2": {"value": 2.0, "floor": 1.0, "ratio": 2.0}},
             "swg β 3": _cell(1.0), "swg β 10": _cell(1.0)}
    _part(out, "beta-channels3", a, [noisy], {"beta_channels": "[3, 10, 20]"})
    (summary, _), = [_row(ablations.write_table(out), "beta-channels3")]
    assert float(summary[6]) == pytest.approx(math.sqrt(1e-6 * 2.0), abs=0.005)
    assert float(summary[8]) == pytest.approx(1.0)  # √(0.5 · 2)

    (summary, per_toy), = [_row(text, "time-power2")]
    assert summary[1] == "time_power=2" and summary[4:7] == ["1/1", "1/2", "0.71"]
    assert per_toy[1] == "1.0 / 2.5 / 1.0"

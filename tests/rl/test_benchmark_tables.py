"""The RL benchmark's tables report seed-level statistics (hand-computed numbers)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "rl.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_rl", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(method, seed, scores):
    return {"dataset": "maze", "method": method, "seed": seed, "scores": scores,
            "eval_seconds": 1.0}


def test_summary_is_over_seed_means_with_paired_differences(bench):
    rows = [_row("bc", 0, [10.0, 12.0]), _row("bc", 1, [20.0, 20.0]), _row("bc", 2, [30.0]),
            _row("swg", 0, [15.0, 15.0]), _row("swg", 1, [26.0]), _row("swg", 2, [31.0])]
    table = bench.summarise(rows)["maze"]
    # BC seed means 11, 20, 30: mean 20.33, SE = std(ddof=1) / √3 = 5.487.
    assert table["bc"]["mean"] == pytest.approx(61 / 3)
    assert table["bc"]["se"] == pytest.approx(np.std([11, 20, 30], ddof=1) / np.sqrt(3))
    assert table["bc"]["episodes"] == 5 and "minus_bc" not in table["bc"]
    # SWG − BC per seed: 4, 6, 1 → mean 3.67, SE std([4, 6, 1], ddof=1) / √3.
    assert table["swg"]["minus_bc"] == pytest.approx(11 / 3)
    assert table["swg"]["minus_bc_se"] == pytest.approx(np.std([4, 6, 1], ddof=1) / np.sqrt(3))
    assert bench.mean_se(1.0, float("nan")) == "1.0"  # one seed: no ±

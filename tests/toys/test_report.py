"""The toy metrics table and its legend, on hand-built grid results (no training)."""

import numpy as np
import pytest

from selfguide import toys
from selfguide._cli import main
from selfguide.toys import _command as command
from selfguide.toys._report import markdown_table, table_legend
from selfguide.toys._run import Budget, GridResult

# (metric, value, floor, floor_std) of one method at one (dataset, β, seed)
GOOD = [
    ("mode_tv", 0.01, 0.008, 0.004),
    ("energy_w1", 0.012, 0.01, 0.005),
    ("mmd2", 1e-4, 2e-4, 3e-4),
]


def _rows(dataset, metrics, seeds=(0,), method="swg-ddpm", beta=3.0, shift=0.0):
    return [
        {
            "dataset": dataset,
            "beta": beta,
            "method": method,
            "seed": seed,
            "metric": name,
            "value": value + shift * seed,
            "floor": floor,
            "floor_std": floor_std,
            "sample_seconds": 0.1,
        }
        for seed in seeds
        for name, value, floor, floor_std in metrics
    ]


def _result(rows):
    return GridResult(rows, {}, {}, {}, seconds=1.0, budget=Budget())


def _method_rows(table):
    lines = table.splitlines()[2:]
    return [line for line in lines if "noise floor" not in line]


def test_one_seed_shows_no_spread():
    result = _result(_rows("8gaussians", GOOD))
    rows = _method_rows(markdown_table(result))
    assert rows == ["| 8gaussians | 3 | SWG DDPM | 0.01 ✓ | 0.012 ✓ | 1.0e-04 ✓ |"]
    assert "1 seed of the sampler" in table_legend(result)


def test_two_seeds_show_mean_and_std():
    result = _result(_rows("8gaussians", GOOD, seeds=(0, 1), shift=0.002))
    rows = _method_rows(markdown_table(result))
    assert len(rows) == 1 and rows[0].count("±") == 3
    assert "| 0.011 ± 0.001 ✓ |" in rows[0]  # values 0.01 and 0.012
    assert "mean ± std over 2 seeds" in table_legend(result)


def test_legend_explains_the_floor_and_the_check():
    legend = table_legend(_result(_rows("8gaussians", GOOD)))
    assert "*noise floor*: the same metric between two independent exact draws" in legend
    assert "✓: the mean is at most 2 × max(floor, floor std)" in legend
    assert all(line.startswith("- ") for line in legend.splitlines())


def test_a_negative_floor_is_shown_as_zero_with_a_note():
    metrics = [("mmd2", 1e-5, -6e-5, 2e-4), ("energy_w1", 0.5, 0.01, 0.005)]
    result = _result(_rows("8gaussians", metrics))
    table = markdown_table(result)
    floor_row = next(line for line in table.splitlines() if "noise floor" in line)
    assert "*0† ± 2.0e-04*" in floor_row and "-6" not in floor_row
    # ✓ compares with max(floor, floor std), never with a negative floor
    assert _method_rows(table) == ["| 8gaussians | 3 | SWG DDPM | 0.5 | 1.0e-05 ✓ |"]
    legend = table_legend(result)
    assert "† shown as 0: the floor's unbiased estimate (mmd2) came out below 0" in legend
    assert "†" not in table_legend(_result(_rows("8gaussians", GOOD)))


def test_moons_note_only_with_moons():
    without = _result(_rows("8gaussians", GOOD))
    with_moons = _result(_rows("8gaussians", GOOD) + _rows("moons", GOOD))
    assert "mode_tv and energy_w1" not in table_legend(without)
    assert "moons: mode_tv and energy_w1 nearly coincide" in table_legend(with_moons)


def test_terminal_and_metrics_md_show_the_same_legend(tmp_path, monkeypatch, capsys):
    result = _result(_rows("moons", GOOD))
    monkeypatch.setattr(command, "run_grid", lambda *args, **kwargs: result)
    monkeypatch.setattr(command, "plot_grid", lambda result, path: path)
    out = tmp_path / "out"
    assert main(["toy", "--datasets", "moons", "--betas", "3", "--out", str(out)]) == 0
    shown = f"{markdown_table(result)}\n\n{table_legend(result)}"
    assert shown in capsys.readouterr().out
    assert shown in (out / "metrics.md").read_text()


@pytest.mark.parametrize("beta", [3.0, 10.0])
def test_moons_mode_tv_and_energy_w1_differ_by_the_reference_error(beta):
    """The claim of the moons note: with `p̂`, `r̂` the inner fractions of the sample and the
    reference and `π_β` the exact inner mass, energy_w1 = |p̂ − r̂| and mode_tv = |p̂ − π_β|."""
    n = 400
    x = toys.sample_q("moons", n, rng=np.random.default_rng(1))[0]
    report = toys.evaluate("moons", x, beta, rng=np.random.default_rng(5), seeds=1)
    reference = toys.sample_target("moons", beta, n, rng=np.random.default_rng(5))[0]
    p_hat = np.mean(toys.mode_of("moons", x) == 1)
    r_hat = np.mean(toys.mode_of("moons", reference) == 1)
    pi = toys.mode_weights("moons", beta)[1]
    assert report["energy_w1"].value == pytest.approx(abs(p_hat - r_hat), abs=1e-12)
    assert report["mode_tv"].value == pytest.approx(abs(p_hat - pi), abs=1e-12)

"""The RL benchmark: seed-level tables on hand-computed numbers, and a suite that goes on
past a dataset that fails."""

import json

import numpy as np
import pytest

from ..benchmark_scripts import load


@pytest.fixture(scope="module")
def bench():
    return load("rl")


def _row(method, seed, scores, dataset="maze"):
    return {"dataset": dataset, "method": method, "seed": seed, "scores": scores,
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
    assert table["swg"]["minus_bc_n"] == 3
    assert bench.mean_se(1.0, float("nan")) == "1.0"  # one seed: no ±
    # 95% interval of the paired difference: mean ± t(0.975, 2) · SE = 3.67 ± 4.303 · 1.453.
    se = np.std([4, 6, 1], ddof=1) / np.sqrt(3)
    lo, hi = 11 / 3 - 4.302653 * se, 11 / 3 + 4.302653 * se
    assert bench.interval95(11 / 3, se, 3) == f"[{lo:.1f}, {hi:.1f}]"


def _part(dataset, seed, bc, swg):
    return {
        "dataset": dataset, "seed": seed,
        "rows": [_row("bc", seed, bc, dataset), _row("swg", seed, swg, dataset)],
        "budget": {"preset": "maze2d"}, "chosen": {"scale": 3.0, "clip": "none"},
        "validation": {"3|none": 50.0}, "clip_shares": {"10|1": {"below": 0.01, "above": 0.2}},
        "train_seconds": 60.0, "validation_seconds": 5.0, "test_seconds": 5.0,
        "weights": {"frac_adv_pos": 0.5, "adv_std": 1.0},
    }


def test_tables_from_parts(bench, tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    bc, swg = [10.0, 20.0, 30.0, 40.0], [20.0, 26.0, 32.0, 102.0]
    for seed in range(4):
        part = _part("maze", seed, [bc[seed]], [swg[seed]])
        if seed == 1:  # protocol 4: SWG's temperature validated too
            part["chosen"]["temperature"] = 0.5
            part["temperature_validation"] = {"3|0": 50.0, "3|0.5": 61.0}
        (parts / f"maze__seed{seed}.json").write_text(json.dumps(part))
    bench.write_results(tmp_path)
    text = (tmp_path / "results.md").read_text()
    # BC: mean 25, SE std(ddof=1)/2 = 6.45; SWG: mean 45, SE 19.0 (by hand: deviations
    # -25, -19, -13, 57; sum of squares 4404; / 3 = 1468; sqrt / 2 = 19.16).
    assert "| maze | 25.0 ± 6.5 | 45.0 ± 19.2 | 4 × 1 |" in text
    # Paired: 10, 6, 2, 62 → mean 20, SE: deviations -10, -14, -18, 42; 2384 / 3; sqrt / 2.
    assert f"| maze | 20.0 ± {np.sqrt(2384 / 3) / 2:.1f}" in text
    # IQM of 20, 26, 32, 102: one trimmed from each end, mean of 26 and 32.
    assert "| SWG | 29.0 |" in text
    assert "| maze | 0 | 3, none, 0 (not validated) | 50.0 | 0.200 | 0.010 |" in text
    assert "| maze | 1 | 3, none, 0.5 | 61.0 | 0.200 | 0.010 |" in text
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["table"]["maze"]["swg"]["per_seed"] == swg


def test_suite_goes_on_past_a_failing_dataset(bench, tmp_path, monkeypatch):
    def run_group(args, name, source, dataset_id, seeds, overrides, minari_root):
        if name == "broken":
            raise RuntimeError("FrankaKitchen-v1 cannot be constructed")
        return [_part(name, seed, [1.0], [2.0]) for seed in seeds]

    monkeypatch.setattr(bench, "run_group", run_group)

    class Args:
        out = tmp_path

    for name in ("broken", "maze"):
        bench._run_items(Args, name, ("src", None, tmp_path), [0], {})
    notes = json.loads((tmp_path / "notes.json").read_text())
    assert notes == ["broken seed 0: failed (RuntimeError: FrankaKitchen-v1 cannot be "
                     "constructed)"]
    assert bench.part_path(tmp_path, "maze", 0).exists()
    assert not bench.part_path(tmp_path, "broken", 0).exists()
    assert "FrankaKitchen-v1 cannot be constructed" in (tmp_path / "results.md").read_text()


def test_iqm_without_an_interval_while_a_dataset_has_one_run(bench, tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    for name, seeds in (("a", (0, 1)), ("b", (0,))):
        for seed in seeds:
            part = _part(name, seed, [10.0 + seed], [20.0 + seed])
            (parts / f"{name}__seed{seed}.json").write_text(json.dumps(part))
    bench.write_results(tmp_path)  # the stratified bootstrap needs two runs per dataset
    text = (tmp_path / "results.md").read_text()
    assert "| SWG | 20.3 | – (a dataset has one run) | 3 |" in text



def test_choices_on_validation_and_their_ties(bench):
    assert bench.choose_guidance({"1|1": 5.0, "3|1": 9.0, "10|none": 9.0}) == (3.0, 1.0)
    assert bench.choose_guidance({"1|none": 2.0, "30|none": 1.0}) == (1.0, None)
    # IDQL's temperature: the best validation mean; ties go to the higher (published 1).
    assert bench.choose_swg_temperature({"1|0": 3.4, "30|0": 17.1, "3|0.5": 30.0,
                                         "10|1": 30.0}) == (3.0, 0.5)
    assert bench.choose_swg_temperature({"2|0": 9.0, "2|1": 9.0, "3|0.5": 9.0}) == (2.0, 0.0)
    assert bench.choose_idql_temperature({"0": 40.0, "0.5": 52.0, "1": 30.0}) == 0.5
    assert bench.choose_idql_temperature({"0": 40.0, "0.5": 40.0, "1": 40.0}) == 1.0


def test_older_parts_are_evaluated_again_and_their_idql_is_the_published_one(bench, tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    old = _part("maze", 0, [10.0], [20.0])
    old["rows"].append(_row("idql", 0, [5.0]))
    (parts / "maze__seed0.json").write_text(json.dumps(old))
    new = _part("maze", 1, [12.0], [22.0]) | {
        "protocol": bench.PROTOCOL, "idql_chosen": 0.5,
        "idql_validation": {"0": 30.0, "0.5": 31.0, "1": 2.0}}
    new["rows"] += [_row("idql", 1, [30.0]), _row("idql@1", 1, [7.0])]
    (parts / "maze__seed1.json").write_text(json.dumps(new))
    assert not bench.part_is_current(tmp_path, "maze", 0)
    assert bench.part_is_current(tmp_path, "maze", 1)
    assert not bench.part_is_current(tmp_path, "maze", 2)
    bench.write_results(tmp_path)
    table = json.loads((tmp_path / "results.json").read_text())["table"]["maze"]
    assert table["idql@1"]["per_seed"] == [5.0, 7.0]  # the old part's IDQL ran at 1
    assert table["idql"]["per_seed"] == [30.0]
    text = (tmp_path / "results.md").read_text()
    assert "| 1 (not validated) |" in text and "| 0.5 (30.0, 31.0, 2.0) |" in text


def test_every_part_runs_in_its_own_worker_process_jobs_at_a_time(bench, tmp_path):
    """`run_workers`: one fresh process per (dataset, seeds) item, at most `jobs` alive at
    once, every item run, a failing item's exit code reported."""
    import sys

    code = ("import os, sys, time; item = sys.argv[-1]; d = sys.argv[1]; "
            "open(os.path.join(d, item.replace(':', '_') + '.' + str(os.getpid())), 'w'); "
            "alive = len([f for f in os.listdir(d) if f.startswith('alive')]); "
            "open(os.path.join(d, 'alive' + str(os.getpid())), 'w'); time.sleep(0.3); "
            "open(os.path.join(d, 'max'), 'a').write(str(alive + 1) + '\\n'); "
            "os.remove(os.path.join(d, 'alive' + str(os.getpid()))); "
            "sys.exit(3 if item == 'bad:1' else 0)")
    pending = [("a", [0]), ("a", [1]), ("bad", [1]), ("b", [0, 1])]
    codes = bench.run_workers([sys.executable, "-c", code, str(tmp_path)], pending, jobs=2,
                              poll_seconds=0.05)
    assert sorted(codes) == [0, 0, 0, 3]
    runs = sorted(f.name.rsplit(".", 1)[0] for f in tmp_path.iterdir()
                  if not f.name.startswith(("alive", "max")))
    assert runs == ["a_0", "a_1", "b_0+1", "bad_1"]
    pids = {f.name.rsplit(".", 1)[1] for f in tmp_path.iterdir() if "_" in f.name}
    assert len(pids) == 4  # a process per item
    assert max(map(int, (tmp_path / "max").read_text().split())) <= 2

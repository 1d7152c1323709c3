"""Locomotion datasets by the D4RL/Minari recipe on a tiny budget: behaviour policies kept
with their SHA-256, every dataset kind round-trips through `load_minari`, medium-expert is
medium then expert, medium-replay is the SAC run's first transitions, a seed gives the
same data, and damaged input is refused by name."""

import json

import numpy as np
import pytest

import selfguide_rl as sgrl
from selfguide_rl.data import sac

from ..benchmark_scripts import load

TINY_SAC = sac.SACConfig(hidden=(16, 16), batch_size=32, buffer_size=2000, random_steps=200,
                         updates_per_round=50)


@pytest.fixture(scope="module")
def hopper(tmp_path_factory):
    work = tmp_path_factory.mktemp("locomotion") / "hopper"
    policies = sgrl.train_behaviour_policies(
        "hopper", work, steps=600, config=TINY_SAC, eval_every=200, eval_episodes=2,
        final_episodes=2, progress=False)
    root = tmp_path_factory.mktemp("minari")
    reports = {kind: sgrl.collect_locomotion(f"hopper-{kind}", work_dir=work, steps=300,
                                             ref_episodes=2, root=root, progress=False)
               for kind in sgrl.LOCOMOTION_KINDS}
    return work, root, policies, reports


def test_policies_are_kept_with_their_hash(hopper):
    work, _, policies, _ = hopper
    record = json.loads((work / "policies" / "policies.json").read_text())
    assert set(record["policies"]) == {"medium", "expert"}
    assert record["policies"]["expert"]["step"] == 600
    rows = (work / "sac" / "evaluations.csv").read_text().splitlines()[1:]
    returns = {int(r.split(",")[0]): float(r.split(",")[1]) for r in rows}
    assert record["policies"]["medium"]["step"] in returns
    assert policies["expert"].episodes == 2 and np.isfinite(policies["expert"].mean_return)


def test_every_kind_round_trips_through_load_minari(hopper):
    _, root, _, reports = hopper
    for kind, report in reports.items():
        data, task = sgrl.load_minari(report.dataset_id, root=root)
        assert report.dataset_id == f"selfguide/hopper/{kind}-v0"
        assert (data.obs_dim, data.act_dim, task.family, task.env_id) == (
            11, 3, "locomotion", "Hopper-v5")
        assert task.ref_min_score == pytest.approx(reports["random"].ref_min_score)
        assert task.ref_max_score == pytest.approx(reports["random"].ref_max_score)
        env = task.make_env()  # passes check_env_spaces
        env.close()
        assert float(np.abs(np.asarray(data.actions)).max()) <= 1.0
    sizes = {k: len(sgrl.load_minari(r.dataset_id, root=root)[0]) for k, r in reports.items()}
    assert sizes["random"] == sizes["medium"] == sizes["expert"] == 300
    assert sizes["medium-expert"] == 600


def test_medium_expert_is_medium_then_expert(hopper):
    _, root, _, reports = hopper
    medium = sgrl.load_minari(reports["medium"].dataset_id, root=root)[0]
    expert = sgrl.load_minari(reports["expert"].dataset_id, root=root)[0]
    both = sgrl.load_minari(reports["medium-expert"].dataset_id, root=root)[0]
    np.testing.assert_array_equal(np.asarray(both.observations),
                                  np.concatenate([medium.observations, expert.observations]))
    np.testing.assert_array_equal(np.asarray(both.rewards),
                                  np.concatenate([medium.rewards, expert.rewards]))


def test_medium_replay_is_the_runs_first_transitions(hopper):
    work, root, _, reports = hopper
    record = json.loads((work / "policies" / "policies.json").read_text())
    n = min(300, record["policies"]["medium"]["step"])
    replay = sgrl.load_minari(reports["medium-replay"].dataset_id, root=root)[0]
    buffer, _ = sac.load_replay(work / "sac")
    first = buffer.first(n)
    assert len(replay) == n
    np.testing.assert_array_equal(np.asarray(replay.observations), first["observations"])
    np.testing.assert_array_equal(np.asarray(replay.rewards), first["rewards"])
    np.testing.assert_array_equal(np.asarray(replay.terminals), first["terminals"] > 0)


def test_medium_replay_regenerates_from_the_kept_policies_alone(hopper, tmp_path):
    """A fresh clone has the committed policies but no SAC run: medium-replay reruns SAC
    with the recorded seed and settings, and on this machine gets the same transitions (the
    rerun's medium actor matches the kept one's SHA-256, so no warning)."""
    import warnings

    work, root, _, reports = hopper
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = sgrl.collect_locomotion("hopper-medium-replay", work_dir=tmp_path / "fresh",
                                        steps=300, ref_episodes=2, root=tmp_path,
                                        progress=False, policies_dir=work / "policies")
    assert (tmp_path / "fresh" / "sac-replay" / "sac.ckpt").exists()
    a = sgrl.load_minari(reports["medium-replay"].dataset_id, root=root)[0]
    b = sgrl.load_minari(again.dataset_id, root=tmp_path)[0]
    np.testing.assert_array_equal(np.asarray(a.observations), np.asarray(b.observations))
    np.testing.assert_array_equal(np.asarray(a.actions), np.asarray(b.actions))


def test_same_seed_same_dataset(hopper, tmp_path):
    work, root, _, reports = hopper
    again = sgrl.collect_locomotion("hopper-medium", work_dir=work, steps=300, ref_episodes=2,
                                    root=tmp_path, progress=False)
    a = sgrl.load_minari(reports["medium"].dataset_id, root=root)[0]
    b = sgrl.load_minari(again.dataset_id, root=tmp_path)[0]
    np.testing.assert_array_equal(np.asarray(a.actions), np.asarray(b.actions))


def test_bad_input_is_refused_by_name(hopper, tmp_path):
    work, root, _, _ = hopper
    with pytest.raises(ValueError, match="unknown locomotion environment 'ant'"):
        sgrl.collect_locomotion("ant-medium", work_dir=work)
    with pytest.raises(ValueError, match="unknown dataset 'hopper-median'"):
        sgrl.collect_locomotion("hopper-median", work_dir=work)
    with pytest.raises(ValueError, match="steps=0; expected a positive integer"):
        sgrl.collect_locomotion("hopper-medium", work_dir=work, steps=0)
    with pytest.raises(FileNotFoundError, match="holds no policies.json"):
        sgrl.collect_locomotion("hopper-medium", work_dir=tmp_path)
    damaged = tmp_path / "policies"
    damaged.mkdir()
    for f in (work / "policies").iterdir():
        (damaged / f.name).write_bytes(f.read_bytes())
    (damaged / "expert.ckpt").write_bytes(b"corrupt")
    with pytest.raises(ValueError, match="does not match its SHA-256"):
        sgrl.load_behaviour_policy(damaged, "expert")


def test_command_line_collects_from_the_work_dir(hopper, tmp_path, capsys):
    from selfguide_rl._cli import main

    work, _, _, _ = hopper
    code = main(["collect", "hopper-random", "--work-dir", str(work.parent), "--steps", "50",
                 "--ref-episodes", "2", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "wrote 'selfguide/hopper/random-v0'" in out and "50 steps" in out
    assert main(["collect", "hopper-random", "--work-dir", str(tmp_path / "none"),
                 "--steps", "5", "--out", str(tmp_path)]) == 1
    assert "holds no policies.json" in capsys.readouterr().err
    assert main(["collect", "hopper-random", "--work-dir", str(tmp_path / "none"),
                 "--policies", str(work / "policies"), "--steps", "50", "--ref-episodes", "2",
                 "--out", str(tmp_path / "b")]) == 0
    assert "from the policies in " + str(work / "policies") in capsys.readouterr().out


def _evaluations(returns: dict[int, float]) -> list[dict]:
    return [{"step": s, "mean_return": r} for s, r in returns.items()]


def test_medium_is_the_first_snapshot_in_the_band_confirmed_on_more_episodes():
    from selfguide_rl.data._locomotion import choose_medium_step

    # Hopper's jumpy curve: 120k below a third, 150k far above a half, 160k inside.
    evaluations = _evaluations({120: 975.0, 140: 337.0, 150: 2687.0, 160: 1310.0,
                                170: 1293.0, 180: 1500.0, 1000: 3300.0})
    again = {160: 1800.0, 170: 1250.0, 180: 1400.0}  # 160 is not medium on more episodes
    asked = []

    def final_returns(step):
        asked.append(step)
        return np.array([again[step] - 1.0, again[step] + 1.0])

    measured = {}
    assert choose_medium_step(evaluations, 3300.0, final_returns, measured) == 170
    assert asked == [160, 170] and set(measured) == {160, 170}


def test_medium_falls_back_when_no_snapshot_is_in_the_band():
    from selfguide_rl.data._locomotion import choose_medium_step

    def final_returns(step):
        return np.array([float(step), float(step)])

    # Nothing inside [1100, 1650]: the first evaluation above the floor.
    evaluations = _evaluations({1: 500.0, 2: 2000.0, 3: 3300.0})
    assert choose_medium_step(evaluations, 3300.0, final_returns, {}) == 2
    # Inside on 10 episodes but never on more: the re-measured one nearest the middle.
    evaluations = _evaluations({1: 1200.0, 2: 1300.0, 3: 3300.0})
    measured = {}
    assert choose_medium_step(evaluations, 3300.0, lambda s: np.array([900.0 + s * 1000.0]),
                              measured) == 1



@pytest.fixture(scope="module")
def built(hopper, tmp_path_factory):
    """`benchmarks/build_locomotion.py --policies-from` on the kept tiny policies."""
    work, _, _, _ = hopper
    out = tmp_path_factory.mktemp("built")
    argv = ["--envs", "hopper", "--out", str(out), "--policies-from", str(work.parent),
            "--steps", "60", "--ref-episodes", "2", "--jobs", "2"]
    return out, argv, load("build_locomotion").main(argv)


def test_build_script_collects_from_kept_policies_and_keeps_finished_datasets(built):
    """The build skips SAC for an environment whose policies are kept, builds its five
    datasets, and a second call keeps them all."""
    out, argv, code = built
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert not any(name.startswith("behaviour") for name in summary["processes"])
    assert set(summary["datasets"]) == {f"hopper-{k}" for k in sgrl.LOCOMOTION_KINDS}
    assert summary["datasets"]["hopper-medium-expert"]["total_steps"] == 120
    random = summary["datasets"]["hopper-random"]
    assert random["normalized_episode_return"] == pytest.approx(
        100 * (random["mean_episode_return"] - random["ref_min_score"])
        / (random["ref_max_score"] - random["ref_min_score"]))
    build = load("build_locomotion")
    assert build.main(argv) == 0
    assert json.loads((out / "summary.json").read_text())["processes"] == {}


def test_build_record_is_kept_beside_the_policies(hopper, built, tmp_path):
    """`--keep`: the policies (loadable, their SHA-256 intact), the SAC evaluation curve
    and the environment's build record are copied for committing."""
    work, _, _, _ = hopper
    out, _, _ = built
    summary = json.loads((out / "summary.json").read_text())
    summary["processes"] = {"behaviour-hopper": {"code": 0, "seconds": 5.0},
                            "collect-hopper-random": {"code": 0, "seconds": 2.0},
                            "collect-walker2d-random": {"code": 0, "seconds": 9.0}}
    load("build_locomotion").keep_build(work.parent, tmp_path, "hopper", summary)
    record = json.loads((tmp_path / "hopper" / "build.json").read_text())
    assert record["build_seconds"] == 7.0 and set(record["processes"]) == {
        "behaviour-hopper", "collect-hopper-random"}
    assert set(record["datasets"]) == {f"hopper-{k}" for k in sgrl.LOCOMOTION_KINDS}
    sgrl.load_behaviour_policy(tmp_path / "hopper" / "policies", "medium")
    assert (tmp_path / "hopper" / "sac_evaluations.csv").read_text() == (
        work / "sac" / "evaluations.csv").read_text()


def test_benchmark_runs_the_locomotion_suite_with_seeds_together(built, tmp_path):
    """`benchmarks/rl.py --suite locomotion --together` on the built tiny Hopper data: one
    program trains both seeds, each seed's part holds every method, and the tables and
    plots are written."""
    out, _, _ = built
    tiny = {"values.hidden": [16, 16], "values.steps": 100, "values.steps_per_chunk": 50,
            "policy.width": 16, "policy.num_blocks": 2, "policy.expansion": 2,
            "policy.weight_head_hidden": 16, "policy.time_features": 8, "policy.time_dim": 16,
            "policy.steps": 100, "policy.batch_size": 32, "policy.steps_per_chunk": 50,
            "policy.diffusion_steps": 3, "num_candidates": 2, "idql_candidates": 2,
            "actor.hidden": [8, 8], "actor.steps": 100, "actor.steps_per_chunk": 50}
    argv = ["--suite", "locomotion", "--locomotion-dir", str(out), "--datasets",
            "hopper-medium-replay", "--seeds", "2", "--together", "--episodes", "1",
            "--val-episodes", "1", "--work", str(tmp_path / "work"), "--out",
            str(tmp_path / "out")]
    for key, value in tiny.items():
        argv += ["--set", f"{key}={json.dumps(value)}"]
    bench = load("rl")
    assert bench.main(argv) == 0
    for seed in (0, 1):
        part = json.loads((tmp_path / "out" / "parts" /
                           f"hopper-medium-replay__seed{seed}.json").read_text())
        assert part["trained_together"] and part["seed"] == seed
        assert {r["method"] for r in part["rows"]} >= {"bc", "iql", "idql", "swg", "swg-r"}
        # SWG's temperature is validated over the ρ grid at the chosen clip, and SWG and
        # SWG-R are tested at the chosen one.
        chosen = part["chosen"]
        assert len(part["temperature_validation"]) == (
            len(bench.VAL_SCALES) * len(bench.SWG_VAL_TEMPERATURES))
        assert (chosen["scale"], chosen["temperature"]) == bench.choose_swg_temperature(
            part["temperature_validation"])
        assert all(r["temperature"] == chosen["temperature"] and r["scale"] == chosen["scale"]
                   for r in part["rows"] if r["method"] in ("swg", "swg-r"))
    assert (tmp_path / "work" / "runs" / "hopper-medium-replay" / "seed1" / "policy.ckpt").exists()
    assert (tmp_path / "out" / "results.md").exists()
    assert (tmp_path / "out" / "scores.png").exists()

"""The staged run: train → act → eval on a tiny PointMaze dataset; resume of each stage
equals an uninterrupted run; the CLI's errors."""

import json

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide
import selfguide_rl as sgrl
from selfguide import _train as core_train
from selfguide.training import _loop, stack
from selfguide_rl import _values
from selfguide_rl._cli import main
from selfguide_rl._evaluate import _act_grid, make_vector_env

TINY = {
    "values.hidden": (32, 32), "values.steps": 200, "values.steps_per_chunk": 100,
    "policy.width": 32, "policy.num_blocks": 2, "policy.expansion": 2,
    "policy.weight_head_hidden": 32, "policy.time_features": 16, "policy.time_dim": 32,
    "policy.steps": 200, "policy.batch_size": 64, "policy.steps_per_chunk": 100,
    "num_candidates": 4, "idql_candidates": 4, "eval_episodes": 2, "eval_envs": 2,
    "actor.hidden": (16, 16), "actor.steps": 200, "actor.steps_per_chunk": 100,
}


@pytest.fixture
def tiny_maze(umaze_dense, monkeypatch):
    root, dataset_id = umaze_dense
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return dataset_id


@pytest.fixture(scope="session")
def reference_run(umaze_dense, tmp_path_factory):
    """One uninterrupted tiny run, shared by the tests."""
    import os

    root, dataset_id = umaze_dense
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        run_dir = tmp_path_factory.mktemp("run") / "ref"
        agent = sgrl.train_run(dataset_id, run_dir, overrides=TINY, progress=False)
    finally:
        if old is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = old
    return agent


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_train_act_eval_smoke(reference_run, tiny_maze):
    agent = reference_run
    run_dir = agent.run_dir
    for name in ("config.json", "values.ckpt", "actor.ckpt", "policy.ckpt", "metrics.csv",
                 "learning_curve.png", "weights.json"):
        assert (run_dir / name).is_file(), name
    config = json.loads((run_dir / "config.json").read_text())
    assert config["family"] == "maze2d" and config["preset"]["values"]["tau"] == 0.9
    metrics = (run_dir / "metrics.csv").read_text().splitlines()
    assert metrics[0].startswith("stage,step")
    assert sum(line.startswith("values") for line in metrics) == 2
    assert sum(line.startswith("policy") for line in metrics) == 2
    assert sum(line.startswith("actor") for line in metrics) == 2

    # A reloaded run acts exactly like the trained one.
    loaded = sgrl.load_run(run_dir)
    obs = np.zeros((2, loaded.policy.obs_dim), np.float32)  # the eval batch: no recompile
    for method in ("swg", "swg-r"):
        a = sgrl.act(agent.policy, obs, method=method, scale=2.0, num_candidates=4,
                     key=jr.key(0))
        b = sgrl.act(loaded.policy, obs, method=method, scale=2.0, num_candidates=4,
                     key=jr.key(0))
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)
    assert loaded.task == agent.task
    # The run's dataset, found as load_run finds it: the environment's root first ...
    data, task = sgrl.load_run_data(run_dir)
    assert task == agent.task
    expected, _ = sgrl.load_dataset(config["source"])
    np.testing.assert_array_equal(np.asarray(data.actions), np.asarray(expected.actions))
    # ... then an explicit root, which wins over it.
    with pytest.raises(sgrl.DatasetNotFoundError):
        sgrl.load_run_data(run_dir, root=run_dir / "no-such-root")
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        sgrl.load_run_data(run_dir / "missing")
    # IQL acts with the reloaded actor: its mean, deterministic, inside the bounds.
    a = sgrl.act(agent.policy, obs + 0.5, method=sgrl.IQL(agent.actor), key=jr.key(0))
    b = sgrl.act(loaded.policy, obs + 0.5, method=sgrl.IQL(loaded.actor), key=jr.key(1))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert a.shape == (2, 2) and float(np.abs(np.asarray(a)).max()) <= 1.0


@pytest.mark.parametrize("stage", ["actor"])
def test_actor_resume_matches_uninterrupted(reference_run, tiny_maze, tmp_path, monkeypatch,
                                            stage):
    from selfguide_rl import _iql

    run_dir = tmp_path / "run"
    restore = _interrupt(monkeypatch, _iql.ActorStep, at_call=2)
    with pytest.raises(KeyboardInterrupt):
        sgrl.train_run(tiny_maze, run_dir, overrides=TINY, progress=False)
    restore()
    assert (run_dir / "actor.ckpt").exists() and not (run_dir / "policy.ckpt").exists()
    agent = sgrl.train_run(tiny_maze, run_dir, overrides=TINY, progress=False)
    for a, b in zip(_leaves(reference_run.actor), _leaves(agent.actor), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow  # MuJoCo rollouts
def test_evaluate_agent_writes_scores_for_every_method(reference_run):
    agent = reference_run
    results = sgrl.evaluate_agent(agent, episodes=2, max_episode_steps=30)
    assert [r.method for r in results] == list(sgrl.METHODS)
    for r in results:
        assert r.scores.shape == (2,) and np.all(np.isfinite(r.scores))
    rows = (agent.run_dir / "eval.csv").read_text().splitlines()
    assert len(rows) == 1 + len(sgrl.METHODS) * 2
    table = sgrl.format_results(results)
    assert "| swg |" in table and "±" in table


def test_agents_evaluated_together_keep_their_own_idql_temperature(reference_run):
    """`idql_temperature=None`: each agent's preset's; each agent's episodes are those it
    runs alone at that temperature (and the temperature matters)."""
    import dataclasses

    cold, hot = (dataclasses.replace(reference_run, preset=reference_run.preset.replace(
        idql_temperature=t)) for t in (0.0, 1.0))
    kw = dict(methods=("idql",), episodes=2, max_episode_steps=30, record=False)
    together = sgrl.evaluate_agents([cold, hot], seeds=(0, 3), **kw)
    for agent, seed, (r,) in zip((cold, hot), (0, 3), together, strict=True):
        (alone,) = sgrl.evaluate_agent(agent, seeds=(seed,), **kw)
        # Two members against one: the stacked products may round differently (float32).
        np.testing.assert_allclose(r.returns, alone.returns, rtol=1e-5)
    (hot_at_0,) = sgrl.evaluate_agent(hot, seeds=(3,), idql_temperature=0.0, **kw)
    assert not np.array_equal(hot_at_0.returns, together[1][0].returns)


def test_swg_samples_at_the_temperature_asked_and_records_it(reference_run, tmp_path):
    """`temperature` reaches BC's and SWG's DDPM (same seed, same episodes; another
    temperature, other actions) and each row of `eval.csv` says what it sampled at."""
    import csv
    import dataclasses

    agent = dataclasses.replace(reference_run, run_dir=tmp_path)
    kw = dict(methods=("bc", "swg", "idql"), scales=(2.0,), idql_temperature=0.5, episodes=2,
              max_episode_steps=30, seeds=(1,))
    cold = sgrl.evaluate_agent(agent, record=False, **kw)
    hot = sgrl.evaluate_agent(agent, temperature=1.0, **kw)
    again = sgrl.evaluate_agent(agent, temperature=1.0, record=False, **kw)
    assert len(cold) == len(hot) == 3
    for h, a in zip(hot, again, strict=True):
        np.testing.assert_array_equal(h.returns, a.returns)
    assert not np.array_equal(cold[0].returns, hot[0].returns)  # BC
    assert not np.array_equal(cold[1].returns, hot[1].returns)  # SWG
    np.testing.assert_array_equal(cold[2].returns, hot[2].returns)  # IDQL: its own
    with (tmp_path / "eval.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {(r["method"], r["temperature"]) for r in rows} == {
        ("bc", "1.0"), ("swg", "1.0"), ("idql", "0.5")}
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        sgrl.evaluate_agent(agent, temperature=-0.5, **kw)


def test_a_grid_of_settings_runs_each_settings_own_episodes(reference_run):
    """`evaluate_grid`: member k's setting s runs the episodes of `evaluate` with that
    method, temperature and seed (its settings share its weights in one call, so equal up
    to float32 rounding of the larger products); `evaluate_agents` orders and labels a
    method's grid clip, temperature, scale."""
    import dataclasses

    agent = reference_run
    other = dataclasses.replace(agent.policy, model=_perturbed(agent.policy.model, jr.key(9)))
    policies, seeds = [agent.policy, other], [0, 30_000]
    methods = [[sgrl.SWG(1.0), sgrl.SWG(10.0, clip_max=1.0), sgrl.SWG(3.0)],
               [sgrl.SWG(3.0, clip_max=None), sgrl.SWG(3.0), sgrl.SWG(30.0)]]
    temps = [[0.0, 0.0, 1.0], [0.5, 0.0, 0.0]]
    short = dict(task=agent.task, max_episode_steps=30)  # rounding grows along episodes
    grid = sgrl.evaluate_grid(policies, agent.task, methods=methods, seeds=seeds,
                              temperatures=temps, episodes=3, num_envs=2,
                              env=make_vector_env(num_envs=12, **short))
    # One step's actions: float32 rounding apart; short episodes' returns: nearly so.
    obs = jnp.asarray(np.random.default_rng(0).normal(size=(2, 3, 2, agent.policy.obs_dim)),
                      jnp.float32)
    keys = jnp.stack([jr.key(s) for s in seeds])
    acts = _act_grid(stack(policies), obs, stack([stack(m) for m in methods]),
                     jnp.asarray(temps, jnp.float32), keys, jnp.uint32(0), jnp.uint32(0))
    for k, (p, ms, ts, s, got) in enumerate(zip(policies, methods, temps, seeds, grid,
                                                strict=True)):
        for j, (m, t, r) in enumerate(zip(ms, ts, got, strict=True)):
            key = jr.fold_in(jr.fold_in(jr.key(s), 0), 0)
            one = sgrl.act(p, obs[k, j], method=m, temperature=t, key=key)
            np.testing.assert_allclose(acts[k, j], one, atol=2e-5)
            alone = sgrl.evaluate(p, agent.task, method=m, temperature=t, seed=s, episodes=3,
                                  num_envs=2, env=make_vector_env(num_envs=2, **short))
            np.testing.assert_allclose(r.returns, alone.returns, rtol=1e-4)
            assert r.scale == alone.scale
    assert len({tuple(r.returns) for row in grid for r in row}) > 3  # settings matter
    with pytest.raises(ValueError, match="one temperature per member and setting"):
        sgrl.evaluate_grid(policies, agent.task, methods=methods, seeds=seeds,
                           temperatures=[[0.0], [0.0]])
    with pytest.raises(ValueError, match="one method and one seed per policy"):
        sgrl.evaluate_grid(policies, agent.task, methods=[methods[0], methods[1][:2]],
                           seeds=seeds)

    kw = dict(methods=("swg",), episodes=2, max_episode_steps=30, record=False, seeds=(1,))
    (swept,) = sgrl.evaluate_agents([agent], scales=(2.0, 10.0), clips=(1.0, None),
                                    temperature=(0.0, 1.0), **kw)
    labels = [(r.clip_max, r.temperature, r.scale) for r in swept]
    assert labels == [(c, t, s) for c in (1.0, None) for t in (0.0, 1.0) for s in (2.0, 10.0)]
    for r in swept[5:7]:  # no clip: (ρ 10, temperature 0), (ρ 2, 1), as evaluated alone
        alone_agent = dataclasses.replace(agent, preset=agent.preset.replace(clip_max=None))
        (alone,) = sgrl.evaluate_agent(alone_agent, scales=(r.scale,),
                                       temperature=r.temperature, **kw)
        np.testing.assert_allclose(r.returns, alone.returns, rtol=1e-4)
    (idql,) = sgrl.evaluate_agents([agent], methods=("idql",), idql_temperature=(0.0, 1.0),
                                   **{k: v for k, v in kw.items() if k != "methods"})
    assert [r.temperature for r in idql] == [0.0, 1.0]
    with pytest.raises(ValueError, match="`clips` is empty"):
        sgrl.evaluate_agents([agent], clips=(), **kw)


def _interrupt(monkeypatch, step_type, at_call):
    """Ctrl-C at the `at_call`-th chunk of the trainer whose step is a `step_type`."""
    original = _loop.run_chunk
    calls = {"n": 0}

    def interrupted(fixed, *args, **kwargs):
        if isinstance(fixed[1], step_type):
            calls["n"] += 1
            if calls["n"] == at_call:
                raise KeyboardInterrupt
        return original(fixed, *args, **kwargs)

    monkeypatch.setattr(_loop, "run_chunk", interrupted)
    return lambda: monkeypatch.setattr(_loop, "run_chunk", original)


@pytest.mark.parametrize("stage", ["values", "policy"])
def test_resume_matches_uninterrupted(reference_run, tiny_maze, tmp_path, monkeypatch, stage):
    run_dir = tmp_path / "run"
    step_type = _values.ValueStep if stage == "values" else core_train.DiffusionStep
    restore = _interrupt(monkeypatch, step_type, at_call=2)
    with pytest.raises(KeyboardInterrupt):
        sgrl.train_run(tiny_maze, run_dir, overrides=TINY, progress=False)
    restore()
    assert (run_dir / "values.ckpt").exists()
    assert (run_dir / "policy.ckpt").exists() == (stage == "policy")
    if stage == "policy":
        # The finished value stage is loaded, not redone.
        original = _loop.run_chunk
        monkeypatch.setattr(_loop, "run_chunk", lambda fixed, *args: (
            _fail() if isinstance(fixed[1], _values.ValueStep) else original(fixed, *args)))
    agent = sgrl.train_run(tiny_maze, run_dir, overrides=TINY, progress=False)
    ref = reference_run
    for a, b in zip(_leaves(ref.policy.values), _leaves(agent.policy.values), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(_leaves(ref.policy.model), _leaves(agent.policy.model), strict=True):
        np.testing.assert_array_equal(a, b)


def _fail(*args, **kwargs):
    raise AssertionError("a finished stage was run again")


def test_other_settings_in_the_same_run_dir_are_refused(reference_run, tiny_maze):
    with pytest.raises(ValueError, match="holds a different run"):
        sgrl.train_run(tiny_maze, reference_run.run_dir, seed=1, overrides=TINY,
                       progress=False)


def test_cli_errors(reference_run, tiny_maze, tmp_path, capsys):
    assert main(["train", tiny_maze, "--run-dir", str(tmp_path / "x"), "--preset", "mujoco"]) == 1
    assert "unknown preset 'mujoco'" in capsys.readouterr().err
    assert main(["sweep", str(reference_run.run_dir), "--scales", "1,-2"]) == 1
    assert "guidance scale must be a finite number >= 0, got -2.0" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "missing")]) == 1
    assert "is not a run directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["eval", str(reference_run.run_dir), "--methods", "bc,awr"])
    assert "unknown method(s) ['awr']" in capsys.readouterr().err


@pytest.mark.slow  # MuJoCo rollouts
def test_cli_sweep_and_eval(reference_run, tiny_maze, capsys):
    assert main(["sweep", str(reference_run.run_dir), "--scales", "0,3", "--episodes", "2",
                 "--max-episode-steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "| swg | 0 |" in out and "| swg | 3 |" in out
    assert main(["eval", str(reference_run.run_dir), "--methods", "bc", "--episodes", "2",
                 "--max-episode-steps", "20"]) == 0
    assert "| bc | – |" in capsys.readouterr().out


def test_evaluate_rejects_mismatched_action_dimension(reference_run):
    import equinox as eqx
    import jax.numpy as jnp

    agent = reference_run
    policy = eqx.tree_at(lambda p: (p.low, p.high), agent.policy,
                         (jnp.zeros(3), jnp.ones(3)))
    wrong = eqx.tree_at(lambda p: p.model, policy,
                        selfguide.JointModel(agent.policy.model.network, 3, 1, 8))
    with pytest.raises(ValueError, match="mismatched action dimension"):
        sgrl.evaluate(wrong, agent.task, episodes=1)


def test_kitchen_error_names_the_workaround(monkeypatch):
    from selfguide_rl import _evaluate

    task = sgrl.TaskInfo(dataset_id="D4RL/kitchen/complete-v2", family="kitchen",
                         env_id="FrankaKitchen-v1")

    def broken(self, **kwargs):
        raise AssertionError

    monkeypatch.setattr(sgrl.TaskInfo, "make_env", broken)
    with pytest.raises(RuntimeError, match=r'FrankaKitchen-v1 cannot be constructed.*mujoco<3\.12'):
        _evaluate.make_env(task)


@pytest.mark.slow  # MuJoCo rollouts during training
def test_evaluation_during_training_and_kept_checkpoints(reference_run, tiny_maze, tmp_path):
    run_dir = tmp_path / "curve"
    agent = sgrl.train_run(tiny_maze, run_dir, overrides={**TINY, "eval_envs": 2},
                           progress=False, eval_every=100, eval_episodes=2,
                           keep_checkpoints=(100,))
    rows = sgrl._pipeline.read_csv(run_dir / "eval_curve.csv")
    assert [(int(r["step"]), r["method"]) for r in rows] == [
        (100, "bc"), (100, "swg"), (200, "bc"), (200, "swg")]
    assert all(np.isfinite(float(r["mean"])) and int(r["episodes"]) == 2 for r in rows)
    # The kept checkpoint holds step 100; the final one is the uninterrupted run's.
    kept = selfguide.checkpoint.read_checkpoint(run_dir / "policy-step100.ckpt")[0]
    assert kept["step"] == 100
    for a, b in zip(_leaves(reference_run.policy.model), _leaves(agent.policy.model),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert (run_dir / "learning_curve.png").stat().st_size > 0


def test_during_training_settings_are_checked_first(tiny_maze, tmp_path):
    with pytest.raises(ValueError, match=r"eval_every=150; expected a positive multiple of "
                                         r"policy.steps_per_chunk \(100\)"):
        sgrl.train_run(tiny_maze, tmp_path / "x", overrides=TINY, eval_every=150)
    with pytest.raises(ValueError, match=r"keep_checkpoints \[300\] cannot be kept"):
        sgrl.train_run(tiny_maze, tmp_path / "x", overrides=TINY, keep_checkpoints=(100, 300))
    assert not (tmp_path / "x").exists()


def test_seeds_trained_together_equal_their_single_runs(reference_run, tiny_maze, tmp_path):
    import equinox as eqx

    agents = sgrl.train_runs(tiny_maze, tmp_path / "many", seeds=(0, 1), overrides=TINY,
                             progress=False)
    assert [a.run_dir.name for a in agents] == ["seed0", "seed1"]
    ref = reference_run  # seed 0 alone

    def arrays(tree):
        return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(tree, eqx.is_array))]

    for a, b in zip(arrays(ref.policy.values), arrays(agents[0].policy.values), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(arrays(ref.actor), arrays(agents[0].actor), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(arrays(ref.policy.model), arrays(agents[0].policy.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # Each seed's directory is an ordinary run: it loads, and a single run resumes it.
    loaded = sgrl.load_run(tmp_path / "many" / "seed1")
    for a, b in zip(arrays(loaded.policy.model), arrays(agents[1].policy.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(arrays(agents[0].policy.model)[0], arrays(agents[1].policy.model)[0])
    with pytest.raises(ValueError, match="expected distinct seeds"):
        sgrl.train_runs(tiny_maze, tmp_path / "x", seeds=(1, 1), overrides=TINY)


def test_cli_seed_lists(tmp_path, capsys):
    from selfguide_rl._cli import _seed_list

    assert _seed_list("0-4") == (0, 1, 2, 3, 4) and _seed_list("0,2,5") == (0, 2, 5)
    with pytest.raises(SystemExit):
        main(["train", "x", "--run-dir", str(tmp_path), "--seeds", "a-b"])
    assert "expected seeds as a range (0-4) or a list (0,2,5)" in capsys.readouterr().err


def _perturbed(tree, key):
    import equinox as eqx

    arrays, rest = eqx.partition(tree, eqx.is_inexact_array)
    leaves, treedef = jax.tree.flatten(arrays)
    noisy = [x + 0.05 * jr.normal(k, x.shape, x.dtype)
             for x, k in zip(leaves, jr.split(key, len(leaves)), strict=True)]
    return eqx.combine(jax.tree.unflatten(treedef, noisy), rest)


def test_members_evaluated_together_run_their_single_episodes(reference_run):
    """All members' episodes in one vector env, one call per step: member k's returns are
    those of `evaluate` with its own policy, method and seed (the same environment seeds
    and noise keys; bit-identical actions on CPU)."""
    import dataclasses

    agent = reference_run
    other = dataclasses.replace(agent.policy,
                                model=_perturbed(agent.policy.model, jr.key(7)))
    policies, seeds = [agent.policy, other], [0, 30_000]
    cases = {
        "swg": [sgrl.SWG(3.0), sgrl.SWG(10.0, clip_max=1.0)],
        "iql": [sgrl.IQL(agent.actor), sgrl.IQL(_perturbed(agent.actor, jr.key(8)))],
        "swg-r": [sgrl.SWGR(3.0, num_candidates=4), sgrl.SWGR(10.0, num_candidates=4)],
    }
    for name, methods in cases.items():
        together = sgrl.evaluate_members(policies, agent.task, methods=methods, seeds=seeds,
                                         episodes=3, num_envs=2)
        for p, m, s, r in zip(policies, methods, seeds, together, strict=True):
            alone = sgrl.evaluate(p, agent.task, method=m, seed=s, episodes=3, num_envs=2)
            np.testing.assert_array_equal(r.returns, alone.returns, err_msg=name)
            assert r.method == name and r.scale == alone.scale
        assert not np.array_equal(together[0].returns, together[1].returns)
    with pytest.raises(ValueError, match="one method and one seed per policy"):
        sgrl.evaluate_members(policies, agent.task, methods=[sgrl.BC()], seeds=seeds)
    with pytest.raises(ValueError, match="must be of one kind"):
        sgrl.evaluate_members(policies, agent.task, methods=[sgrl.BC(), sgrl.SWG(1.0)],
                              seeds=seeds)
    with pytest.raises(ValueError, match="must be of one kind"):
        sgrl.evaluate_members(policies, agent.task, seeds=seeds,
                              methods=[sgrl.SWGR(1.0, num_candidates=4),
                                       sgrl.SWGR(1.0, num_candidates=8)])

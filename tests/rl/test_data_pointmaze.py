"""PointMaze datasets by the D4RL recipe: collect -> load round trip, metadata, determinism."""

import time

import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("minari")
pytest.importorskip("gymnasium_robotics")

from selfguide_rl.data import (  # noqa: E402
    MazePlanner,
    WaypointController,
    collect_pointmaze,
    flatten_observation,
    load_minari,
    load_task,
    make_eval_env,
    minari_task_info,
)


@pytest.fixture
def umaze(umaze_dense_goal, monkeypatch):
    """The goal-conditioned view (8-d observations)."""
    root, dataset_id = umaze_dense_goal
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return load_minari(dataset_id)


def test_round_trip_shapes_and_dtypes(umaze):
    data, task = umaze
    assert len(data) == 300
    assert data.observations.shape == data.next_observations.shape == (300, 8)
    assert data.actions.shape == (300, 2) and data.rewards.shape == (300,)
    assert data.observations.dtype == data.actions.dtype == data.rewards.dtype == jnp.float32
    assert data.terminals.dtype == data.timeouts.dtype == jnp.bool_
    assert float(jnp.abs(data.actions).max()) <= 1.0


def test_round_trip_episode_boundaries(umaze):
    data, task = umaze
    starts = np.asarray(data.episode_starts)
    assert data.num_episodes >= 2 and starts[0] == 0 and np.all(np.diff(starts) > 0)
    assert np.asarray(data.episode_lengths()).sum() == 300
    assert (
        data.episode_ids.tolist()
        == np.repeat(np.arange(data.num_episodes), np.asarray(data.episode_lengths())).tolist()
    )
    # Exactly the last step of every episode is flagged; a continuing task never terminates.
    last = np.zeros(300, bool)
    last[starts[1:] - 1] = True
    last[-1] = True
    np.testing.assert_array_equal(np.asarray(data.timeouts), last)
    assert not np.asarray(data.terminals).any()
    # Segments other than the last end at the goal (or after 300 steps, not reached here).
    lengths = np.asarray(data.episode_lengths())
    assert lengths[:-1].max() < task.max_episode_steps


def test_round_trip_next_observations_and_rewards(umaze):
    data, _ = umaze
    obs, nxt = np.asarray(data.observations), np.asarray(data.next_observations)
    # Minari keeps T + 1 observations: next_observations[i] = observations[i + 1] everywhere,
    # also across segment ends, since the point goes on from where it is.
    np.testing.assert_array_equal(nxt[:-1], obs[1:])
    # Flat layout: observation (x, y, vx, vy), achieved_goal (x, y), desired_goal (x, y).
    np.testing.assert_array_equal(obs[:, 4:6], obs[:, 0:2])
    # Dense reward of a step: exp(-|achieved - desired|) in the observation it leads to.
    expected = np.exp(-np.linalg.norm(nxt[:, 4:6] - nxt[:, 6:8], axis=1))
    np.testing.assert_allclose(np.asarray(data.rewards), expected, rtol=1e-5, atol=1e-6)


def test_metadata_of_a_collected_dataset(umaze, umaze_dense_goal):
    data, task = umaze
    assert task.dataset_id == umaze_dense_goal[1] == "selfguide/pointmaze-umaze-dense-goal-v0"
    assert task.family == "maze2d"
    assert task.env_id == "PointMaze_UMazeDense-v3" and task.max_episode_steps == 300
    assert task.env_kwargs["maze_map"][1][1] == "g"  # D4RL's U-maze goal cell
    assert task.env_kwargs["continuing_task"] and not task.env_kwargs["reset_target"]
    assert task.observation_keys == ("observation", "achieved_goal", "desired_goal")
    assert (task.obs_dim, task.act_dim) == (8, 2)
    assert task.ref_max_score > task.ref_min_score > 0
    assert minari_task_info(task.dataset_id) == task
    assert load_task(task.dataset_id) == task  # metadata only, the same answer


def test_eval_env_from_metadata(umaze):
    _, task = umaze
    env = task.make_env()
    try:
        obs, _ = env.reset(seed=1)
        x = flatten_observation(obs, task.observation_keys)
        assert x.shape == (8,) and x.dtype == np.float32
        maze = env.unwrapped.maze
        assert tuple(maze.cell_xy_to_rowcol(obs["desired_goal"])) == (1, 1)
    finally:
        env.close()


@pytest.mark.parametrize("view", ["pointmaze-medium", "pointmaze-medium-goal"])
def test_controller_reaches_the_evaluation_goal(view):
    env = make_eval_env(view)
    maze = env.unwrapped.maze
    # D4RL's view holds no goal: the controller is given the evaluation cell's centre.
    controller = WaypointController(maze, goal=maze.cell_rowcol_to_xy(np.array([6, 6])))
    try:
        for seed in range(3):
            obs, _ = env.reset(seed=seed)
            for _ in range(env.spec.max_episode_steps):
                obs, reward, _, _, info = env.step(controller(obs))
                if info["success"]:
                    break
            assert info["success"], f"seed {seed}: not at the goal after 600 steps"
    finally:
        env.close()


def _d4rl_view(dataset, monkeypatch):
    root, dataset_id = dataset
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return load_minari(dataset_id)


def _umaze_goal_xy():
    env = make_eval_env("pointmaze-umaze")
    try:
        return np.asarray(env.unwrapped.maze.cell_rowcol_to_xy(np.array([1, 1])))
    finally:
        env.close()


def test_d4rl_view_stores_position_and_velocity_only(umaze_dense, monkeypatch):
    data, task = _d4rl_view(umaze_dense, monkeypatch)
    assert task.dataset_id == "selfguide/pointmaze-umaze-dense-v1"
    assert data.observations.shape == (300, 4) and task.observation_keys is None
    assert (task.obs_dim, task.act_dim, task.family) == (4, 2, "maze2d")
    obs, nxt = np.asarray(data.observations), np.asarray(data.next_observations)
    np.testing.assert_array_equal(nxt[:-1], obs[1:])
    # Velocities are those of the step: x' ≈ x + dt·v' (dt = 0.01 s per control step).
    np.testing.assert_allclose(nxt[:, :2] - obs[:, :2], 0.01 * nxt[:, 2:4], atol=5e-3)
    # D4RL's timeouts: segment ends are truncations, nothing terminates.
    assert not np.asarray(data.terminals).any() and np.asarray(data.timeouts)[-1]


def test_d4rl_view_dense_rewards_are_for_the_evaluation_goal(umaze_dense, monkeypatch):
    data, _ = _d4rl_view(umaze_dense, monkeypatch)
    nxt = np.asarray(data.next_observations)
    expected = np.exp(-np.linalg.norm(nxt[:, :2] - _umaze_goal_xy(), axis=1))
    np.testing.assert_allclose(np.asarray(data.rewards), expected, rtol=1e-5, atol=1e-6)


def test_d4rl_view_sparse_rewards_are_one_within_the_goal_radius(umaze_sparse, monkeypatch):
    data, _ = _d4rl_view(umaze_sparse, monkeypatch)
    distance = np.linalg.norm(np.asarray(data.next_observations)[:, :2] - _umaze_goal_xy(), axis=1)
    rewards = np.asarray(data.rewards)
    np.testing.assert_array_equal(rewards, (distance <= 0.45).astype(np.float32))
    assert 0 < rewards.sum() < len(rewards)  # the data do reach the evaluation goal


def test_evaluation_goal_reward_on_hand_computed_cases():
    import gymnasium as gym

    from selfguide_rl.data._maze2d import evaluation_goal_reward

    for env_id, cases in (
        ("PointMaze_UMaze-v3", [((0.0, 0.0), (0.3, 0.3), 1.0), ((0.0, 0.0), (0.4, 0.3), 0.0)]),
        ("PointMaze_UMazeDense-v3", [((1.0, 2.0), (1.0, 2.0), 1.0),
                                     ((0.0, 0.0), (3.0, 4.0), float(np.exp(-5.0)))]),
    ):
        env = gym.make(env_id)
        for position, goal, reward in cases:
            got = evaluation_goal_reward(env.unwrapped, np.array(position), np.array(goal))
            assert got == pytest.approx(reward, rel=1e-12)
        env.close()


def test_d4rl_view_evaluates_through_the_stored_spec(umaze_dense, monkeypatch):
    _, task = _d4rl_view(umaze_dense, monkeypatch)
    env = task.make_env()
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (4,)
        names = [w.name for w in env.spec.additional_wrappers]
        assert names == ["PositionVelocityObservation"]
        assert tuple(env.unwrapped.maze.cell_xy_to_rowcol(env.unwrapped.goal)) == (1, 1)
    finally:
        env.close()


def test_controller_without_a_goal_says_what_to_pass():
    env = make_eval_env("pointmaze-umaze")
    try:
        with pytest.raises(ValueError, match="pass goal=\\(x, y\\)"):
            WaypointController(env.unwrapped.maze)(np.zeros(4))
    finally:
        env.close()


def test_planner_shortest_path_in_the_u_maze():
    u_maze = [[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 1, 1, 0, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]]
    planner = MazePlanner(u_maze)
    path, cell = [], (3, 1)
    while (cell := planner.next_cell(cell, (1, 1))) is not None:
        path.append(cell)
    assert path == [(3, 2), (3, 3), (2, 3), (1, 3), (1, 2), (1, 1)]
    assert planner.next_cell((1, 1), (1, 1)) is None
    assert planner.next_cell((0, 0), (1, 1)) is None  # a wall


def _arrays(dataset_id):
    data, _ = load_minari(dataset_id)
    return [
        np.asarray(x)
        for x in (data.observations, data.actions, data.rewards, data.timeouts, data.episode_starts)
    ]


def test_collection_is_deterministic_under_a_seed():
    kwargs = dict(steps=250, ref_episodes=1)
    a = collect_pointmaze("pointmaze-umaze", seed=7, dataset_id="test/a-v0", **kwargs)
    b = collect_pointmaze("pointmaze-umaze", seed=7, dataset_id="test/b-v0", **kwargs)
    c = collect_pointmaze("pointmaze-umaze", seed=8, dataset_id="test/c-v0", **kwargs)
    for x, y in zip(_arrays("test/a-v0"), _arrays("test/b-v0"), strict=True):
        np.testing.assert_array_equal(x, y)
    assert (a.ref_min_score, a.ref_max_score) == (b.ref_min_score, b.ref_max_score)
    assert not np.array_equal(_arrays("test/a-v0")[1], _arrays("test/c-v0")[1])
    assert c.steps == 250


def test_medium_maze_collects_and_loads():
    report = collect_pointmaze("pointmaze-medium", steps=200, seed=0, ref_episodes=1)
    assert report.dataset_id == "selfguide/pointmaze-medium-v1" and report.steps == 200
    data, task = load_minari(report.dataset_id)
    assert len(data) == 200 and task.env_id == "PointMaze_Medium-v3"
    assert task.env_kwargs["maze_map"][6][6] == "g" and task.max_episode_steps == 600
    assert report.steps_per_second > 0


@pytest.mark.slow
@pytest.mark.parametrize("task", ["pointmaze-umaze-dense", "pointmaze-medium-dense"])
def test_collection_speed(task):
    start = time.perf_counter()
    report = collect_pointmaze(task, steps=50_000, seed=0, ref_episodes=10)
    data, info = load_minari(report.dataset_id)
    print(
        f"{task}: {report.steps_per_second:,.0f} steps/s collecting, "
        f"{time.perf_counter() - start:.1f} s with reference scores, writing and loading; "
        f"{data.num_episodes} episodes, refs {info.ref_min_score:.1f} / {info.ref_max_score:.1f}"
    )
    assert len(data) == 50_000 and report.steps_per_second > 1000


def test_minari_metadata_without_reference_scores_falls_back_to_d4rl():
    import warnings

    import gymnasium as gym
    import minari

    collector = minari.DataCollector(gym.make("Hopper-v5"))
    collector.reset(seed=0)
    for _ in range(5):
        collector.step(np.zeros(3, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collector.create_dataset("mujoco/hopper/medium-v0", algorithm_name="zeros")
    collector.close()
    data, task = load_minari("mujoco/hopper/medium-v0")
    assert (len(data), data.obs_dim, data.act_dim) == (5, 11, 3)
    assert task.family == "locomotion" and task.env_id == "Hopper-v5"
    assert (task.ref_min_score, task.ref_max_score) == (-20.272305, 3234.3)
    assert task.observation_keys is None
    assert data.timeouts.tolist() == [False] * 4 + [True]

"""D4RL HDF5 loading: the real door-human-v0 file and small files written here."""

import jax.numpy as jnp
import numpy as np
import pytest

from selfguide_rl.data import load_d4rl_hdf5, load_dataset, load_task, normalized_score


def test_door_human_v0_episodes(door_file):
    data, task = load_d4rl_hdf5(door_file)
    assert (len(data), data.num_episodes) == (6729, 25)
    assert data.observations.shape == data.next_observations.shape == (6729, 39)
    assert data.actions.shape == (6729, 28)
    assert data.observations.dtype == data.actions.dtype == data.rewards.dtype == jnp.float32
    lengths = np.asarray(data.episode_lengths())
    assert lengths.sum() == 6729 and lengths.min() == 223 and lengths.max() == 300
    # Every demonstration ends in a terminal; the v0 timeouts at step 200 are not boundaries.
    ends = np.asarray(data.episode_starts[1:]) - 1
    terminals = np.asarray(data.terminals)
    assert terminals.sum() == 25 and terminals[ends].all() and terminals[-1]
    assert not np.asarray(data.timeouts).any()
    returns = np.asarray(data.episode_returns())
    np.testing.assert_allclose(
        [returns.min(), returns.mean(), returns.max()], [230.2, 795.7, 1496.2], atol=0.05
    )


def test_door_next_observations(door_file):
    data, _ = load_d4rl_hdf5(door_file)
    obs, nxt = np.asarray(data.observations), np.asarray(data.next_observations)
    last = np.zeros(len(data), bool)
    last[np.asarray(data.episode_starts[1:]) - 1] = True
    last[-1] = True
    inside = ~last[:-1]
    np.testing.assert_array_equal(nxt[:-1][inside], obs[1:][inside])  # includes step 200
    np.testing.assert_array_equal(nxt[last], obs[last])  # terminal: a masked copy


def test_door_task_metadata(door_file):
    data, task = load_dataset(door_file)
    assert task.dataset_id == "door-human-v0" and task.family == "adroit"
    assert (task.ref_min_score, task.ref_max_score) == (-56.512833, 2880.5693087298737)
    scores = np.asarray(normalized_score(data.episode_returns(), task))
    expected = (
        100 * (np.asarray(data.episode_returns()) + 56.512833) / (2880.5693087298737 + 56.512833)
    )
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert 7.5 < scores.min() and scores.max() < 53
    assert load_task(door_file) == task  # from the name alone, the same answer
    with pytest.raises(ValueError, match="only applies to HDF5"):
        load_task("D4RL/door/human-v2", dataset_id="door-human-v0")


def test_door_quirk_visible_when_timeouts_also_end_episodes(door_file):
    data, _ = load_d4rl_hdf5(door_file, episode_ends="terminals_or_timeouts")
    assert data.num_episodes == 50 and int(data.timeouts.sum()) == 25


def test_door_environment_has_the_file_spaces(door_file):
    pytest.importorskip("gymnasium_robotics")
    _, task = load_d4rl_hdf5(door_file)
    env = task.make_env()
    try:
        assert env.observation_space.shape == (39,) and env.action_space.shape == (28,)
    finally:
        env.close()


def _arrays(n=6, obs_dim=3):
    obs = np.arange(n * obs_dim, dtype=np.float32).reshape(n, obs_dim)
    return dict(
        observations=obs,
        actions=np.zeros((n, 2), np.float32),
        rewards=np.arange(n, dtype=np.float32),
        terminals=np.zeros(n, bool),
        timeouts=np.zeros(n, bool),
    )


def test_timeouts_end_episodes_and_next_observations(write_d4rl):
    a = _arrays()
    a["terminals"][1] = True  # episode 0: steps 0-1, terminal
    a["timeouts"][3] = True  # episode 1: steps 2-3, truncated
    path = write_d4rl("toy.hdf5", **a)  # the last episode, steps 4-5, has no end flag
    data, task = load_d4rl_hdf5(path)
    assert task is None  # not a D4RL name
    assert data.episode_starts.tolist() == [0, 2, 4]
    assert data.terminals.tolist() == [False, True, False, False, False, False]
    assert data.timeouts.tolist() == [False, False, False, True, False, True]
    obs, nxt = np.asarray(data.observations), np.asarray(data.next_observations)
    for i in (0, 2, 4):
        np.testing.assert_array_equal(nxt[i], obs[i + 1])
    for i in (1, 3, 5):
        np.testing.assert_array_equal(nxt[i], obs[i])  # no stored successor: a copy


def test_stored_next_observations_are_used(write_d4rl):
    a = _arrays()
    a["timeouts"][2] = True
    a["next_observations"] = a["observations"] + 0.5
    data, _ = load_d4rl_hdf5(write_d4rl("x.hdf5", **a))
    np.testing.assert_array_equal(data.next_observations, a["observations"] + 0.5)
    assert data.episode_starts.tolist() == [0, 3]


def test_missing_timeouts_and_terminals_only(write_d4rl):
    a = _arrays()
    del a["timeouts"]
    a["terminals"][2] = True
    data, _ = load_d4rl_hdf5(write_d4rl("x.hdf5", **a))
    assert data.episode_starts.tolist() == [0, 3]
    assert data.timeouts.tolist() == [False] * 5 + [True]
    b = _arrays()
    b["terminals"][2] = True
    b["timeouts"][1] = True
    only = load_d4rl_hdf5(write_d4rl("y.hdf5", **b), episode_ends="terminals")[0]
    assert only.episode_starts.tolist() == [0, 3]
    assert only.timeouts.tolist() == [False] * 5 + [True]  # the inner timeout is cleared

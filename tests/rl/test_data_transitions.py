"""`Transitions`, observation flattening, task metadata, scores and reward processing."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from selfguide_rl.data import (
    TaskInfo,
    Transitions,
    d4rl_task_info,
    flatten_observation,
    normalized_score,
    observation_keys,
    process_rewards,
)
from selfguide_rl.data._transitions import build_transitions


def _toy(rewards=(1.0, 2.0, 3.0, 10.0, 20.0), lengths=(3, 2)):
    n = len(rewards)
    obs = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    terminals = np.zeros(n, bool)
    terminals[2] = True
    timeouts = np.zeros(n, bool)
    timeouts[-1] = True
    return build_transitions(
        "toy",
        observations=obs,
        actions=np.ones((n, 1)),
        rewards=np.asarray(rewards),
        next_observations=obs + 100,
        terminals=terminals,
        timeouts=timeouts,
        episode_lengths=np.asarray(lengths),
    )


def test_fields_shapes_dtypes():
    t = _toy()
    assert isinstance(t, Transitions) and isinstance(t, eqx.Module)
    assert len(t) == t.num_transitions == 5 and t.num_episodes == 2
    assert (t.obs_dim, t.act_dim) == (2, 1)
    assert t.observations.dtype == t.actions.dtype == t.rewards.dtype == jnp.float32
    assert t.terminals.dtype == t.timeouts.dtype == jnp.bool_
    assert t.episode_ids.tolist() == [0, 0, 0, 1, 1]
    assert t.episode_starts.tolist() == [0, 3]
    assert t.episode_lengths().tolist() == [3, 2]
    np.testing.assert_allclose(t.episode_returns(), [6.0, 30.0])


def test_is_a_pytree_usable_under_jit():
    t = _toy()

    @jax.jit
    def mean_reward_of_terminal_steps(t: Transitions):
        return jnp.sum(t.rewards * t.terminals) / jnp.sum(t.terminals)

    assert float(mean_reward_of_terminal_steps(t)) == 3.0
    assert len(jax.tree_util.tree_leaves(t)) == 8
    np.testing.assert_allclose(jax.jit(Transitions.episode_returns)(t), [6.0, 30.0])


def test_observation_keys_and_flatten_order():
    assert observation_keys(["zeta", "desired_goal", "alpha", "observation", "achieved_goal"]) == (
        "observation",
        "achieved_goal",
        "desired_goal",
        "alpha",
        "zeta",
    )
    obs = {
        "desired_goal": np.array([5.0, 6.0]),
        "observation": np.array([1.0, 2.0, 3.0, 4.0]),
        "achieved_goal": np.array([1.0, 2.0]),
    }
    x = flatten_observation(obs)
    assert x.dtype == np.float32 and x.tolist() == [1, 2, 3, 4, 1, 2, 5, 6]
    assert flatten_observation(obs, ("observation", "desired_goal")).tolist() == [1, 2, 3, 4, 5, 6]
    batch = {k: np.stack([v, v + 10]) for k, v in obs.items()}
    xb = flatten_observation(batch)
    assert xb.shape == (2, 8)
    np.testing.assert_array_equal(xb[1], x + 10)
    assert flatten_observation(np.arange(3.0)).tolist() == [0, 1, 2]
    assert flatten_observation((np.ones(2), np.zeros(1))).tolist() == [1, 1, 0]


def test_normalized_score_hand_computed():
    task = TaskInfo("toy-v0", "other", ref_min_score=10.0, ref_max_score=110.0)
    np.testing.assert_allclose(
        normalized_score(np.array([10.0, 60.0, 110.0, -90.0]), task), [0.0, 50.0, 100.0, -100.0]
    )
    door = d4rl_task_info("door-human-v0")
    # random and expert returns of D4RL's door normalise to 0 and 100; halfway to 50.
    returns = np.array([-56.512833, 2880.5693087298737, (-56.512833 + 2880.5693087298737) / 2])
    np.testing.assert_allclose(normalized_score(returns, door), [0.0, 100.0, 50.0], atol=1e-3)
    # 795.66 (the door file's mean human return): 100 (795.66 + 56.51) / 2937.08 = 29.01
    np.testing.assert_allclose(float(normalized_score(795.66, door)), 29.014, atol=1e-2)


def test_d4rl_table():
    hopper = d4rl_task_info("hopper-medium-replay-v2")
    assert (hopper.family, hopper.env_id, hopper.obs_dim, hopper.act_dim) == (
        "locomotion",
        "Hopper-v5",
        11,
        3,
    )
    assert (hopper.ref_min_score, hopper.ref_max_score) == (-20.272305, 3234.3)
    assert d4rl_task_info("halfcheetah-medium-expert-v2").ref_max_score == 12135.0
    assert d4rl_task_info("walker2d-medium-v2").ref_min_score == 1.629008
    ant = d4rl_task_info("antmaze-large-diverse-v2")
    assert ant.family == "antmaze" and ant.env_id is None and "D4RL/antmaze" in ant.note
    assert (ant.ref_min_score, ant.ref_max_score) == (0.0, 1.0)
    assert d4rl_task_info("antmaze-umaze-v0").family == "antmaze"
    kitchen = d4rl_task_info("kitchen-mixed-v0")
    assert (kitchen.family, kitchen.ref_max_score) == ("kitchen", 4.0)
    pen = d4rl_task_info("pen-cloned-v1")
    assert (pen.family, pen.env_id, pen.ref_min_score) == ("adroit", "AdroitHandPen-v1", 96.262799)
    door = d4rl_task_info("door-human-v0")
    assert (door.ref_min_score, door.ref_max_score) == (-56.512833, 2880.5693087298737)
    assert (door.env_id, door.obs_dim, door.act_dim) == ("AdroitHandDoor-v1", 39, 28)
    assert d4rl_task_info("maze2d-umaze-dense-v1").ref_max_score == 193.66285642381482


def test_process_rewards_by_family():
    t = _toy()  # episode returns 6 and 30: spread 24
    loco = process_rewards(t, "locomotion")
    np.testing.assert_allclose(loco.rewards, np.asarray(t.rewards) * 1000 / 24, rtol=1e-6)
    np.testing.assert_allclose(float(jnp.ptp(loco.episode_returns())), 1000.0, rtol=1e-5)
    np.testing.assert_allclose(process_rewards(t, "antmaze").rewards, np.asarray(t.rewards) - 1)
    for family in ("kitchen", "adroit", "maze2d", "other"):
        assert process_rewards(t, family) is t
    task = dataclasses.replace(d4rl_task_info("hopper-medium-v2"))
    assert process_rewards(t, task).rewards[0] == loco.rewards[0]
    # Everything but the rewards is untouched.
    assert process_rewards(t, "antmaze").observations is t.observations

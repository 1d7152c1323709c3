"""IQL's actor: the AWR weights and loss on hand-computed numbers, the weighted mean it must
reach on a bandit with a known answer, and acting through `act`."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide_rl as sgrl
from selfguide_rl.data._transitions import build_transitions


def test_awr_weights_are_exp_beta_a_clipped_at_100():
    w = sgrl.awr_weights(jnp.array([-1.0, 0.0, 1.0, 2.0]), beta=3.0)
    np.testing.assert_allclose(np.asarray(w), [np.exp(-3.0), 1.0, np.exp(3.0), 100.0],
                               rtol=1e-6)
    assert float(sgrl.awr_weights(jnp.array(2.0), beta=3.0, max_weight=500.0)) == pytest.approx(
        np.exp(6.0), rel=1e-6)


def _constant_actor(mean_logit, log_std):
    """An actor whose mean is tanh(mean_logit) whatever the state."""
    actor = sgrl.GaussianActor(3, 2, (4,), key=jr.key(0))
    last = actor.mean.layers[-1]
    actor = eqx.tree_at(lambda a: (a.mean.layers[-1].weight, a.mean.layers[-1].bias, a.log_std),
                        actor, (jnp.zeros_like(last.weight), jnp.asarray(mean_logit),
                                jnp.asarray(log_std)))
    return actor


def test_awr_loss_on_a_hand_computed_batch():
    actor = _constant_actor([0.0, np.arctanh(0.5)], [0.0, np.log(0.5)])
    s = jnp.zeros((2, 3))
    a = jnp.array([[1.0, 0.5], [0.0, 1.5]])
    adv = jnp.array([0.0, 1.0])
    # log N(a | mu, sigma) per row, summed over the two coordinates.
    mu, sigma = np.array([0.0, 0.5]), np.array([1.0, 0.5])
    logp = np.sum(-0.5 * ((np.asarray(a) - mu) / sigma) ** 2 - np.log(sigma)
                  - 0.5 * np.log(2 * np.pi), axis=1)
    w = np.minimum(np.exp(2.0 * np.asarray(adv)), 5.0)  # exp(2) = 7.39 is clipped to 5
    expected = -np.mean(w * logp)
    got = float(sgrl.awr_loss(actor, s, a, adv, 2.0, 5.0))
    assert got == pytest.approx(expected, rel=1e-5)


def test_actor_reaches_the_advantage_weighted_mean():
    # Actions uniform on [-1, 1], A = a_0, no state information. The Gaussian maximising
    # E[exp(β A) log π(a)] has the weighted mean: E[a e^{βa}] / E[e^{βa}] = coth β − 1/β,
    # 0.6716 at β = 3; the second coordinate has A-independent weights: mean 0.
    n = 4096
    rng = np.random.default_rng(0)
    act = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    obs = np.zeros((n, 3), np.float32)
    data = build_transitions(
        "bandit", observations=obs, actions=act, rewards=act[:, 0], next_observations=obs,
        terminals=np.ones(n), timeouts=np.zeros(n), episode_lengths=np.ones(n, int),
    )
    beta = 3.0
    config = sgrl.ActorConfig(beta=beta, hidden=(16,), learning_rate=3e-3, batch_size=512,
                              steps=1500, steps_per_chunk=500)
    actor, history = sgrl.train_actor(data, act[:, 0], config, key=jr.key(0), progress=False)
    mean = np.asarray(actor(jnp.zeros(3)))
    # The empirical weighted mean of these samples (the target the actor can reach).
    w = np.exp(beta * act[:, 0])
    target = float(np.sum(w * act[:, 0]) / w.sum())
    assert target == pytest.approx(1 / np.tanh(beta) - 1 / beta, abs=0.03)
    assert mean[0] == pytest.approx(target, abs=0.03)
    assert abs(mean[1]) < 0.05
    assert [row[0] for row in history] == [500, 1000, 1500]


def test_train_actor_refuses_bad_advantages():
    n = 8
    obs = np.zeros((n, 3), np.float32)
    data = build_transitions(
        "tiny", observations=obs, actions=np.zeros((n, 2)), rewards=np.zeros(n),
        next_observations=obs, terminals=np.ones(n), timeouts=np.zeros(n),
        episode_lengths=np.ones(n, int),
    )
    config = sgrl.ActorConfig(steps=1)
    with pytest.raises(ValueError, match="train_actor: 7 advantages for 8 transitions"):
        sgrl.train_actor(data, np.zeros(7), config, key=jr.key(0), progress=False)
    with pytest.raises(ValueError, match="non-finite"):
        sgrl.train_actor(data, np.full(8, np.nan), config, key=jr.key(0), progress=False)
    with pytest.raises(ValueError, match="beta must be a finite number >= 0"):
        sgrl.ActorConfig(beta=-1.0)


def test_iql_by_name_needs_the_actor():
    from selfguide_rl._methods import method_from_name

    with pytest.raises(ValueError, match="acts with the run's IQL actor, and none was given"):
        method_from_name("evaluate_agent", "iql")
    with pytest.raises(TypeError, match="expected a trained GaussianActor"):
        sgrl.IQL("actor")

"""Value learning: expectile regression hits the known expectile on a tiny MDP; resume is
exact; bad configurations give clear errors."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide_rl as sgrl
from selfguide.training import _loop
from selfguide_rl.data._transitions import build_transitions

GAMMA = 0.9
A0 = np.array([-0.8, -0.2, 0.4, 0.9])  # the four actions taken in s0
R0 = np.array([0.0, 1.0, 2.0, 4.0])  # their rewards


def _tiny_mdp(copies=32):
    """s0 --a_i, r_i--> s1 --a=0, r=1--> terminal, each action of s0 equally often.

    Closed form: Q(s1, 0) = V(s1) = 1 (one action), Q(s0, a_i) = r_i + γ, and V(s0) is the
    τ-expectile of {r_i + γ} under the uniform behaviour policy.
    """
    s0, s1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    obs, act, rew, nxt, term = [], [], [], [], []
    for _ in range(copies):
        for a, r in zip(A0, R0, strict=True):
            obs += [s0, s1]
            act += [[a], [0.0]]
            rew += [r, 1.0]
            nxt += [s1, s1]
            term += [False, True]
    n = len(rew)
    return build_transitions(
        "tiny", observations=np.array(obs), actions=np.array(act), rewards=np.array(rew),
        next_observations=np.array(nxt), terminals=np.array(term), timeouts=np.zeros(n),
        episode_lengths=np.full(n // 2, 2),
    )


def expectile(values, tau):
    """The τ-expectile of equally likely `values`: the root of
    τ Σ_{q > v} (q − v) = (1 − τ) Σ_{q < v} (v − q), by bisection."""
    lo, hi = min(values), max(values)
    for _ in range(100):
        v = 0.5 * (lo + hi)
        g = tau * np.sum(np.maximum(values - v, 0)) - (1 - tau) * np.sum(np.maximum(v - values, 0))
        lo, hi = (v, hi) if g > 0 else (lo, v)
    return 0.5 * (lo + hi)


def _config(**kw):
    base = dict(tau=0.7, hidden=(64, 64), gamma=GAMMA, polyak=0.05, learning_rate=1e-3,
                batch_size=256, steps=3000, steps_per_chunk=1000)
    return sgrl.ValueConfig(**{**base, **kw})


@pytest.mark.parametrize("tau", [0.5, 0.9])
def test_expectile_regression_converges_to_the_known_expectile(tau):
    data = _tiny_mdp()
    result = sgrl.learn_values(data, _config(tau=tau), key=jr.key(0), progress=False)
    v = result.values
    q_true = R0 + GAMMA * 1.0
    s0, s1 = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
    q = np.asarray(jax.vmap(lambda a: v.q(s0, jnp.array([a])))(jnp.asarray(A0)))
    # Tolerance 0.1 on values of 1-5: a few hundred Adam steps of noise on an exact fit.
    np.testing.assert_allclose(q, q_true, atol=0.1)
    assert float(v.v(s1)) == pytest.approx(1.0, abs=0.1)
    assert float(v.v(s0)) == pytest.approx(expectile(q_true, tau), abs=0.1)
    # τ = 0.9 must sit clearly above the mean (τ = 0.5): the asymmetry is learned.
    assert result.history["q_loss"][-1] < result.history["q_loss"][0]


def test_linex_value_is_above_the_mean():
    """The linex loss with τ > 0 puts V above the mean of Q (an optimistic value)."""
    data = _tiny_mdp()
    result = sgrl.learn_values(data, _config(loss="linex", tau=1.0), key=jr.key(0),
                               progress=False)
    q_true = R0 + GAMMA
    # Closed form: the minimiser of mean(exp(τ(q − v)) − τ(q − v) − 1) is
    # v = log(mean(exp(τ q))) / τ.
    v_star = np.log(np.mean(np.exp(q_true))) / 1.0
    assert float(result.values.v(jnp.array([1.0, 0.0]))) == pytest.approx(v_star, abs=0.15)


def test_losses_match_their_definitions():
    u = jnp.array([-2.0, -0.5, 0.0, 1.0])
    np.testing.assert_allclose(
        sgrl.expectile_loss(u, 0.8), [0.2 * 4, 0.2 * 0.25, 0.0, 0.8], rtol=1e-6
    )
    np.testing.assert_allclose(
        sgrl.linex_loss(u, 0.5), np.exp(0.5 * np.asarray(u)) - 0.5 * np.asarray(u) - 1, rtol=1e-5
    )


def test_deterministic_and_resume_is_exact(tmp_path, monkeypatch):
    data = _tiny_mdp(copies=4)
    config = _config(steps=300, steps_per_chunk=100)
    full = sgrl.learn_values(data, config, key=jr.key(3), progress=False)

    original = _loop.run_chunk
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    ckpt = tmp_path / "values.ckpt"
    monkeypatch.setattr(_loop, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sgrl.learn_values(data, config, key=jr.key(3), checkpoint=ckpt, progress=False)
    monkeypatch.setattr(_loop, "run_chunk", original)
    resumed = sgrl.learn_values(data, config, key=jr.key(3), checkpoint=ckpt, progress=False)
    assert int(resumed.state.step) == 300
    for a, b in zip(jax.tree.leaves(full.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(full.history["q_loss"], resumed.history["q_loss"])
    loaded, header = sgrl.load_values(ckpt)
    for a, b in zip(jax.tree.leaves(full.values), jax.tree.leaves(loaded), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # A different key cannot continue this checkpoint.
    with pytest.raises(ValueError, match="key"):
        sgrl.learn_values(data, config, key=jr.key(4), checkpoint=ckpt, progress=False)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(loss="huber"), "unknown loss 'huber'"),
        (dict(tau=1.2), r"expectile tau must lie in \(0, 1\)"),
        (dict(loss="linex", tau=-1.0), "linex rate tau must be > 0"),
        (dict(steps=-1), "steps >= 0"),
    ],
)
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        sgrl.ValueConfig(**kw)


def test_learn_values_many_equals_single_runs():
    import jax

    from selfguide_rl.data._transitions import build_transitions

    rng = np.random.default_rng(0)
    n = 256
    obs = rng.normal(size=(n, 3))
    data = build_transitions(
        "bandit", observations=obs, actions=rng.uniform(-1, 1, (n, 2)),
        rewards=rng.normal(size=n), next_observations=obs, terminals=np.ones(n),
        timeouts=np.zeros(n), episode_lengths=np.ones(n, int),
    )
    config = sgrl.ValueConfig(hidden=(16, 16), steps=40, steps_per_chunk=20, batch_size=32)
    keys = [jr.key(3), jr.key(4)]
    many = sgrl.learn_values_many(data, config, keys=keys, progress=False)
    for key, member in zip(keys, many, strict=True):
        one = sgrl.learn_values(data, config, key=key, progress=False)
        import equinox as eqx

        arrays = [jax.tree.leaves(eqx.filter(v, eqx.is_array)) for v in (one.values,
                                                                           member.values)]
        for a, b in zip(*arrays, strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(one.history["q_loss"], member.history["q_loss"], rtol=1e-5)
        assert member.history["step"].tolist() == [20, 40]

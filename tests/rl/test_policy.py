"""The policy: one jitted call acts for a batch, within the bounds, for every method; no
recompilation when the scale or the critic changes; clear errors on bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide
import selfguide_rl as sgrl
from selfguide_rl.data._transitions import build_transitions

from ..tracing import traces

OBS_DIM, ACT_DIM = 3, 2
TINY_POLICY = dict(width=32, num_blocks=2, expansion=2, weight_head_hidden=32, time_features=16,
                   time_dim=32, diffusion_steps=5, steps=200, batch_size=64, steps_per_chunk=200)


def _bandit(n=512, seed=0):
    """One-step episodes; reward = first action coordinate, actions in [0, 4] x [-1, 1]."""
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, OBS_DIM))
    act = np.stack([rng.uniform(0, 4, n), rng.uniform(-1, 1, n)], axis=1)
    return build_transitions(
        "bandit", observations=obs, actions=act, rewards=act[:, 0], next_observations=obs,
        terminals=np.ones(n), timeouts=np.zeros(n), episode_lengths=np.ones(n, int),
    )


@pytest.fixture(scope="session")
def trained_policy():
    data = _bandit()
    values = sgrl.learn_values(
        data, sgrl.ValueConfig(hidden=(32, 32), steps=300, steps_per_chunk=300),
        key=jr.key(0), progress=False,
    ).values
    adv = sgrl.advantages(values, data.observations, data.actions)
    w = sgrl.compute_weights(adv, sgrl.Expectile(0.7))
    result = sgrl.train_policy(
        data, w, sgrl.PolicyConfig(**TINY_POLICY), key=jr.key(1), values=values,
        action_low=[0.0, -1.0], action_high=[4.0, 1.0], progress=False,
    )
    actor, _ = sgrl.train_actor(
        data, adv, sgrl.ActorConfig(hidden=(16, 16), steps=100, steps_per_chunk=100),
        key=jr.key(2), to_model=result.policy.to_model, progress=False,
    )
    return data, result.policy, actor


def _methods(actor):
    return {"bc": sgrl.BC(), "iql": sgrl.IQL(actor), "idql": sgrl.IDQL(4), "swg": sgrl.SWG(3.0),
            "swg-r": sgrl.SWGR(3.0, 4)}


@pytest.mark.parametrize("name", sgrl.METHODS)
def test_act_batch_within_bounds(trained_policy, name):
    data, policy, actor = trained_policy
    method = _methods(actor)[name]
    assert method.name == name
    a = sgrl.act(policy, data.observations[:8], method=method, key=jr.key(2))
    assert a.shape == (8, ACT_DIM)
    a = np.asarray(a)
    assert np.all(a[:, 0] >= 0) and np.all(a[:, 0] <= 4)
    assert np.all(np.abs(a[:, 1]) <= 1)
    # Temperature 0 is deterministic given the key.
    b = sgrl.act(policy, data.observations[:8], method=method, key=jr.key(2))
    np.testing.assert_array_equal(a, np.asarray(b))
    # The method's name with its settings is the same method (IQL's actor is no setting).
    if name == "iql":
        with pytest.raises(ValueError, match="acts with the run's IQL actor"):
            sgrl.act(policy, data.observations[:8], method=name, key=jr.key(2))
        return
    c = sgrl.act(policy, data.observations[:8], method=name, scale=3.0, num_candidates=4,
                 key=jr.key(2))
    np.testing.assert_array_equal(a, np.asarray(c))


def test_no_recompile_on_scale_temperature_or_critic(trained_policy):
    data, policy, _ = trained_policy
    obs = data.observations[:8]  # the shapes of the test above: compiled once per session
    sgrl.act(policy, obs, method=sgrl.SWGR(1.0, 4), key=jr.key(0))
    shifted = jax.tree.map(lambda x: x + 1.0 if eqx.is_inexact_array(x) else x, policy.values)
    other = eqx.tree_at(lambda p: p.values, policy, shifted)
    with traces("_act") as seen:
        sgrl.act(policy, obs, method=sgrl.SWGR(7.5, 4), temperature=0.5, key=jr.key(1))
        sgrl.act(other, obs, method=sgrl.SWGR(2.0, 4), key=jr.key(1))
    assert seen == []


def test_resampling_keeps_the_best_candidate_by_q(trained_policy):
    data, policy, _ = trained_policy
    obs = data.observations[:8]
    idql = sgrl.act(policy, obs, method=sgrl.IDQL(4), key=jr.key(5))
    bc = sgrl.act(policy, obs, method=sgrl.BC(), key=jr.key(5))
    q = lambda a: np.asarray(jax.vmap(policy.values.q)(obs, a))
    # The best of 4 candidates beats one draw on average (Q increases with a[0] here).
    assert q(idql).mean() > q(bc).mean()


def test_bad_inputs(trained_policy):
    data, policy, _ = trained_policy
    with pytest.raises(ValueError, match="guidance scale must be a finite number >= 0"):
        sgrl.act(policy, data.observations[:2], scale=-1.0, key=jr.key(0))
    with pytest.raises(ValueError, match="unknown method 'awr'"):
        sgrl.act(policy, data.observations[:2], method="awr", key=jr.key(0))
    with pytest.raises(ValueError, match=r"observations must have shape \(B, 3\)"):
        sgrl.act(policy, jnp.zeros((2, 5)), key=jr.key(0))
    with pytest.raises(ValueError, match="num_candidates must be an int >= 1"):
        sgrl.act(policy, data.observations[:2], method="idql", num_candidates=0, key=jr.key(0))
    with pytest.raises(ValueError, match="SWG: the guidance scale must be a finite number >= 0"):
        sgrl.SWG(float("nan"))
    with pytest.raises(ValueError, match="IDQL: num_candidates must be an int >= 1"):
        sgrl.IDQL(0)
    with pytest.raises(ValueError, match="scale and num_candidates are settings of the method"):
        sgrl.act(policy, data.observations[:2], method=sgrl.SWG(1.0), scale=2.0, key=jr.key(0))
    with pytest.raises(ValueError, match="mismatched action dimension"):
        sgrl.train_policy(data, np.ones(len(data)), sgrl.PolicyConfig(**TINY_POLICY),
                          key=jr.key(0), action_low=[-1.0, -1.0, -1.0], progress=False)
    with pytest.raises(ValueError, match="got 3 weights for 512 transitions"):
        sgrl.train_policy(data, np.ones(3), sgrl.PolicyConfig(**TINY_POLICY), key=jr.key(0),
                          progress=False)
    no_values = eqx.tree_at(lambda p: p.values, policy, None, is_leaf=lambda x: x is None)
    with pytest.raises(ValueError, match="selects by Q, but the policy holds no values"):
        sgrl.act(no_values, data.observations[:2], method=sgrl.IDQL(), key=jr.key(0))


def test_presets():
    p = sgrl.get_preset("antmaze")
    assert p.values.tau == 0.9 and p.family == "antmaze"
    assert sgrl.get_preset("adroit").values.tau == 0.7
    full = sgrl.get_preset("locomotion", full=True)
    assert (full.values.steps, full.policy.steps, full.policy.batch_size) == (
        500_000, 1_000_000, 1024)
    assert sgrl.get_preset("antmaze", full=True).policy.steps == 3_000_000
    # IQL's beta per family (IQL paper); its actor trains as long as the values.
    betas = {f: sgrl.get_preset(f).actor.beta for f in ("locomotion", "antmaze", "kitchen",
                                                          "adroit", "maze2d")}
    assert betas == {"locomotion": 3.0, "antmaze": 10.0, "kitchen": 0.5, "adroit": 0.5,
                     "maze2d": 3.0}
    maze = sgrl.get_preset("maze2d")
    assert maze.values.steps == maze.actor.steps == 50_000  # sparse values travel far
    assert sgrl.get_preset("adroit").values.steps == 10_000
    loco = sgrl.get_preset("locomotion")  # a critic that converges on Hopper medium-replay
    assert (loco.values.steps, loco.actor.steps, loco.policy.steps) == (100_000, 100_000, 20_000)
    assert sgrl.get_preset("locomotion", full=True).policy.steps == 1_000_000
    assert (maze.idql_candidates, maze.idql_temperature, maze.num_candidates) == (64, 1.0, 16)
    assert sgrl.Preset.from_json(full.to_json()) == full
    changed = p.replace(**{"values.steps": 5, "guidance_scale": 2.0})
    assert changed.values.steps == 5 and changed.guidance_scale == 2.0
    with pytest.raises(ValueError, match="unknown preset 'mujoco'.*locomotion"):
        sgrl.get_preset("mujoco")
    with pytest.raises(ValueError, match=r"'nope' is not a setting; the ValueConfig settings are"):
        p.replace(**{"values.nope": 1})
    with pytest.raises(ValueError, match="guidance_scale must be >= 0"):
        p.replace(guidance_scale=-1.0)


def test_denoised_weight_output_reaches_the_policy():
    data = _bandit(128)
    config = sgrl.PolicyConfig(**{**TINY_POLICY, "steps": 20, "weight_output": "denoised"})
    policy = sgrl.train_policy(data, np.ones(len(data)), config, key=jr.key(2),
                               action_low=[0.0, -1.0], action_high=[4.0, 1.0],
                               progress=False).policy
    assert policy.model.weight_output == selfguide.DenoisedWeights()
    a = sgrl.act(policy, data.observations[:4], method=sgrl.SWG(2.0), key=jr.key(3))
    assert a.shape == (4, 2) and bool(np.all(np.isfinite(np.asarray(a))))


def test_idql_samples_its_candidates_at_its_own_temperature(trained_policy):
    """IDQL as published draws its candidates at temperature 1 whatever `act` is asked for;
    `temperature=None` defers to `act`."""
    data, policy, _ = trained_policy
    obs = data.observations[:8]
    own = sgrl.act(policy, obs, method=sgrl.IDQL(4, temperature=1.0), key=jr.key(6))
    deferred = sgrl.act(policy, obs, method=sgrl.IDQL(4, temperature=None), temperature=1.0,
                        key=jr.key(6))
    cold = sgrl.act(policy, obs, method=sgrl.IDQL(4, temperature=None), key=jr.key(6))
    np.testing.assert_allclose(np.asarray(own), np.asarray(deferred), atol=1e-6)
    assert not np.allclose(np.asarray(own), np.asarray(cold))
    assert sgrl.IDQL().num_candidates == 64 and float(sgrl.IDQL().temperature) == 1.0
    with pytest.raises(ValueError, match="IDQL: temperature must be a finite number >= 0"):
        sgrl.IDQL(4, temperature=-1.0)


def test_candidates_spread_at_temperature_one_and_collapse_at_zero(trained_policy):
    """Why IDQL needs temperature 1: at 0 the candidates for one state nearly coincide."""
    data, policy, _ = trained_policy
    obs = data.observations[:1]

    def spread(temperature):
        sampler = selfguide.DDPMSampler(temperature=temperature, clip_data=(-1.0, 1.0))
        x = selfguide.sample(policy.model, policy.schedule, cond=obs[0], num=64,
                             sampler=sampler, key=jr.key(7)).x
        return float(np.mean(np.std(np.asarray(x), axis=0)))

    cold, warm = spread(0.0), spread(1.0)
    assert warm > 3 * cold, (cold, warm)


def test_swg_has_no_upper_clip_by_default():
    import math

    assert math.isinf(float(sgrl.SWG().clip_max)) and math.isinf(float(sgrl.SWGR().clip_max))
    assert sgrl.get_preset("maze2d").clip_max is None
    assert float(sgrl.SWG(3.0, clip_max=1.0).clip_max) == 1.0
    with pytest.raises(ValueError, match="clip_max must be > 1e-4"):
        sgrl.SWG(3.0, clip_max=0.0)

"""The time path split off the network: training on a discrete schedule runs it once per
distinct time, and sampling on a fixed grid runs it once for all the grid's times; both must
give what running it per example gives."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide._nn._time_table import TabulatedTime
from selfguide._sample import _prepare, _sample_rows
from selfguide._speed._philox import philox_key

NETWORKS = {
    "resnet": lambda: sg.ResNetDenoiser(2, 1, cond_dim=3, width=32, num_blocks=2, key=jr.key(0)),
    "mlp": lambda: sg.MLPDenoiser(2, 1, cond_dim=3, width=32, depth=2, key=jr.key(0)),
}


class PlainCall(eqx.Module):
    """The same network seen only through its call (no time features): per-example path."""

    network: eqx.Module

    def __call__(self, z, t, cond=None, *, key=None):
        return self.network(z, t, cond, key=key)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_split_eps_from_features_equals_split_eps(name):
    net = NETWORKS[name]()
    z, cond, t = jnp.linspace(-1, 1, 3), jnp.ones(3), jnp.asarray(0.4)
    direct = net.split_eps(z, t, cond)
    via = net.split_eps_from_features(z, net.time_features(t), cond)
    for a, b in zip(direct, via, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_shared_times_loss_and_gradients_match_per_example(name):
    net = NETWORKS[name]()
    schedule = sg.VPSchedule(num_steps=5)  # 5 distinct times in a batch of 64
    rng = np.random.default_rng(0)
    z0 = jnp.asarray(rng.normal(size=(64, 3)), jnp.float32)
    cond = jnp.asarray(rng.normal(size=(64, 3)), jnp.float32)
    params, rest = eqx.partition(net, eqx.is_inexact_array)

    def loss(p, wrap):
        network = eqx.combine(p, rest)
        network = PlainCall(network) if wrap else network
        return sg.diffusion_loss(network, schedule, z0, cond, jnp.ones(3), 2, key=jr.key(1))[0]

    shared, g_shared = jax.value_and_grad(loss)(params, False)
    per_example, g_per_example = jax.value_and_grad(loss)(params, True)
    np.testing.assert_allclose(shared, per_example, rtol=1e-6)
    leaves = zip(jax.tree.leaves(g_shared), jax.tree.leaves(g_per_example), strict=True)
    for a, b in leaves:  # same sums, in another order
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
    # The time path's parameters do get gradients (through the shared rows).
    assert float(jnp.abs(g_shared.time_embedding.frequencies).max()) > 0


def test_training_steps_match_training_times():
    schedule = sg.VPSchedule(num_steps=7)
    k = schedule.training_steps(jr.key(2), (1000,))
    assert int(k.min()) == 1 and int(k.max()) == 7
    np.testing.assert_array_equal(k / 7, schedule.training_times(jr.key(2), (1000,)))
    with pytest.raises(ValueError, match="continuous"):
        sg.LinearVPSchedule().training_steps(jr.key(0), (3,))


def test_loss_draws_are_reproducible_with_and_without_philox():
    net = NETWORKS["resnet"]()
    z0 = jnp.ones((8, 3))
    cond = jnp.zeros((8, 3))
    schedule = sg.VPSchedule(num_steps=5)
    keys = {"threefry": jr.key(3), "philox": philox_key(jr.key(3))}
    losses = {
        name: [
            float(sg.diffusion_loss(net, schedule, z0, cond, jnp.ones(3), 2, key=key)[0])
            for _ in range(2)
        ]
        for name, key in keys.items()
    }
    for pair in losses.values():
        assert pair[0] == pair[1]


def _loss_flops(network, batch: int = 256) -> float:
    """The FLOPs XLA counts for one loss evaluation (the network's forward passes)."""
    schedule = sg.VPSchedule(num_steps=5)
    z0, cond = jnp.ones((batch, 3)), jnp.ones((batch, 3))

    params, rest = eqx.partition(network, eqx.is_array)

    def loss(p):
        net = eqx.combine(p, rest)
        return sg.diffusion_loss(net, schedule, z0, cond, jnp.ones(3), 2, key=jr.key(1))[0]

    analysis = jax.jit(loss).lower(params).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    return float(analysis["flops"])


def test_low_precision_keeps_the_shared_time_path():
    """Training in bfloat16 wraps the network in `LowPrecision`, which forwards its time
    split: the loss runs the time path on the 5 distinct times, not on all 256 examples, as
    the float32 network does. The time path (the Fourier embedding and its two 256-wide
    layers) is most of this small network's work, so its 256 runs against 5 show plainly."""
    from selfguide._precision import LowPrecision

    net = sg.ResNetDenoiser(2, 1, cond_dim=3, width=32, num_blocks=2, key=jr.key(0))
    assert LowPrecision(net, jnp.bfloat16).time_split() is not None
    shared = _loss_flops(net)
    per_example = _loss_flops(PlainCall(net))
    assert per_example > 2 * shared  # the per-example time path is the bulk of the work
    low = _loss_flops(LowPrecision(net, jnp.bfloat16))
    low_per_example = _loss_flops(LowPrecision(PlainCall(net), jnp.bfloat16))
    assert low_per_example > 2 * low  # bfloat16 shares the time path just the same


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize(
    "sampler",
    [sg.DDPMSampler(temperature=1.0), sg.DDIMSampler(num_steps=3)],
    ids=["ddpm", "ddim-strided"],
)
def test_sampling_on_a_grid_tabulates_the_time_path_and_matches_per_step(name, sampler):
    net = NETWORKS[name]()
    model = sg.JointModel(net, 2, 1, 3, weight_output="denoised")
    schedule = sg.VPSchedule(num_steps=6)
    cond = jr.normal(jr.key(1), (4, 3))
    grid = sampler.visited_times(schedule)
    assert grid.shape == (sampler.num_steps or 6,)
    # The sampler's program holds one T-row time path before the loop, looked up per step.
    request = _prepare(model, schedule, 2, cond, sg.NoGuidance(), sampler, "test")
    assert "argmin" in str(jax.make_jaxpr(lambda k: _sample_rows(request, k))(jr.key(0)))
    tabulated = TabulatedTime(net, grid)
    for t in grid:
        for a, b in zip(tabulated.split_eps(jnp.ones(3), t, jnp.ones(3)),
                        net.split_eps(jnp.ones(3), t, jnp.ones(3)), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Seen through its call only, the network runs its time path at every step.
    plain = sg.JointModel(PlainCall(net), 2, 1, 3, weight_output="denoised")
    for guidance in (sg.NoGuidance(), sg.SelfWeightedGuidance(3.0)):
        a = sg.sample(model, schedule, cond=cond, num=2, guidance=guidance, sampler=sampler,
                      key=jr.key(2))
        b = sg.sample(plain, schedule, cond=cond, num=2, guidance=guidance, sampler=sampler,
                      key=jr.key(2))
        # Equal up to float32 rounding (a T-row product sums in another order than T
        # matrix-vector products), which the guided steps amplify: relative to the samples'
        # scale (this untrained network's samples reach |x| ~ 30). How far depends on the
        # CPU's kernels: up to 3.6e-5 of the scale seen (about 300 float32 ulps); a wrong
        # time row would be off by order one.
        for got, want in ((a.x, b.x), (a.w, b.w)):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * float(jnp.abs(want).max()))


def test_samplers_that_choose_their_times_do_not_tabulate():
    assert sg.ODESampler().visited_times(sg.VPSchedule(num_steps=6)) is None

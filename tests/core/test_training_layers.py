"""The layers the training loss swaps in give the same outputs and gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide._speed import _batched_linear
from selfguide._speed._batched_linear import BatchedGradLinear
from selfguide._speed._layer_norm import TrainingLayerNorm
from selfguide._speed._training_layers import training_layers

BATCH = _batched_linear.MIN_BATCH  # the smallest batch that takes the batch-level path


@pytest.mark.parametrize(
    "batch",
    # Below the batch-level path: rows-major with autodiff's backward, and per example.
    [BATCH, _batched_linear.MIN_ROWS, _batched_linear.MIN_ROWS - 1],
)
@pytest.mark.parametrize(
    ("in_features", "out_features", "use_bias"),
    [(8, 32, True), (48, 16, True), (24, 24, False), (16, 4, True)],  # the last stays plain
)
def test_layer_gradients_equal_per_example_gradients(in_features, out_features, use_bias, batch):
    layer = eqx.nn.Linear(in_features, out_features, use_bias=use_bias, key=jr.key(0))
    fast = training_layers(layer)
    assert isinstance(fast, BatchedGradLinear)
    x = jr.normal(jr.key(1), (batch, in_features))
    target = jr.normal(jr.key(2), (batch, out_features))

    def loss(m, x):
        return jnp.mean((jnp.tanh(jax.vmap(m)(x)) - target) ** 2)

    (value, grads), (fast_value, fast_grads) = (
        jax.value_and_grad(loss, argnums=(0, 1))(m, x) for m in (layer, fast)
    )
    np.testing.assert_allclose(fast_value, value, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(fast_grads), jax.tree.leaves(grads), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_resnet_loss_gradients_equal_per_example_gradients():
    """The loss swaps the layers of the built-in networks; hiding the network behind a plain
    wrapper module gives the per-example computation of the same loss."""

    class Plain(eqx.Module):
        network: eqx.Module

        def __call__(self, z, t, cond=None, *, key=None):
            return self.network(z, t, cond, key=key)

    net = sg.ResNetDenoiser(2, 1, cond_dim=3, width=32, num_blocks=2, key=jr.key(0))
    assert net.training_form("cpu") is not net and not isinstance(Plain(net), sg.AbstractDenoiser)
    z0 = jr.normal(jr.key(1), (BATCH, 3))
    cond = jr.normal(jr.key(2), (BATCH, 3))
    schedule = sg.VPSchedule(num_steps=5)
    params, rest = eqx.partition(net, eqx.is_inexact_array)

    def loss(p, wrap):
        network = eqx.combine(p, rest)
        network = Plain(network) if wrap else network
        return sg.diffusion_loss(
            network, schedule, z0, cond, jnp.ones(3), 2, key=jr.key(3), platform="cpu"
        )[0]

    gradient = jax.jit(jax.grad(loss), static_argnums=1)
    fast, plain = (gradient(params, wrap) for wrap in (False, True))
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(plain), strict=True):
        # Summation order only: each gradient agrees to 1e-4 of its own largest entry.
        assert float(jnp.max(jnp.abs(a - b))) <= 1e-4 * float(jnp.max(jnp.abs(b))) + 1e-9


def _modules(tree, kind):
    leaves = jax.tree.leaves(tree, is_leaf=lambda m: isinstance(m, kind))
    return [m for m in leaves if isinstance(m, kind)]


@pytest.mark.parametrize("kind", ["resnet", "mlp"])
def test_swap_keeps_the_arrays_and_the_outputs(kind):
    net = (
        sg.ResNetDenoiser(2, 1, cond_dim=3, width=32, num_blocks=2, key=jr.key(0))
        if kind == "resnet"
        else sg.MLPDenoiser(2, 1, cond_dim=3, width=16, depth=2, key=jr.key(0))
    )
    fast = training_layers(net)
    assert not _modules(fast, eqx.nn.Linear) and not _modules(fast, eqx.nn.LayerNorm)
    assert len(_modules(fast, BatchedGradLinear)) == len(_modules(net, eqx.nn.Linear))
    assert len(_modules(fast, TrainingLayerNorm)) == len(_modules(net, eqx.nn.LayerNorm))
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(net), strict=True):
        assert a is b
    z, cond = jr.normal(jr.key(1), (BATCH, 3)), jr.normal(jr.key(2), (BATCH, 3))
    t = jnp.full((BATCH,), 0.5)
    np.testing.assert_allclose(
        jax.vmap(fast)(z, t, cond), jax.vmap(net)(z, t, cond), rtol=1e-5, atol=1e-6
    )


def test_layer_norm_gradients_equal_autodiff():
    norm = eqx.nn.LayerNorm(24)
    weight, bias = jr.normal(jr.key(0), (24,)), jr.normal(jr.key(1), (24,))
    norm = eqx.tree_at(lambda m: (m.weight, m.bias), norm, (weight, bias))
    fast = training_layers(norm)
    assert isinstance(fast, TrainingLayerNorm)
    x = 3.0 * jr.normal(jr.key(2), (40, 24)) + 1.0
    target = jr.normal(jr.key(3), (40, 24))

    def loss(m, x):
        return jnp.mean((jnp.tanh(jax.vmap(m)(x)) - target) ** 2)

    np.testing.assert_array_equal(jax.vmap(fast)(x), jax.vmap(norm)(x))
    grads, fast_grads = (jax.grad(loss, argnums=(0, 1))(m, x) for m in (norm, fast))
    for a, b in zip(jax.tree.leaves(fast_grads), jax.tree.leaves(grads), strict=True):
        assert float(jnp.max(jnp.abs(a - b))) <= 1e-5 * float(jnp.max(jnp.abs(b)))
    # One example differentiated on its own works too (unlike `BatchedGradLinear`).
    one, reference = (jax.grad(lambda x, m=m: jnp.sum(m(x) ** 3))(x[0]) for m in (fast, norm))
    np.testing.assert_allclose(one, reference, rtol=1e-5, atol=1e-5)


def test_swap_only_on_cpu():
    net = sg.MLPDenoiser(2, 1, width=16, depth=2, key=jr.key(0))
    assert net.training_form("gpu") is net and net.training_form("cpu") is not net

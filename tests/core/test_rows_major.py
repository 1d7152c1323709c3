"""Dense layers written rows-major: the same map, taken by the samplers for many rows."""

import equinox as eqx
import jax
import jax.extend
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide._speed import _batched_linear, _rows_major
from selfguide._speed._rows_major import MIN_ROWS, RowsMajorLinear
from selfguide._speed._training_layers import training_layers


def _linears(tree, kind):
    leaves = jax.tree.leaves(tree, is_leaf=lambda m: isinstance(m, kind))
    return [m for m in leaves if isinstance(m, kind)]


def _product_lhs_shapes(fn, *args) -> list[tuple[int, ...]]:
    """Shapes of the left operands of the matrix products in `fn`'s program."""
    shapes = []

    def visit(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "dot_general":
                shapes.append(tuple(eqn.invars[0].aval.shape))
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                visit(sub)

    visit(jax.make_jaxpr(fn)(*args).jaxpr)
    return shapes


@pytest.mark.parametrize("use_bias", [True, False])
def test_rows_major_linear_is_the_same_map(use_bias):
    layer = eqx.nn.Linear(24, 40, use_bias=use_bias, key=jr.key(0))
    rows = RowsMajorLinear(layer.weight, layer.bias)
    x = jr.normal(jr.key(1), (MIN_ROWS, 24))
    np.testing.assert_allclose(rows(x[0]), layer(x[0]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jax.vmap(rows)(x), jax.vmap(layer)(x), rtol=1e-5, atol=1e-6)
    # Under `vmap` the product takes the rows as its left operand: rows-major.
    assert _product_lhs_shapes(jax.vmap(rows), x) == [(MIN_ROWS, 24)]
    assert _product_lhs_shapes(jax.vmap(layer), x) == [(40, 24)]


@pytest.mark.parametrize("kind", ["resnet", "mlp"])
def test_sampling_form_swaps_the_row_layers_only(kind):
    if kind == "resnet":
        net = sg.ResNetDenoiser(2, 1, cond_dim=3, width=16, num_blocks=2, weight_head_at=1,
                                key=jr.key(0))
        time_path = [net.stem.z_part, net.stem.cond_part, net.stem.time_part]
    else:
        net = sg.MLPDenoiser(2, 1, cond_dim=3, width=16, depth=3, weight_head_at=2,
                             key=jr.key(0))
        time_path = [net.input_layer.z_part, net.input_layer.cond_part]
    assert net.sampling_form(MIN_ROWS - 1, "cpu") is net
    swapped = net.sampling_form(MIN_ROWS, "cpu")
    rows_major = _linears(swapped, RowsMajorLinear)
    row_fields = [getattr(net, name) for name in type(net).row_fields]
    assert len(rows_major) == len(_linears(row_fields, eqx.nn.Linear)) > 0
    # The input layer and the time path (applied once per step, to one row) stay `W x`.
    for layer in time_path + _linears(net.time_embedding, eqx.nn.Linear):
        assert any(layer.weight is kept.weight for kept in _linears(swapped, eqx.nn.Linear))
    # Same arrays, same outputs.
    assert {id(a) for a in jax.tree.leaves(swapped)} == {id(a) for a in jax.tree.leaves(net)}
    z = jr.normal(jr.key(1), (MIN_ROWS, 3))
    cond = jr.normal(jr.key(2), (MIN_ROWS, 3))
    t = jnp.full((), 0.3)
    for a, b in zip(
        jax.vmap(swapped.split_eps, in_axes=(0, None, 0))(z, t, cond),
        jax.vmap(net.split_eps, in_axes=(0, None, 0))(z, t, cond),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sampling_form_is_for_cpu_only():
    net = sg.MLPDenoiser(2, 1, width=8, depth=2, key=jr.key(0))
    assert net.sampling_form(10 * MIN_ROWS, "gpu") is net
    assert net.sampling_form(10 * MIN_ROWS, "cpu") is not net


def test_guided_samples_equal_with_and_without_the_swap(monkeypatch):
    """`sample` on `MIN_ROWS` rows swaps the layers in; the samples are the same as with
    the network's own layers up to rounding."""
    net = sg.ResNetDenoiser(2, 1, width=16, num_blocks=2, weight_head_at=1, key=jr.key(0))
    model = sg.JointModel(net, 2, 1)
    schedule = sg.VPSchedule(num_steps=5)
    guidance = sg.SelfWeightedGuidance(2.0)
    swapped = sg.sample(model, schedule, num=MIN_ROWS, guidance=guidance, key=jr.key(1))
    monkeypatch.setattr(_rows_major, "MIN_ROWS", 10 * MIN_ROWS)  # traced anew below
    own = sg.compile_sample(model, schedule, num=MIN_ROWS, cond=None, guidance=guidance)(
        key=jr.key(1)
    )
    np.testing.assert_allclose(swapped.x, own.x, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(swapped.w, own.w, rtol=1e-4, atol=1e-5)


def test_training_takes_the_rows_major_product_between_the_thresholds():
    layer = training_layers(eqx.nn.Linear(24, 40, key=jr.key(0)))
    for rows, lhs in [
        (MIN_ROWS, (MIN_ROWS, 24)),  # rows-major, autodiff's backward
        (MIN_ROWS - 1, (40, 24)),  # `W x` per example
    ]:
        assert rows < _batched_linear.MIN_BATCH
        x = jr.normal(jr.key(1), (rows, 24))
        assert _product_lhs_shapes(jax.vmap(layer), x) == [lhs]

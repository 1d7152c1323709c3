import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg


def _copy_final_rows_into_head(early, late):
    """Make the early-head network's head read like the plain network's final weight rows."""
    d = late.data_dim
    early = eqx.tree_at(lambda m: m.out.weight, early, late.out.weight[:d])
    early = eqx.tree_at(lambda m: m.out.bias, early, late.out.bias[:d])
    early = eqx.tree_at(lambda m: m.weight_head.last.weight, early, late.out.weight[d:])
    return eqx.tree_at(lambda m: m.weight_head.last.bias, early, late.out.bias[d:])


def test_resnet_shapes_and_parameter_count():
    net = sg.ResNetDenoiser(data_dim=6, weight_dim=1, cond_dim=17, key=jr.key(0))
    n_params = sum(x.size for x in jax.tree.leaves(eqx.filter(net, eqx.is_array)))
    assert 1.7e6 < n_params < 1.95e6  # the reference network has about 1.8M parameters
    out = net(jnp.ones(7), jnp.asarray(0.3), jnp.ones(17))
    assert out.shape == (7,)


def test_head_at_end_equals_plain_layout():
    kw = dict(data_dim=3, weight_dim=2, cond_dim=4, width=32, num_blocks=3, dropout=0.0)
    plain = sg.ResNetDenoiser(**kw, weight_head_at=None, key=jr.key(1))
    early = sg.ResNetDenoiser(**kw, weight_head_at=3, weight_head_hidden=None, key=jr.key(1))
    early = _copy_final_rows_into_head(early, plain)
    z, c = jr.normal(jr.key(2), (5,)), jr.normal(jr.key(3), (4,))
    np.testing.assert_allclose(
        early(z, jnp.asarray(0.7), c), plain(z, jnp.asarray(0.7), c), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("head_at", [0, 1, 2])
def test_early_head_weight_output_ignores_later_blocks(head_at):
    net = sg.ResNetDenoiser(2, 1, width=16, num_blocks=3, weight_head_at=head_at, key=jr.key(0))
    z, t = jnp.ones(3), jnp.asarray(0.5)
    # Perturb the blocks after the head: the weight output must not change.
    later = lambda m: [b.up.weight for b in m.blocks[head_at:]]
    perturbed = eqx.tree_at(later, net, replace_fn=lambda w: w + jr.normal(jr.key(9), w.shape))
    assert float(perturbed(z, t)[-1]) == pytest.approx(float(net(z, t)[-1]))
    assert not np.allclose(perturbed(z, t)[:2], net(z, t)[:2])


def test_mlp_early_head_gradient_prefix_only():
    net = sg.MLPDenoiser(2, 1, width=16, depth=4, weight_head_at=1, key=jr.key(0))
    grads = eqx.filter_grad(lambda m: m(jnp.ones(3), jnp.asarray(0.5))[-1])(net)
    assert float(jnp.abs(grads.layers[2].weight).sum()) == 0.0
    assert float(jnp.abs(grads.input_layer.z_part.weight).sum()) > 0.0


def test_input_layer_equals_one_linear_on_the_concatenation():
    """The split input layer is a reparametrisation of Linear([z, context])."""
    from selfguide._nn._inputs import InputLayer

    layer = InputLayer(3, 2, 3, 8, key=jr.key(0))
    full = eqx.nn.Linear(8, 8, key=jr.key(0))
    z, c, t = jr.normal(jr.key(1), (3,)), jr.normal(jr.key(2), (2,)), jr.normal(jr.key(3), (3,))
    expected = full(jnp.concatenate([z, c, t]))
    np.testing.assert_allclose(layer(z, c, t), expected, rtol=1e-5, atol=1e-6)
    no_cond = InputLayer(3, 0, 5, 8, key=jr.key(0))
    np.testing.assert_allclose(
        no_cond(z, None, jnp.concatenate([c, t])), expected, rtol=1e-5, atol=1e-6
    )


def test_dropout_only_with_key():
    net = sg.ResNetDenoiser(2, 1, width=16, dropout=0.5, key=jr.key(0))
    z, t = jnp.ones(3), jnp.asarray(0.5)
    np.testing.assert_array_equal(net(z, t), net(z, t))
    assert not np.allclose(net(z, t, key=jr.key(1)), net(z, t, key=jr.key(2)))


def test_conditioning_errors():
    net = sg.MLPDenoiser(2, 1, cond_dim=3, width=8, depth=1, key=jr.key(0))
    with pytest.raises(ValueError, match=r"needs `cond`; got None"):
        net(jnp.ones(3), jnp.asarray(0.5))
    with pytest.raises(ValueError, match=r"conditioning vector of shape \(3,\), got \(4,\)"):
        net(jnp.ones(3), jnp.asarray(0.5), jnp.ones(4))
    plain = sg.MLPDenoiser(2, 1, width=8, depth=1, key=jr.key(0))
    with pytest.raises(ValueError, match="built with cond_dim=0"):
        plain(jnp.ones(3), jnp.asarray(0.5), jnp.ones(3))
    with pytest.raises(ValueError, match=r"expected z of shape \(3,\)"):
        plain(jnp.ones(4), jnp.asarray(0.5))


def test_bad_head_position():
    with pytest.raises(ValueError, match=r"weight_head_at must be None .* in \[0, 3\]"):
        sg.ResNetDenoiser(2, 1, weight_head_at=4, key=jr.key(0))
    with pytest.raises(ValueError, match=r"in \[1, 2\]"):
        sg.MLPDenoiser(2, 1, depth=2, weight_head_at=0, key=jr.key(0))

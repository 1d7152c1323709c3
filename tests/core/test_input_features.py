"""Random Fourier features of the data channels (`MLPDenoiser(input_features=...)`)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide.toys import Budget


def test_features_are_cosines_and_sines_of_the_projection():
    feats = sg.FourierInputFeatures(2, 6, 0.5, key=jr.key(0))
    b = np.asarray(feats.frequencies)
    assert b.shape == (3, 2) and feats.num_features == 6
    x = np.array([0.3, -1.2], dtype=np.float32)
    phase = 2 * math.pi * b @ x
    np.testing.assert_allclose(feats(jnp.asarray(x)), np.concatenate([np.cos(phase),
                                                                     np.sin(phase)]),
                               rtol=1e-5, atol=1e-5)


def test_scale_sets_the_spread_of_the_frequencies():
    feats = sg.FourierInputFeatures(2, 4000, 2.0, key=jr.key(1))
    assert float(jnp.std(feats.frequencies)) == pytest.approx(2.0, rel=0.05)


def test_frequencies_get_no_gradient_but_the_input_does():
    net = sg.MLPDenoiser(2, 1, cond_dim=1, width=16, depth=2, input_features=8, key=jr.key(0))
    z, t, c = jnp.array([0.2, -0.4, 0.5]), jnp.asarray(0.3), jnp.ones(1)
    grads = eqx.filter_grad(lambda m: jnp.sum(m(z, t, c) ** 2))(net)
    assert float(jnp.abs(grads.input_features.frequencies).sum()) == 0.0
    dz = jax.grad(lambda zz: jnp.sum(net(zz, t, c)[:2] ** 2))(z)
    # x enters both raw and through the features: with other frequencies the gradient with
    # respect to x changes.
    other = eqx.tree_at(lambda m: m.input_features.frequencies, net,
                        replace_fn=lambda f: 3.0 * f)
    dz_other = jax.grad(lambda zz: jnp.sum(other(zz, t, c)[:2] ** 2))(z)
    assert not np.allclose(dz[:2], dz_other[:2])


def test_without_features_the_network_is_unchanged():
    plain = sg.MLPDenoiser(2, 1, width=16, depth=2, key=jr.key(3))
    assert plain.input_features is None
    with_feats = sg.MLPDenoiser(2, 1, width=16, depth=2, input_features=4, key=jr.key(3))
    # the same initialisation of every other layer (the features draw from their own key)
    np.testing.assert_array_equal(plain.layers[0].weight, with_feats.layers[0].weight)
    assert with_feats.input_layer.z_part.in_features == 3 + 4


def test_checkpoint_round_trip_keeps_the_features(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    data = sg.augment(x, np.exp(x[:, 0]), rescale=True)
    net = sg.MLPDenoiser(2, 1, width=16, depth=2, input_features=6, input_feature_scale=0.7,
                         key=jr.key(0))
    path = tmp_path / "model.ckpt"
    schedule = sg.VPSchedule(num_steps=5)
    result = sg.train(net, data, schedule=schedule, steps=4, batch_size=16, key=jr.key(1),
                      checkpoint=path, progress=False, steps_per_chunk=2)
    # no gradient: only the weight decay's ~1e-7 relative shrink (an Adam step is ~3e-4)
    np.testing.assert_allclose(result.model.network.input_features.frequencies,
                               net.input_features.frequencies, rtol=1e-6)
    loaded = sg.load_model(path)
    assert loaded.network.input_features.scale == pytest.approx(0.7)
    kw = dict(num=8, guidance=sg.SelfWeightedGuidance(1.0), key=jr.key(2))
    np.testing.assert_array_equal(sg.sample(result.model, schedule, **kw).x,
                                  sg.sample(loaded, schedule, **kw).x)


@pytest.mark.parametrize("num, scale, match", [(5, 1.0, "even"), (0, 1.0, "num_features"),
                                               (4, 0.0, "scale must be > 0")])
def test_bad_feature_settings(num, scale, match):
    with pytest.raises(ValueError, match=match):
        sg.FourierInputFeatures(2, num, scale, key=jr.key(0))


@pytest.mark.parametrize("fields, match", [({"input_features": 3}, "even"),
                                           ({"input_feature_scale": -1.0}, "> 0")])
def test_budget_checks_the_feature_settings(fields, match):
    with pytest.raises(ValueError, match=match):
        Budget(**fields)

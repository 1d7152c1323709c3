"""Each weight formula of SWG-MATH §4 on hand-computed cases."""

import math

import numpy as np
import pytest

import selfguide_rl as sgrl

ADV = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


def test_expectile_weight():
    # τ where A > 0, 1 − τ otherwise (A = 0 counts as not positive).
    w = sgrl.expectile_weight(ADV, 0.7)
    np.testing.assert_allclose(w, [0.3, 0.3, 0.3, 0.7, 0.7], rtol=1e-6)


def test_smooth_expectile_weight():
    sig = lambda x: 1 / (1 + math.exp(-x))
    expected = [sig(3 * a) * 0.9 + (1 - sig(3 * a)) * 0.1 for a in ADV]
    np.testing.assert_allclose(sgrl.smooth_expectile_weight(ADV, 0.9), expected, rtol=1e-6)
    # A = 0: halfway between 1 − τ and τ.
    assert float(sgrl.smooth_expectile_weight(0.0, 0.9)) == pytest.approx(0.5)


def test_exponential_weight_is_clipped():
    w = sgrl.exponential_weight(np.array([-5.0, 0.0, 0.5, 10.0]), beta=3.0, w_max=100.0)
    # exp(-15) < 1e-3 → 1e-3; exp(0) = 1; exp(1.5); exp(30) > 100 → 100.
    np.testing.assert_allclose(w, [1e-3, 1.0, math.exp(1.5), 100.0], rtol=1e-6)


def test_linex_weight():
    tau = 0.5
    expected = [tau * abs(math.exp(tau * a) - 1) / abs(a) if a != 0 else tau**2 for a in ADV]
    np.testing.assert_allclose(sgrl.linex_weight(ADV, tau), expected, rtol=1e-5)
    # Continuous at A = 0 (the limit τ²), finite and positive for large |A|.
    assert float(sgrl.linex_weight(1e-4, tau)) == pytest.approx(tau**2, rel=1e-3)
    w = np.asarray(sgrl.linex_weight(np.array([-1e4, 1e4]), tau))
    assert np.all(np.isfinite(w)) and np.all(w > 0)


def test_compute_weights_dispatch_and_error():
    np.testing.assert_allclose(
        sgrl.compute_weights(ADV, "expectile", tau=0.7), sgrl.expectile_weight(ADV, 0.7)
    )
    np.testing.assert_allclose(
        sgrl.compute_weights(ADV, "exponential", beta=1.0, w_max=5.0),
        sgrl.exponential_weight(ADV, 1.0, 5.0),
    )
    with pytest.raises(ValueError, match="unknown weight kind 'softmax'.*expectile"):
        sgrl.compute_weights(ADV, "softmax")
    with pytest.raises(ValueError, match="tau, beta and w_max are settings of the weighting"):
        sgrl.compute_weights(ADV, sgrl.Expectile(0.7), tau=0.9)


@pytest.mark.parametrize(
    ("weighting", "name", "settings"),
    [
        (sgrl.Expectile(0.9), "expectile", dict(tau=0.9)),
        (sgrl.SmoothExpectile(0.9), "smooth_expectile", dict(tau=0.9)),
        (sgrl.Exponential(1.0, 5.0), "exponential", dict(beta=1.0, w_max=5.0)),
        (sgrl.Linex(0.5), "linex", dict(tau=0.5)),
    ],
)
def test_weightings_are_their_names(weighting, name, settings):
    assert weighting.name == name
    np.testing.assert_array_equal(
        sgrl.compute_weights(ADV, weighting), sgrl.compute_weights(ADV, name, **settings)
    )
    np.testing.assert_array_equal(weighting(ADV), sgrl.compute_weights(ADV, weighting))


def test_preset_names_its_weighting():
    preset = sgrl.get_preset("antmaze")
    assert preset.weighting() == sgrl.Expectile(0.9)
    exponential = preset.replace(weight="exponential", beta=2.0, w_max=50.0).weighting()
    assert exponential == sgrl.Exponential(2.0, 50.0)

"""Exact ground truth: SIR and rejection draws agree with the closed-form mode masses and with
each other; `check_beta` guards the trained range.

Tolerances: mode frequencies of `n` SIR draws scatter with variance `p(1 − p)(1/n + 1/ESS)`,
where ESS ≥ 0.18 · pool for these toys and β ≤ 10 (8gaussians at β = 10 is the lowest), so with
the default pool of 100 n, `2 p(1 − p)/n` bounds it; checks allow 5 of those standard errors.
"""

import warnings

import numpy as np
import pytest

from selfguide import toys

PIECEWISE = ("8gaussians", "moons", "rings", "checkerboard")


def _assert_frequencies(labels, probs, n, inflation=2.0):
    freq = np.bincount(labels, minlength=len(probs)) / n
    se = np.sqrt(inflation * probs * (1 - probs) / n)
    assert np.all(np.abs(freq - probs) <= 5 * se + 1e-12), (freq, probs)


def test_mode_weights_closed_form():
    e3 = np.exp(3.0)
    np.testing.assert_allclose(toys.mode_weights("moons", 3.0), [1 / (1 + e3), e3 / (1 + e3)])
    w = np.exp(10 * np.arange(8) / 7)
    np.testing.assert_allclose(toys.mode_weights("8gaussians", 10), w / w.sum())
    w = np.exp(2.0 * np.array([0.667, 0.333, 1.0, 0.0]))
    np.testing.assert_allclose(toys.mode_weights("rings", 2.0), w / w.sum())
    for name in PIECEWISE:
        np.testing.assert_allclose(toys.mode_weights(name, 0.0), toys.get_toy(name).mode_prior)
    # no overflow at large β: all mass on the highest-energy modes
    np.testing.assert_allclose(toys.mode_weights("checkerboard", 1e4), [0.5, 0, 0.5, 0])
    np.testing.assert_allclose(toys.mode_weights("rings", -1e4), [0, 0, 0, 1])


@pytest.mark.parametrize("name", PIECEWISE)
@pytest.mark.parametrize("beta", [0.0, 3.0, 10.0])
def test_sir_matches_closed_form(name, beta):
    n = 10_000
    x, e = toys.sample_target(name, beta, n, rng=11)
    labels = toys.mode_of(name, x)
    probs = toys.mode_weights(name, beta)
    _assert_frequencies(labels, probs, n)
    np.testing.assert_array_equal(e, toys.energy(name, x))


@pytest.mark.parametrize("name", ["8gaussians", "rings"])
def test_rejection_matches_closed_form(name):
    n = 10_000
    x, _ = toys.sample_target(name, 10.0, n, rng=5, method="rejection")
    # rejection draws are i.i.d.: plain binomial errors
    _assert_frequencies(toys.mode_of(name, x), toys.mode_weights(name, 10.0), n, inflation=1.0)
    assert len(np.unique(x, axis=0)) == n  # no repeated points


@pytest.mark.parametrize("name", ["swissroll", "2spirals"])
def test_sir_and_rejection_agree_on_continuous_energies(name):
    beta, n = 10.0, 3_000
    _, e_sir = toys.sample_target(name, beta, n, rng=1)
    _, e_rej = toys.sample_target(name, beta, n, rng=2, method="rejection")
    # both against the tilted mean E_q[e exp(βe)] / E_q[exp(βe)], estimated by weighting an
    # independent q-draw (standard error sd/√ESS); SIR repeats inflate its variance by
    # 1 + n/ESS ≤ 1.13 (ESS ≥ 0.08 pool here), bounded by 2
    _, e_q = toys.sample_q(name, 300_000, rng=3)
    w = np.exp(beta * (e_q - 1))
    mean = np.sum(w * e_q) / np.sum(w)
    ess = np.sum(w) ** 2 / np.sum(w**2)
    sd = e_rej.std()
    assert abs(e_rej.mean() - mean) <= 5 * sd * np.sqrt(1 / n + 1 / ess)
    assert abs(e_sir.mean() - mean) <= 5 * sd * np.sqrt(2 / n + 1 / ess)
    # the tilt moved the energies a lot compared with that tolerance
    assert mean - e_q.mean() > 30 * sd / np.sqrt(n)


def test_reproducible_and_independent():
    a = toys.sample_target("moons", 3.0, 500, rng=4)
    b = toys.sample_target("moons", 3.0, 500, rng=4)
    c = toys.sample_target("moons", 3.0, 500, rng=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], c[0])
    r = toys.sample_target("moons", 3.0, 500, rng=4, method="rejection")
    np.testing.assert_array_equal(
        r[0], toys.sample_target("moons", 3.0, 500, rng=4, method="rejection")[0]
    )


def test_custom_toy_ground_truth():
    # q = U[0, 1], e(x) = x: p_β is the truncated exponential with mean 1/(1 − e^{−β}) − 1/β
    line = toys.Toy("line", lambda rng, n: rng.uniform(size=(n, 1)), lambda x: x[:, 0], dim=1)
    beta, n = 4.0, 20_000
    for method in ("sir", "rejection"):
        x, e = toys.sample_target(line, beta, n, rng=0, method=method)
        assert x.shape == (n, 1)
        exact = 1 / (1 - np.exp(-beta)) - 1 / beta
        assert abs(e.mean() - exact) <= 5 * e.std() * np.sqrt(2 / n)


def test_small_pool_warns():
    with pytest.warns(UserWarning, match=r"effective sample size of \d+ < n=1000.*larger `pool`"):
        toys.sample_target("swissroll", 24.0, 1000, rng=0, pool=2000)


def test_bad_input():
    with pytest.raises(ValueError, match=r"sample_target: `n` must be a positive number"):
        toys.sample_target("moons", 1.0, 0, rng=0)
    with pytest.raises(ValueError, match=r"sample_target: `n` must be a positive number"):
        toys.sample_target("moons", 1.0, -1, rng=0)
    with pytest.raises(ValueError, match=r"`pool` must be at least `n`.*pool=10 for n=100"):
        toys.sample_target("moons", 1.0, 100, rng=0, pool=10)
    with pytest.raises(ValueError, match=r"`method` must be 'sir' or 'rejection', got 'mcmc'"):
        toys.sample_target("moons", 1.0, 10, rng=0, method="mcmc")
    with pytest.raises(ValueError, match=r"sample_target: `beta` must be a finite number"):
        toys.sample_target("moons", float("nan"), 10, rng=0)
    with pytest.raises(ValueError, match=r"mode_weights: .*piecewise-constant.*'swissroll'"):
        toys.mode_weights("swissroll", 1.0)


def test_check_beta():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert toys.check_beta(5, (0, 24)) == 5.0
        assert toys.check_beta(24.0, (0.0, 24.0)) == 24.0
    with pytest.warns(toys.BetaRangeWarning, match=r"beta=30.0 is outside the trained range"):
        assert toys.check_beta(30.0, (0.0, 24.0)) == 30.0
    with pytest.raises(ValueError, match=r"check_beta: beta=-1.0 is outside.*\[0.0, 24.0\]"):
        toys.check_beta(-1.0, (0.0, 24.0), strict=True)
    with pytest.raises(ValueError, match=r"beta_min <= beta_max, got \(5.0, 1.0\)"):
        toys.check_beta(2.0, (5.0, 1.0))
    with pytest.raises(ValueError, match=r"check_beta: `beta` must be a finite number"):
        toys.check_beta(float("inf"), (0.0, 24.0))

"""Metrics: exact on known cases, zero up to their noise floor for identical distributions,
and far above it for a known shift."""

import numpy as np
import pytest

from selfguide import (
    mmd2,
    noise_floor,
    occupancy_tv,
    sliced_wasserstein,
    toys,
    wasserstein_1d,
)


def test_wasserstein_1d_exact():
    assert wasserstein_1d(np.array([0.0]), np.array([1.0])) == pytest.approx(1.0)
    a = np.random.default_rng(0).standard_normal(300)
    assert wasserstein_1d(a, a + 0.7) == pytest.approx(0.7)
    assert wasserstein_1d(a, np.repeat(a, 3)) == pytest.approx(0.0, abs=1e-12)
    # unequal sizes: {0, 1} against {0, 0, 0, 1}: the CDFs differ by 1/4 on [0, 1)
    assert wasserstein_1d(np.array([0.0, 1.0]), np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(
        0.25
    )
    b = np.random.default_rng(1).exponential(size=177)
    assert wasserstein_1d(a, b) == pytest.approx(wasserstein_1d(b, a))


def test_wasserstein_1d_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    for m, k in [(50, 50), (123, 457), (1000, 7)]:
        a, b = rng.standard_normal(m), 0.5 + 2 * rng.standard_normal(k)
        assert wasserstein_1d(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-10)


def test_sliced_wasserstein_known_values():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 2))
    assert sliced_wasserstein(x, np.repeat(x, 2, axis=0)) == pytest.approx(0.0, abs=1e-12)
    # a translation by c moves every projection by θ·c: SW₂² = mean_θ (θ·c)², ≈ |c|²/2 in 2-D
    c = np.array([0.6, -0.8])
    theta = np.random.default_rng(0).standard_normal((2, 256))
    theta /= np.linalg.norm(theta, axis=0)
    exact = np.sqrt(np.mean((c @ theta) ** 2))
    assert sliced_wasserstein(x, x + c) == pytest.approx(exact, rel=1e-9)
    assert exact == pytest.approx(1 / np.sqrt(2), rel=0.1)  # 256 directions: ~4% spread
    assert sliced_wasserstein(x, x[:250] + 1.0, seed=5) == pytest.approx(
        sliced_wasserstein(x[:250] + 1.0, x, seed=5)
    )


def test_mmd2_matches_brute_force():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((130, 2)), 0.3 + rng.standard_normal((70, 2))
    bandwidths = np.array([0.1, 0.2, 0.5, 1.0, 2.0])

    def gram(a, b):
        d2 = np.sum((a[:, None] - b[None]) ** 2, -1)
        return np.mean([np.exp(-d2 / (2 * h**2)) for h in bandwidths], axis=0)

    kxx, kyy, kxy = gram(x, x), gram(y, y), gram(x, y)
    exact = (
        (kxx.sum() - np.trace(kxx)) / (130 * 129)
        + (kyy.sum() - np.trace(kyy)) / (70 * 69)
        - 2 * kxy.mean()
    )
    assert mmd2(x, y) == pytest.approx(exact, rel=1e-5)
    assert mmd2(x, y, chunk=7) == pytest.approx(exact, rel=1e-5)


def test_gaussian_identical_vs_shifted():
    def draw(n, rng):
        return rng.standard_normal((n, 2))

    floors = noise_floor(
        {"sw": sliced_wasserstein, "mmd": mmd2}, draw, n=1000, seeds=10, n_ref=1000
    )
    x, y = draw(1000, np.random.default_rng(100)), draw(1000, np.random.default_rng(101))
    shifted = y + [0.5, 0.0]
    for name, metric in [("sw", sliced_wasserstein), ("mmd", mmd2)]:
        floor = floors[name]
        assert abs(metric(x, y) - floor.mean) <= 5 * floor.std
        assert metric(x, shifted) >= floor.mean + 10 * floor.std
    assert abs(floors["mmd"].mean) <= 3 * floors["mmd"].std / np.sqrt(10)  # unbiased


def test_occupancy_tv():
    w = np.array([0.5, 0.25, 0.25])
    assert occupancy_tv(np.array([0, 0, 1, 2]), w) == pytest.approx(0.0)
    assert occupancy_tv(np.array([0, 0, 0, 0]), w) == pytest.approx(0.5)
    assert occupancy_tv(np.array([-1, -1, -1, -1]), w) == pytest.approx(1.0)
    assert occupancy_tv(np.array([0, 0, 1, -1]), np.array([2.0, 1.0, 1.0])) == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"occupancy_tv: labels must lie in \[-1, 2\] for 3"):
        occupancy_tv(np.array([0, 3]), w)
    with pytest.raises(ValueError, match=r"occupancy_tv: `weights` must be non-negative"):
        occupancy_tv(np.array([0, 1]), np.array([1.0, -1.0]))


def test_noise_floor_is_deterministic():
    def draw(n, rng):
        return rng.uniform(size=n)

    a = noise_floor(wasserstein_1d, draw, n=200, seeds=4)
    assert a == noise_floor(wasserstein_1d, draw, n=200, seeds=[0, 1, 2, 3])
    assert len(a.values) == 4 and a.mean == pytest.approx(np.mean(a.values))
    assert a.std == pytest.approx(np.std(a.values, ddof=1))
    assert noise_floor(wasserstein_1d, draw, n=200, seeds=[7]).std == 0.0
    # W₁ between two uniform samples of size n scales like n^{-1/2}
    b = noise_floor(wasserstein_1d, draw, n=3200, seeds=4)
    assert 2 < a.mean / b.mean < 8


def test_metric_errors():
    with pytest.raises(ValueError, match=r"wasserstein_1d: `a` must be a non-empty, finite"):
        wasserstein_1d(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"wasserstein_1d: `b` .* with non-finite values"):
        wasserstein_1d(np.array([0.0]), np.array([np.nan]))
    with pytest.raises(ValueError, match=r"mmd2: needs at least 2 points per sample"):
        mmd2(np.zeros((1, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"mmd2: `bandwidths` must be positive"):
        mmd2(np.zeros((3, 2)), np.zeros((5, 2)), bandwidths=(1.0, 0.0))
    with pytest.raises(ValueError, match=r"sliced_wasserstein: `num_projections` must be >= 1"):
        sliced_wasserstein(np.zeros((3, 2)), np.zeros((3, 2)), num_projections=0)
    with pytest.raises(ValueError, match=r"noise_floor: `seeds` must be >= 1 seeds"):
        noise_floor(wasserstein_1d, lambda n, rng: rng.uniform(size=n), n=10, seeds=0)


@pytest.mark.parametrize("name", toys.DATASETS)
def test_toy_metrics_identical_vs_tilted(name):
    """An exact draw of p_10 scores within its noise floor; a draw of q (β = 0) far above it.

    The floor's spread comes from 8 seeds; observed z-scores of the identical draw are
    below 2.5, of the tilted draw above 10.
    """
    beta, n = 10.0, 500
    same = toys.sample_target(name, beta, n, rng=100)[0]
    tilted = toys.sample_q(name, n, rng=101)[0]
    r_same = toys.evaluate(name, same, beta, rng=0, seeds=8)
    r_tilted = toys.evaluate(name, tilted, beta, rng=0, seeds=8)
    expected = {"energy_w1", "sliced_w2", "mmd2"} | (
        {"mode_tv"} if name in ("8gaussians", "moons", "rings", "checkerboard") else set()
    )
    assert set(r_same) == expected
    for metric, (value, floor, spread) in r_same.items():
        assert r_tilted[metric].floor == floor  # the same floors both times
        assert abs(value - floor) <= 5 * spread + 1e-9, metric
        assert r_tilted[metric].value >= floor + 8 * spread + 0.01 * abs(floor), metric

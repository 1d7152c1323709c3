"""The six toys match their definitions (SWG-MATH §6); the API rejects bad input.

Statistical checks use `n = 200_000` draws and a tolerance of 5 standard errors (a false
failure has probability < 1e-6 per check); a wrong constant moves these statistics by many
standard errors.
"""

import numpy as np
import pytest

from selfguide import toys
from selfguide.toys._datasets import _latent_sample, _spiral_project

N = 200_000
Z = 5.0  # standard errors allowed


def _close(value, expected, se, z=Z):
    assert abs(value - expected) <= z * se, (value, expected, se)


def _check_frequencies(labels, probs, n):
    freq = np.bincount(labels, minlength=len(probs)) / n
    se = np.sqrt(np.asarray(probs) * (1 - np.asarray(probs)) / n)
    assert np.all(np.abs(freq - probs) <= Z * se), (freq, probs)


@pytest.fixture(scope="module")
def draws():
    return {name: _latent_sample(name, N, rng=7) for name in toys.DATASETS}


@pytest.mark.parametrize("name", toys.DATASETS)
def test_shapes_energy_range_and_reproducibility(name):
    x, e = toys.sample_q(name, 1000, rng=3)
    assert x.shape == (1000, 2) and e.shape == (1000,)
    assert x.dtype == e.dtype == np.float64
    assert np.all((e >= 0) & (e <= 1))
    np.testing.assert_array_equal(e, toys.energy(name, x))
    x2, e2 = toys.sample_q(name, 1000, rng=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(e, e2)
    x3, _ = toys.sample_q(name, 1000, rng=np.random.default_rng(4))
    assert not np.allclose(x, x3)
    # the public sampler is the latent generator without its latent
    np.testing.assert_array_equal(x, _latent_sample(name, 1000, rng=3)[0])


def test_swissroll(draws):
    x, t = draws["swissroll"]
    a, b = 1.5 * np.pi, 4.5 * np.pi
    assert t.min() >= a and t.max() <= b
    # ‖x‖² = ((t cos t + ε₁)² + (t sin t + ε₂)²) / 25, so E‖x‖² = (E t² + 2) / 25
    r2 = np.sum(x**2, axis=-1)
    _close(r2.mean(), ((b**3 - a**3) / (3 * (b - a)) + 2) / 25, r2.std() / np.sqrt(N))
    # each coordinate is (t cos t + ε)/5 with ε ~ N(0, 1): the residual is N(0, 0.2²)
    resid = x - np.stack([t * np.cos(t), t * np.sin(t)], axis=-1) / 5
    _close(resid.std(), 0.2, 0.2 / np.sqrt(2 * 2 * N))
    e = toys.energy("swissroll", x)
    np.testing.assert_allclose(e, np.minimum(r2 / 9, 1.0))
    # the clip at e = 1 touches the ~1.2% of q beyond ‖x‖ = 3
    assert 0.005 < np.mean(e == 1.0) < 0.02


def test_8gaussians(draws):
    x, k = draws["8gaussians"]
    _check_frequencies(k, [1 / 8] * 8, N)
    sd = 0.5 / 1.414
    for j, expected in [(0, (0, 1)), (2, (-1, 0)), (4, (0, -1)), (6, (1, 0))]:
        centre = 4 * np.asarray(expected, float) / 1.414
        xs = x[k == j]
        np.testing.assert_allclose(xs.mean(0), centre, atol=Z * sd / np.sqrt(len(xs)))
        _close(xs.std(0).mean(), sd, sd / np.sqrt(len(xs)))
    corner = x[k == 1].mean(0)  # k = 1 is at 135°, counter-clockwise from k = 0
    np.testing.assert_allclose(corner, 4 * np.array([-1, 1]) / np.sqrt(2) / 1.414, atol=0.01)
    # energy k/7 with k the nearest centre: equals the latent except in the Gaussian tails
    # beyond the sector edges (1.08 = 3.06 sd away: 2 · P(Z > 3.06) ≈ 0.22%)
    e = toys.energy("8gaussians", x)
    assert set(np.unique(np.round(e * 7, 9))) == set(range(8))
    agree = np.mean(np.isclose(e, k / 7))
    assert 0.996 < agree < 0.999
    # sectors are rotated copies of each other: each holds exactly 1/8 of q
    _check_frequencies(toys.mode_of("8gaussians", x), [1 / 8] * 8, N)
    angles = np.pi / 2 + np.pi / 4 * np.arange(8)
    centres = 4 * np.stack([np.cos(angles), np.sin(angles)], -1) / 1.414
    np.testing.assert_array_equal(toys.mode_of("8gaussians", centres), np.arange(8))
    np.testing.assert_allclose(toys.energy("8gaussians", centres), np.arange(8) / 7)


def test_moons(draws):
    x, label = draws["moons"]
    _check_frequencies(label, [0.5, 0.5], N)
    # θ ~ U[0, π]: E(cos θ, sin θ) = (0, 2/π); scaled by 2 and shifted by (−1, −0.2)
    for c, mean in [(0, (-1.0, 4 / np.pi - 0.2)), (1, (1.0, 0.8 - 4 / np.pi))]:
        xs = x[label == c]
        np.testing.assert_allclose(xs.mean(0), mean, atol=Z * xs.std(0).max() / np.sqrt(len(xs)))
    # support: within 5 noise sd (0.2 scaled) of its arc
    u = (x + [1.0, 0.2]) / 2
    u = np.where(label[:, None] == 1, [1.0, 0.5] - u, u)
    assert np.all(np.abs(np.linalg.norm(u, axis=-1) - 1) < 6 * 0.1)
    # energy = class of the nearer arc: equals the label except where the arcs come within
    # 0.5 of each other (2.5 noise sd): about 0.1% of draws
    e = toys.energy("moons", x)
    assert set(np.unique(e)) == {0.0, 1.0}
    assert 0.998 < np.mean(e == label) < 0.9995
    # q is symmetric under the point reflection that swaps the arcs: each side holds 1/2
    _check_frequencies(toys.mode_of("moons", x), [0.5, 0.5], N)
    # ... and the reflection of a point swaps its side (x ↦ (0, 0.6) − x in scaled units)
    np.testing.assert_array_equal(
        toys.mode_of("moons", [0.0, 0.6] - x[:5000]), 1 - toys.mode_of("moons", x[:5000])
    )


def test_rings(draws):
    x, j = draws["rings"]
    radii = np.array([3.0, 2.25, 1.5, 0.75])
    _check_frequencies(j, [0.25] * 4, N)
    r = np.linalg.norm(x, axis=-1)
    for ring, radius in enumerate(radii):
        rs = r[j == ring]
        # E‖R u + ε‖ ≈ R + σ²/(2R) for σ = 0.08 ≪ R
        _close(rs.mean(), radius + 0.08**2 / (2 * radius), 0.08 / np.sqrt(len(rs)))
        angle = np.arctan2(x[j == ring, 1], x[j == ring, 0])
        _close(np.mean(np.cos(angle)), 0.0, 1 / np.sqrt(2 * len(rs)))
    e = toys.energy("rings", x)
    table = np.array([0.667, 0.333, 1.0, 0.0])
    assert np.mean(e == table[j]) > 0.9999  # nearest-radius errors need a 4.7 sd excursion
    probe = np.array([[3.0, 0.0], [0.0, 2.25], [-1.5, 0.0], [0.0, -0.75], [0.0, 0.0]])
    np.testing.assert_array_equal(toys.energy("rings", probe), [0.667, 0.333, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(toys.mode_of("rings", probe), [0, 1, 2, 3, 3])


def test_checkerboard(draws):
    x, _ = draws["checkerboard"]
    assert np.all((x >= -4) & (x < 4))
    col, row = np.floor(x[:, 0] / 2).astype(int), np.floor(x[:, 1] / 2).astype(int)
    assert np.all((col + row) % 2 == 0)  # only the 8 "black" squares are occupied
    square = (col + 2) * 4 + (row + 2)
    occupied = np.unique(square)
    assert len(occupied) == 8
    _check_frequencies(np.searchsorted(occupied, square), [1 / 8] * 8, N)
    _close(np.mean(x / 2 - np.floor(x / 2)), 0.5, np.sqrt(1 / 12 / (2 * N)))  # uniform
    # e = 1 iff 0 < x₁ ≤ 2 or x₁ ≤ −2 on the scaled coordinates: alternate columns
    e = toys.energy("checkerboard", x)
    rule = ((x[:, 0] > 0) & (x[:, 0] <= 2)) | (x[:, 0] <= -2)
    np.testing.assert_array_equal(e, rule.astype(float))
    _close(e.mean(), 0.5, 0.5 / np.sqrt(N))
    probe = np.array([[x1, 0.5] for x1 in (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -5.0, 5.0)])
    np.testing.assert_array_equal(toys.energy("checkerboard", probe), [1, 1, 0, 0, 1, 1, 0, 1, 0])
    np.testing.assert_array_equal(toys.mode_of("checkerboard", probe), [0, 0, 1, 1, 2, 2, 3, 0, 3])


def test_2spirals(draws):
    x, angle = draws["2spirals"]
    assert angle.min() >= 0 and angle.max() <= 3 * np.pi
    # n = √U · 3π: P(n ≤ 3π/2) = 1/4
    _close(np.mean(angle <= 1.5 * np.pi), 0.25, np.sqrt(0.25 * 0.75 / N))
    # the two arms are mirror images: the mean is 0
    np.testing.assert_allclose(x.mean(0), 0.0, atol=Z * x.std(0).max() / np.sqrt(N))
    e = toys.energy("2spirals", x)
    assert e.min() >= 1 - 3 * np.pi / 10 - 1e-12 and e.max() <= 1.0
    # e(x) from the nearest mean-curve point tracks the latent energy clip(1 − n/10, 0, 1)
    assert np.mean(np.abs(e - np.clip(1 - angle / 10, 0, 1))) < 0.01
    np.testing.assert_array_equal(toys.energy("2spirals", -x), e)


def test_2spirals_projection_is_the_nearest_point():
    rng = np.random.default_rng(0)
    u = rng.uniform(-10, 10, size=(300, 2))
    u[:100] *= 0.15  # many points near the tightly curved centre
    n, d2 = _spiral_project(u[:, 0], u[:, 1])
    grid = np.linspace(0, 3 * np.pi, 50_001)
    curve = np.stack([-np.cos(grid) * grid, np.sin(grid) * grid], -1)
    brute = np.min(np.sum((u[:, None, :] - curve[None]) ** 2, -1), axis=1)
    # between grid points the curve runs at most `arc` = |g'| h ≤ √(1 + 9π²) · 3π/50000, so
    # the grid minimum exceeds the true one by at most arc·d + arc²/4
    arc = np.sqrt(1 + 9 * np.pi**2) * 3 * np.pi / 50_000
    assert np.all(d2 <= brute + 1e-12)
    assert np.all(d2 >= brute - arc * np.sqrt(brute) - arc**2 / 4)
    # and the angle is the nearest point's, up to the grid step
    near = grid[np.argmin(np.sum((u[:, None, :] - curve[None]) ** 2, -1), axis=1)]
    assert np.median(np.abs(near - n)) < 3 * np.pi / 50_000


def test_weight():
    x, e = toys.sample_q("8gaussians", 1000, rng=0)
    w = toys.weight("8gaussians", x, 10.0)
    np.testing.assert_allclose(w, np.exp(10.0 * (e - 1.0)))
    assert np.all((w > 0) & (w <= 1))
    np.testing.assert_array_equal(w[e == 1.0], 1.0)
    np.testing.assert_array_equal(toys.weight("8gaussians", x, 0), 1.0)


def test_custom_toy():
    blob = toys.Toy(
        name="blob",
        sampler=lambda rng, n: rng.standard_normal((n, 3)),
        energy_fn=lambda x: np.exp(-0.5 * np.sum(x**2, axis=-1)),
        dim=3,
    )
    x, e = toys.sample_q(blob, 500, rng=0)
    assert x.shape == (500, 3) and np.all((e > 0) & (e <= 1))
    assert toys.get_toy(blob) is blob
    halves = toys.Toy(
        "halves",
        lambda rng, n: rng.uniform(-1, 1, size=(n, 2)),
        lambda x: (x[:, 0] > 0).astype(float),
        mode_fn=lambda x: (x[:, 0] > 0).astype(int),
        mode_prior=(0.5, 0.5),
        mode_energy=(0, 1),
    )
    np.testing.assert_allclose(toys.mode_weights(halves, np.log(3)), [0.25, 0.75])


def test_unknown_dataset():
    match = r"unknown dataset 'nope'.*'swissroll', '8gaussians', 'moons', 'rings'"
    for call in (
        lambda: toys.get_toy("nope"),
        lambda: toys.sample_q("nope", 10, rng=0),
        lambda: toys.energy("nope", np.zeros((3, 2))),
        lambda: toys.mode_of("nope", np.zeros((3, 2))),
        lambda: toys.sample_target("nope", 1.0, 10, rng=0),
        lambda: toys.mode_weights("nope", 1.0),
    ):
        with pytest.raises(ValueError, match=match):
            call()


@pytest.mark.parametrize("n", [0, -5])
def test_bad_count(n):
    with pytest.raises(ValueError, match=r"sample_q: `n` must be a positive number"):
        toys.sample_q("moons", n, rng=0)


def test_bad_points_and_no_modes():
    with pytest.raises(ValueError, match=r"energy: expected points of shape \(n, 2\)"):
        toys.energy("rings", np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"mode_of: 'swissroll' has no modes"):
        toys.mode_of("swissroll", np.zeros((4, 2)))


def test_bad_custom_toys():
    with pytest.raises(ValueError, match=r"go together; got only \['mode_prior'\]"):
        toys.Toy("t", lambda rng, n: rng.uniform(size=(n, 2)), lambda x: x[:, 0], mode_prior=(1.0,))
    with pytest.raises(ValueError, match=r"`mode_prior` must be non-negative and sum to 1"):
        toys.Toy(
            "t",
            lambda rng, n: rng.uniform(size=(n, 2)),
            lambda x: x[:, 0],
            mode_fn=lambda x: np.zeros(len(x), int),
            mode_prior=(0.5, 0.7),
            mode_energy=(0.0, 1.0),
        )
    hot = toys.Toy("hot", lambda rng, n: rng.uniform(size=(n, 2)), lambda x: 2 * x[:, 0])
    with pytest.raises(ValueError, match=r"energy of 'hot' must lie in \[0, 1\].*Rescale"):
        toys.sample_q(hot, 100, rng=0)
    flat = toys.Toy("flat", lambda rng, n: rng.uniform(size=(n,)), lambda x: x)
    with pytest.raises(ValueError, match=r"sampler of 'flat' must return shape \(7, 2\)"):
        toys.sample_q(flat, 7, rng=0)

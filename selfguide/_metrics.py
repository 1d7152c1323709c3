"""Sample-quality metrics, each meant to be read next to its noise floor.

Every distance here is between two finite samples, so it scatters above zero (the unbiased
MMD², around zero) even when both come from the same distribution.
[`noise_floor`][selfguide.noise_floor] measures that level: the same metric between two
independent exact draws of the same sizes, averaged over seeds. A model is as good as exact
sampling at that sample size when its value is within the floor's spread.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from jaxtyping import ArrayLike, Float, Int


def _sample(x: ArrayLike, call: str, name: str, ndim: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != ndim or len(x) == 0 or not np.all(np.isfinite(x)):
        shape = "(n,)" if ndim == 1 else "(n, dim)"
        raise ValueError(
            f"{call}: `{name}` must be a non-empty, finite array of shape {shape}, got shape "
            f"{x.shape}" + ("" if np.all(np.isfinite(x)) else " with non-finite values") + "."
        )
    return x


def _quantile_pairs(m: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs and lengths of the pieces where the quantile functions of two sorted
    samples of sizes `m` and `k` are both constant: `∫₀¹ f(F⁻¹(u), G⁻¹(u)) du` is exactly
    `Σ du · f(a[ia], b[ib])`."""
    edges = np.union1d(np.arange(m + 1) * k, np.arange(k + 1) * m)  # u · m k, integers
    left = edges[:-1]
    return left // k, left // m, np.diff(edges) / (m * k)


def wasserstein_1d(a: Float[ArrayLike, " n"], b: Float[ArrayLike, " m"]) -> float:
    """Exact 1-D Wasserstein-1 distance between two empirical distributions.

    `W₁ = ∫₀¹ |F_a⁻¹(u) − F_b⁻¹(u)| du`, computed from the sorted samples; sizes may differ.
    Applied to the energies of a sample and of the target, it is the metric most sensitive to
    the `β`-tilt that guidance changes.

    **Arguments:**

    - `a`, `b`: 1-D samples.

    **Returns:**

    `W₁(a, b) ≥ 0`, in the units of the samples.
    """
    a = np.sort(_sample(a, "wasserstein_1d", "a", 1))
    b = np.sort(_sample(b, "wasserstein_1d", "b", 1))
    ia, ib, du = _quantile_pairs(len(a), len(b))
    return float(np.sum(np.abs(a[ia] - b[ib]) * du))


def sliced_wasserstein(
    x: Float[ArrayLike, "n dim"],
    y: Float[ArrayLike, "m dim"],
    *,
    num_projections: int = 256,
    seed: int = 0,
) -> float:
    """Sliced Wasserstein-2 distance between two point clouds.

    `SW₂ = (E_θ W₂²(θ·x, θ·y))^{1/2}` over directions `θ` uniform on the sphere, estimated with
    `num_projections` directions fixed by `seed` (so repeated calls compare like with like);
    each 1-D `W₂` is exact, and sizes may differ.

    **Arguments:**

    - `x`, `y`: samples of shapes `(n, dim)` and `(m, dim)`.
    - `num_projections`: the number of random directions.
    - `seed`: the seed of the directions.

    **Returns:**

    `SW₂(x, y) ≥ 0`, in the units of the data (a shift by `c` in 2-D gives `≈ |c| / √2`).
    """
    call = "sliced_wasserstein"
    x = _sample(x, call, "x", 2)
    y = _sample(y, call, "y", 2)
    if num_projections < 1:
        raise ValueError(f"{call}: `num_projections` must be >= 1, got {num_projections}.")
    theta = np.random.default_rng(seed).standard_normal((x.shape[1], num_projections))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    px = np.sort(x @ theta, axis=0)
    py = np.sort(y @ theta, axis=0)
    ia, ib, du = _quantile_pairs(len(x), len(y))
    w2 = du @ (px[ia] - py[ib]) ** 2
    return float(np.sqrt(np.mean(w2)))


def _kernel_sum(a: np.ndarray, b: np.ndarray, scales: np.ndarray, chunk: int, same: bool) -> float:
    """`Σ_ij k(a_i, b_j)` for the mean of RBF kernels; with `same` (`b` is `a`), `i ≠ j`.

    Rows go in blocks of `chunk`; with `same`, a block meets only the columns from its own
    start on, and the sum is mirrored.
    """
    total = 0.0
    b2 = np.sum(b**2, axis=-1)
    for start in range(0, len(a), chunk):
        block = a[start : start + chunk]
        c = len(block)
        cols, cols2 = (b[start:], b2[start:]) if same else (b, b2)
        d2 = np.sum(block**2, axis=-1)[:, None] + cols2 - 2.0 * block @ cols.T
        d2 = np.maximum(d2, 0.0).astype(np.float32)
        if same:
            d2[np.arange(c), np.arange(c)] = np.inf  # leave out i = j
        k = np.empty_like(d2)
        for scale in scales:
            np.exp(np.multiply(d2, scale, out=k), out=k)
            if same:  # pairs (i, j ≥ block end) count twice, pairs within the block once
                total += 2.0 * float(k.sum(dtype=np.float64))
                total -= float(k[:, :c].sum(dtype=np.float64))
            else:
                total += float(k.sum(dtype=np.float64))
    return total / len(scales)


def mmd2(
    x: Float[ArrayLike, "n dim"],
    y: Float[ArrayLike, "m dim"],
    *,
    bandwidths: Sequence[float] = (0.1, 0.2, 0.5, 1.0, 2.0),
    chunk: int = 256,
) -> float:
    """Unbiased squared maximum mean discrepancy with a mixture of RBF kernels.

    `k(x, y) = mean_b exp(−‖x − y‖² / (2 b²))`. The estimator leaves out the diagonal terms,
    so it is unbiased for `MMD²` and can be slightly negative when the distributions agree.
    Pairwise terms are computed in row blocks of `chunk` (float32 kernel values, float64
    sums): `n = m = 5000` takes under a second on two CPU cores.

    **Arguments:**

    - `x`, `y`: samples of shapes `(n, dim)` and `(m, dim)`, `n, m ≥ 2`.
    - `bandwidths`: the kernel bandwidths `b`; the default suits data of unit scale, such as
        the 2-D toys.
    - `chunk`: rows per block (memory `≈ 16 · chunk · max(n, m)` bytes).

    **Returns:**

    The `MMD²` estimate (0 in expectation iff the distributions agree).
    """
    call = "mmd2"
    x = _sample(x, call, "x", 2)
    y = _sample(y, call, "y", 2)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"{call}: needs at least 2 points per sample, got {len(x)} and {len(y)}.")
    bw = np.asarray(bandwidths, dtype=np.float64)
    if bw.ndim != 1 or bw.size == 0 or np.any(bw <= 0):
        raise ValueError(f"{call}: `bandwidths` must be positive numbers, got {bandwidths!r}.")
    if chunk < 1:
        raise ValueError(f"{call}: `chunk` must be >= 1, got {chunk}.")
    scales = (-0.5 / bw**2).astype(np.float32)
    n, m = len(x), len(y)
    kxx = _kernel_sum(x, x, scales, chunk, same=True) / (n * (n - 1))
    kyy = _kernel_sum(y, y, scales, chunk, same=True) / (m * (m - 1))
    kxy = _kernel_sum(x, y, scales, chunk, same=False) / (n * m)
    return kxx + kyy - 2.0 * kxy


def occupancy_tv(labels: Int[ArrayLike, " n"], weights: Float[ArrayLike, " modes"]) -> float:
    """Total variation between a sample's mode occupancy and target mode masses.

    `TV = ½ Σ_m |p̂_m − p_m|` with `p̂_m` the fraction of labels equal to `m`. A label `−1`
    marks a point outside every mode (target mass 0).

    **Arguments:**

    - `labels`: integer mode labels in `{−1, 0, …, modes − 1}`.
    - `weights`: the target mode masses (normalised here).

    **Returns:**

    `TV ∈ [0, 1]`.
    """
    call = "occupancy_tv"
    labels = np.asarray(labels)
    w = np.asarray(weights, dtype=np.float64)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"{call}: `labels` must be a non-empty 1-D array, got {labels.shape}.")
    if w.ndim != 1 or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"{call}: `weights` must be non-negative with a positive sum, got {w}.")
    if labels.min() < -1 or labels.max() >= len(w):
        raise ValueError(
            f"{call}: labels must lie in [-1, {len(w) - 1}] for {len(w)} modes, got values in "
            f"[{labels.min()}, {labels.max()}]."
        )
    counts = np.bincount(labels + 1, minlength=len(w) + 1) / len(labels)
    target = np.concatenate([[0.0], w / w.sum()])
    return float(0.5 * np.sum(np.abs(counts - target)))


class NoiseFloor(NamedTuple):
    """A metric's value between independent exact draws: `mean` and `std` over seeds."""

    mean: float
    std: float
    values: tuple[float, ...]


def noise_floor(
    metric: Callable[[Any, Any], float] | Mapping[str, Callable[[Any, Any], float]],
    draw_exact: Callable[[int, np.random.Generator], Any],
    n: int,
    seeds: int | Sequence[int] = 5,
    *,
    n_ref: int | None = None,
) -> NoiseFloor | dict[str, NoiseFloor]:
    """The noise floor of a metric: its value between two independent exact draws.

    For each seed, draws `a` of size `n` and `b` of size `n_ref` from `draw_exact` with
    independent generators and evaluates `metric(a, b)`. Use the sizes the model's sample
    and the reference will have.

    **Arguments:**

    - `metric`: `metric(a, b) -> float`, or a dict of such metrics to evaluate on the same
        draws.
    - `draw_exact`: `draw_exact(size, rng) -> sample`, exact draws of the target.
    - `n`: the size of the first draw (the model's sample size).
    - `seeds`: a number of seeds (`0, …, seeds − 1`) or the seeds themselves.
    - `n_ref`: the size of the second draw (the reference); default `n`.

    **Returns:**

    A `NoiseFloor(mean, std, values)` (a dict of them for a dict of metrics); `std` is the
    spread over seeds (0 for one seed).

    **Example:**

    ```python
    draw = lambda size, rng: toys.sample_target("moons", 3.0, size, rng=rng)[1]
    floor = noise_floor(wasserstein_1d, draw, n=2000, seeds=10)
    ```
    """
    call = "noise_floor"
    seeds = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seeds or min(seeds) < 0:
        raise ValueError(f"{call}: `seeds` must be >= 1 seeds, each >= 0, got {seeds!r}.")
    if n < 1 or (n_ref is not None and n_ref < 1):
        raise ValueError(f"{call}: sample sizes must be >= 1, got n={n}, n_ref={n_ref}.")
    n_ref = n if n_ref is None else n_ref
    metrics = metric if isinstance(metric, Mapping) else {"": metric}
    values = {name: [] for name in metrics}
    for s in seeds:
        a = draw_exact(n, np.random.default_rng([s, 0]))
        b = draw_exact(n_ref, np.random.default_rng([s, 1]))
        for name, fn in metrics.items():
            values[name].append(float(fn(a, b)))
    floors = {
        name: NoiseFloor(
            float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, tuple(v)
        )
        for name, v in values.items()
    }
    return floors if isinstance(metric, Mapping) else floors[""]

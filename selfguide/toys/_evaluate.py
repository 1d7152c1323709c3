"""Score a sample of a toy target against exact ground truth, each metric next to its floor."""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from jaxtyping import ArrayLike, Float

from selfguide import mmd2, noise_floor, occupancy_tv, sliced_wasserstein, wasserstein_1d

from ._datasets import energy, get_toy, mode_of
from ._ground_truth import mode_weights, sample_target
from ._toy import RNG, Real, Toy, as_generator, check_count, check_real


class MetricReport(NamedTuple):
    """A metric's value for a sample, and its noise floor (mean and spread over seeds)."""

    value: float
    floor: float
    floor_std: float


def evaluate(
    dataset: str | Toy,
    x: Float[ArrayLike, "n dim"],
    beta: Real,
    *,
    rng: RNG,
    n_ref: int | None = None,
    seeds: int | Sequence[int] = 5,
    pool: int | None = None,
    bandwidths: Sequence[float] = (0.1, 0.2, 0.5, 1.0, 2.0),
    num_projections: int = 256,
) -> dict[str, MetricReport]:
    """Compare a sample with the exact target `p_β`, each metric next to its noise floor.

    Metrics:

    - `"mode_tv"`: total variation between the sample's mode occupancy and the closed-form
        mode masses (toys with piecewise-constant energy only); its floor is the same TV for
        exact draws of size `n`.
    - `"energy_w1"`: 1-D Wasserstein-1 between the sample's energies and a reference draw's:
        the most sensitive to the `β`-tilt.
    - `"sliced_w2"`: sliced Wasserstein-2 between the sample and the reference draw.
    - `"mmd2"`: unbiased RBF-mixture `MMD²` between the sample and the reference draw. Its
        floor is near 0 (the estimator is unbiased); compare the value with `floor_std`.

    The reference is an exact draw of size `n_ref`; each floor is the metric between two
    independent exact draws of sizes `n` and `n_ref`, over `seeds` (see
    [`noise_floor`][selfguide.noise_floor]). A sample is as good as exact sampling at its
    size when its value lies within a few `floor_std` of `floor`.

    **Arguments:**

    - `dataset`: a built-in name or a [`Toy`][selfguide.toys.Toy].
    - `x`: the sample to score, shape `(n, dim)` (for instance, a guided model's output).
    - `beta`: the `β` of the target the sample is meant to follow.
    - `rng`: a seed or a NumPy `Generator` for the reference draw (keyword-only).
    - `n_ref`: the reference size; default `n`.
    - `seeds`: the seeds (or their number) of the noise floors.
    - `pool`: the SIR pool size of every exact draw (default `100 ×` its size).
    - `bandwidths`, `num_projections`: passed to `mmd2` and `sliced_wasserstein`.

    **Returns:**

    A dict from metric name to `MetricReport(value, floor, floor_std)`.

    **Example:**

    ```python
    report = toys.evaluate("8gaussians", samples, beta=10.0, rng=0)
    for name, (value, floor, spread) in report.items():
        print(f"{name}: {value:.4f} (floor {floor:.4f} ± {spread:.4f})")
    ```
    """
    report = evaluate_many(
        dataset,
        {"x": x},
        beta,
        rng=rng,
        n_ref=n_ref,
        seeds=seeds,
        pool=pool,
        bandwidths=bandwidths,
        num_projections=num_projections,
        call="evaluate",
    )
    return report["x"]


def evaluate_many(
    dataset: str | Toy,
    samples: Mapping[str, Float[ArrayLike, "n dim"]],
    beta: Real,
    *,
    rng: RNG,
    n_ref: int | None = None,
    seeds: int | Sequence[int] = 5,
    pool: int | None = None,
    bandwidths: Sequence[float] = (0.1, 0.2, 0.5, 1.0, 2.0),
    num_projections: int = 256,
    call: str = "evaluate_many",
) -> dict[str, dict[str, MetricReport]]:
    """[`evaluate`][selfguide.toys.evaluate] for several samples of the same size at once:
    one reference draw and one set of noise floors serve them all.

    **Returns:** `{sample name: {metric name: MetricReport}}`.
    """
    toy = get_toy(dataset, call=call)
    beta = check_real(call, "beta", beta)
    if not samples:
        raise ValueError(f"{call}: `samples` is empty; pass at least one sample.")
    points = {name: np.asarray(x, dtype=np.float64) for name, x in samples.items()}
    energies = {name: energy(toy, x) for name, x in points.items()}
    sizes = {len(x) for x in points.values()}
    if len(sizes) != 1:
        raise ValueError(
            f"{call}: all samples must have the same size (their noise floors are shared), "
            f"got sizes {sorted(sizes)}."
        )
    n = sizes.pop()
    n_ref = n if n_ref is None else check_count(call, "n_ref", n_ref)

    def draw(size: int, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return sample_target(toy, beta, size, rng=gen, pool=pool)

    metrics = {
        "energy_w1": lambda a, b: wasserstein_1d(a[1], b[1]),
        "sliced_w2": lambda a, b: sliced_wasserstein(a[0], b[0], num_projections=num_projections),
        "mmd2": lambda a, b: mmd2(a[0], b[0], bandwidths=bandwidths),
    }
    if toy.has_modes:
        weights = mode_weights(toy, beta)
        metrics = {"mode_tv": lambda a, b: occupancy_tv(mode_of(toy, a[0]), weights), **metrics}

    reference = draw(n_ref, as_generator(rng))
    floors = noise_floor(metrics, draw, n, seeds, n_ref=n_ref)
    return {
        sample: {
            name: MetricReport(
                metric((points[sample], energies[sample]), reference),
                floors[name].mean,
                floors[name].std,
            )
            for name, metric in metrics.items()
        }
        for sample in points
    }

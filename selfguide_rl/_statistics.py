"""Statistics at the level of seeds, as offline-RL results should be reported.

Episodes of one training seed are not independent draws of a method's performance: they
share the seed's critic and policy. So a method's score is the mean over seeds of each
seed's mean episode score, its standard error is that of the seed means, a comparison with
a baseline is the mean of the per-seed differences (paired by seed), and the aggregate over
datasets is the interquartile mean (IQM) of all runs with a stratified bootstrap interval
(Agarwal et al., 2021, "Deep RL at the edge of the statistical precipice"): runs are
resampled within each dataset, through `scipy.stats.bootstrap` with one sample per dataset.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class SeedSummary:
    """A method's score over seeds: `mean` of the seed means, its standard error `stderr`
    (sample standard deviation of the seed means over √seeds; `nan` for one seed), the
    number of `seeds`, and the seed means themselves by seed."""

    mean: float
    stderr: float
    seeds: int
    seed_means: dict[int, float]


def _seed_means(scores_by_seed: Mapping[int, Sequence[float] | np.ndarray], call: str):
    if not scores_by_seed:
        raise ValueError(f"{call}: no seeds were given; pass {{seed: episode scores}}.")
    means = {}
    for seed, scores in scores_by_seed.items():
        arr = np.asarray(scores, dtype=float).reshape(-1)
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{call}: seed {seed} has no episode scores or non-finite ones ({arr})."
            )
        means[int(seed)] = float(arr.mean())
    return means


def _stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")


def seed_summary(scores_by_seed: Mapping[int, Sequence[float] | np.ndarray]) -> SeedSummary:
    """Mean ± standard error over seeds of `{seed: episode scores}`."""
    means = _seed_means(scores_by_seed, "seed_summary")
    values = np.asarray(list(means.values()))
    return SeedSummary(float(values.mean()), _stderr(values), values.size, means)


def paired_difference(
    method: Mapping[int, Sequence[float] | np.ndarray],
    baseline: Mapping[int, Sequence[float] | np.ndarray],
) -> SeedSummary:
    """`method − baseline` per seed (their episode means, on the seeds both have), then mean
    ± standard error over those seeds: the comparison with a baseline trained on the same
    seeds, where a seed's luck (its critic, its data order) cancels."""
    a = _seed_means(method, "paired_difference")
    b = _seed_means(baseline, "paired_difference")
    common = sorted(set(a) & set(b))
    if not common:
        raise ValueError(
            f"paired_difference: the method and the baseline share no seed (method: "
            f"{sorted(a)}, baseline: {sorted(b)})."
        )
    diffs = {s: a[s] - b[s] for s in common}
    values = np.asarray(list(diffs.values()))
    return SeedSummary(float(values.mean()), _stderr(values), values.size, diffs)


def interquartile_mean(values: Sequence[float] | np.ndarray) -> float:
    """The mean of the middle 50% of `values` (25% trimmed from each end)."""
    return float(stats.trim_mean(np.asarray(values, dtype=float).reshape(-1), 0.25))


def iqm_interval(
    runs_by_dataset: Mapping[str, Sequence[float] | np.ndarray],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """`(IQM, low, high)` over all runs (one score per seed and dataset) with a stratified
    bootstrap percentile interval: each dataset's runs are resampled on their own."""
    samples = [np.asarray(v, dtype=float).reshape(-1) for v in runs_by_dataset.values()]
    if not samples or any(s.size == 0 for s in samples):
        raise ValueError("iqm_interval: every dataset needs at least one run score.")

    def statistic(*groups, axis=-1):
        return stats.trim_mean(np.concatenate(groups, axis=axis), 0.25, axis=axis)

    point = interquartile_mean(np.concatenate(samples))
    if all(s.size == 1 for s in samples) or all(np.ptp(s) == 0 for s in samples):
        return point, point, point  # nothing to resample
    result = stats.bootstrap(
        samples, statistic, n_resamples=resamples, confidence_level=confidence,
        method="percentile", vectorized=True, rng=np.random.default_rng(seed),
    )
    return point, float(result.confidence_interval.low), float(result.confidence_interval.high)

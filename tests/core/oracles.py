"""Exact Gaussian-mixture oracles shared by the tests."""

import numpy as np

from selfguide.testing import GaussianMixtureOracle


def oracle(means, stds, probs, tilts, schedule) -> GaussianMixtureOracle:
    arr = lambda v: np.asarray(v, dtype=float)
    return GaussianMixtureOracle(arr(means), arr(stds), arr(probs), arr(tilts), schedule)

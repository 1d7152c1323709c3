"""Exact Gaussian-mixture oracles shared by the tests."""

import numpy as np

import selfguide as sg


def oracle(means, stds, probs, tilts, schedule) -> sg.GaussianMixtureOracle:
    arr = lambda v: np.asarray(v, dtype=float)
    return sg.GaussianMixtureOracle(arr(means), arr(stds), arr(probs), arr(tilts), schedule)


def nearest_mode(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    return np.argmin(((x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)

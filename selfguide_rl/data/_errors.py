"""Errors raised while finding and checking offline-RL datasets."""

import numpy as np


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither stored locally nor could be downloaded.

    The message says which local folder was checked, whether a download was attempted and
    why it failed, and how to build a local dataset with `selfguide-rl collect`.
    """


def check_finite(caller: str, name: str, array: np.ndarray) -> None:
    """Raise a `ValueError` naming `caller` if `array` holds NaN or infinite values."""
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array)
        if bad.any():
            rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
            num_nan = int(np.isnan(array).sum())
            raise ValueError(
                f"{caller}: `{name}` holds {int(bad.sum())} non-finite values ({num_nan} NaN) "
                f"in {rows.size} steps, the first at step {int(rows[0])}. Expected finite "
                "numbers; the dataset is damaged: rebuild it, or drop those episodes before "
                "loading."
            )

"""Checking an inverse temperature `β` against the range a model was trained on."""

import math
import warnings

from ._toy import Real, check_real


class BetaRangeWarning(UserWarning):
    """A `β` outside the range of `β`s a model was trained on: its guidance extrapolates."""


def check_beta(beta: Real, trained_range: tuple[Real, Real], *, strict: bool = False) -> float:
    """Check that `β` lies in the range a `β`-conditioned model was trained on.

    A model trained on weights `exp(β (e − 1))` for `β ∈ [β_min, β_max]` has never seen other
    `β`s; asking it for one extrapolates.

    **Arguments:**

    - `beta`: the requested `β`.
    - `trained_range`: `(β_min, β_max)`, the trained range, `β_min ≤ β_max`.
    - `strict`: raise a `ValueError` instead of warning.

    **Returns:**

    `beta` as a `float`. Outside the range: a
    [`BetaRangeWarning`][selfguide.toys.BetaRangeWarning], or a `ValueError` when `strict`.

    **Example:**

    ```python
    beta = toys.check_beta(args.beta, trained_range=(0.0, 24.0))
    ```
    """
    call = "check_beta"
    beta = check_real(call, "beta", beta)
    if len(trained_range) != 2:
        raise ValueError(
            f"{call}: `trained_range` must be a pair (beta_min, beta_max), got {trained_range!r}."
        )
    lo, hi = (float(b) for b in trained_range)
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise ValueError(
            f"{call}: `trained_range` must satisfy beta_min <= beta_max, got ({lo}, {hi})."
        )
    if lo <= beta <= hi:
        return beta
    message = (
        f"{call}: beta={beta} is outside the trained range [{lo}, {hi}], so the model "
        f"extrapolates and its samples are not to be trusted. Use a beta in [{lo}, {hi}] or "
        "train on a range that covers it."
    )
    if strict:
        raise ValueError(message)
    warnings.warn(message, BetaRangeWarning, stacklevel=2)
    return beta

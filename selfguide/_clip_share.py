"""How often `SelfWeightedGuidance`'s clip of `ŵ_0` binds, along the sampler's own path.

Outside `[clip_min, clip_max]` the gradient of `log ŵ_0` is zero: guidance is off there. With
weights rescaled to `(0, 1]` and `clip_max=1`, the best actions sit exactly at the upper
clip, so it can switch guidance off where it matters; this measures how often.
"""

from typing import NamedTuple

import jax
import numpy as np

from ._custom_types import PRNGKey
from ._guidance import AbstractGuidance, SelfWeightedGuidance, combine_weights
from ._joint import JointModel
from ._sample import sample
from ._sampler._base import AbstractSampler
from ._schedule import AbstractSchedule


class ClipShares(NamedTuple):
    """Of the guided noise evaluations of one `sample` call (one per row and step for DDPM
    and DDIM, one per solver stage for an ODE), the share with `ŵ_0 < clip_min` (`below`)
    and with `ŵ_0 > clip_max` (`above`), and their number (`evaluations`)."""

    below: float
    above: float
    evaluations: int


# The counts of the `clip_shares` call in progress. One module-level callback writes to them,
# so every call traces the same program: a per-call closure, a static field of the
# guidance, made each call compile anew (about 6 s for an RL policy on 2 CPU cores).
_COUNTS: list[dict[str, int]] = []


def _record(below, above) -> None:
    below, above = np.asarray(below), np.asarray(above)
    counts = _COUNTS[-1]
    counts["below"] += int(below.sum())
    counts["above"] += int(above.sum())
    counts["evaluations"] += below.size


class _Counting(AbstractGuidance):
    """The guidance itself, reporting at each evaluation whether `ŵ_0` is clipped."""

    inner: SelfWeightedGuidance

    def validate(self, model: JointModel) -> None:
        self.inner.validate(model)

    def eps(self, model, schedule, z, t, cond):
        _, w0 = model.eps_and_weights(z, t, cond, schedule)
        w = combine_weights(w0, self.inner.channel_index, self.inner.channel_mix)
        jax.debug.callback(_record, w < self.inner.clip_min, w > self.inner.clip_max)
        return self.inner.eps(model, schedule, z, t, cond)


def clip_shares(
    model: JointModel,
    schedule: AbstractSchedule,
    guidance: AbstractGuidance,
    *,
    key: PRNGKey,
    num: int | None = None,
    cond=None,
    sampler: AbstractSampler | None = None,
) -> ClipShares:
    """Run [`sample`][selfguide.sample] with `guidance` and count how often its clip binds.

    The arguments are `sample`'s; the draws are those `sample` makes with the same key.
    The count runs on the host at every evaluation, so this is a diagnostic, slower than
    `sample` itself.

    **Returns:** [`ClipShares`][selfguide.ClipShares] `(below, above, evaluations)`.
    """
    if not isinstance(guidance, SelfWeightedGuidance):
        raise TypeError(
            "clip_shares: guidance must be a SelfWeightedGuidance (the clip is its own), got "
            f"{type(guidance).__name__}."
        )
    counts = {"below": 0, "above": 0, "evaluations": 0}
    _COUNTS.append(counts)
    try:
        sample(model, schedule, num=num, cond=cond, guidance=_Counting(guidance),
               sampler=sampler, key=key)
        jax.effects_barrier()
    finally:
        _COUNTS.pop()
    n = counts["evaluations"]
    return ClipShares(counts["below"] / max(n, 1), counts["above"] / max(n, 1), n)

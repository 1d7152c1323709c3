"""`sample`: draw from `w(x)^ρ q(x)` (or `q`) with a trained joint model."""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._custom_types import PRNGKey
from ._guidance import AbstractGuidance, NoGuidance
from ._joint import JointModel, as_joint_model
from ._nn._denoiser import AbstractDenoiser, TimeSplitDenoiser
from ._nn._time_table import TabulatedTime
from ._sampler._base import AbstractSampler
from ._sampler._ddpm import DDPMSampler
from ._schedule import AbstractSchedule
from ._speed._platform import platform_of


class Samples(NamedTuple):
    """Sampled data `x` and weight channels `w` (in the user's weight units, `≥ 0`)."""

    x: Float[Array, "... d"]
    w: Float[Array, "... K"]


class SampleRequest(NamedTuple):
    """A checked `sample` call, less its key: what the compiled program runs. `per_row`
    samples per condition; `squeeze` drops that axis (one sample per condition of a batch);
    `platform` is where the program runs (the network's `sampling_form` is chosen for it)."""

    model: JointModel
    schedule: AbstractSchedule
    guidance: AbstractGuidance
    sampler: AbstractSampler
    cond: Float[Array, "B c"] | Float[Array, " c"] | None
    per_row: int
    squeeze: bool
    platform: str


def _sample_rows(request: SampleRequest, key: PRNGKey) -> Samples:
    """Everything after validation: keys, reverse process, selection, and the split into
    data and weights in user units. Traced inside one compiled program."""
    model, schedule, guidance, sampler, cond, per_row, squeeze, platform = request
    total, n_cand = model.total_dim, guidance.num_candidates
    batched = cond is not None and cond.ndim == 2
    rows = cond.shape[0] if batched else 1
    keys = jr.split(key, (rows, per_row))
    if isinstance(model.network, AbstractDenoiser):
        network = model.network.sampling_form(rows * per_row * n_cand, platform)
        model = eqx.tree_at(lambda m: m.network, model, network)

    # The sampler's steps see the network with its time path computed for all their times
    # at once (one T-row product instead of T matrix-vector products per layer).
    step_model = model
    grid = sampler.visited_times(schedule)
    if grid is not None and isinstance(model.network, TimeSplitDenoiser):
        step_model = eqx.tree_at(lambda m: m.network, model, TabulatedTime(model.network, grid))

    def one(cond_row, key):
        init_key, run_key, select_key = jr.split(key, 3)
        inits = jr.normal(init_key, (n_cand, total))

        def eps_fn(z, t):
            return guidance.eps(step_model, schedule, z, t, cond_row)

        run = lambda z, k: sampler(eps_fn, schedule, z, key=k, data_dim=model.data_dim)
        candidates = jax.vmap(run)(inits, jr.split(run_key, n_cand))
        return guidance.select(model, candidates, cond_row, key=select_key)

    run_row = jax.vmap(one, in_axes=(None, 0))
    if batched:
        z = jax.vmap(run_row)(cond, keys)
        z = z[:, 0] if squeeze else z
    else:
        z = run_row(cond, keys[0])
    d = model.data_dim
    # Weights are positive by definition: the sampled channel is projected onto w >= 0.
    return Samples(z[..., :d], model.units.to_user(jnp.maximum(z[..., d:], 0.0)))


_sample_program = eqx.filter_jit(_sample_rows)


def sample(
    model: JointModel | eqx.Module,
    schedule: AbstractSchedule,
    *,
    num: int | None = None,
    cond: ArrayLike | list | None = None,
    guidance: AbstractGuidance | None = None,
    sampler: AbstractSampler | None = None,
    key: PRNGKey,
) -> Samples:
    """Sample data and weights from a joint model, optionally guided.

    The whole reverse process (all steps, all candidates, all conditions) runs in one
    jitted call; changing array-valued settings (guidance scale, temperature) does not
    recompile.

    **Arguments:**

    - `model`: a [`JointModel`][selfguide.JointModel] (from [`fit`][selfguide.fit]).
    - `schedule`: the schedule the model was trained with.
    - `num`: samples to draw. With a single condition (or none) the result has shape
        `(num, ·)`; with a batch of conditions `(B, c)`, `num=None` gives one sample per
        condition `(B, ·)` and an integer gives `(B, num, ·)`.
    - `cond`: conditioning vector `(c,)` or batch `(B, c)`, if the model takes one.
    - `guidance`: [`NoGuidance`][selfguide.NoGuidance] (default),
        [`SelfWeightedGuidance`][selfguide.SelfWeightedGuidance] or
        [`Resampling`][selfguide.Resampling].
    - `sampler`: [`DDPMSampler`][selfguide.DDPMSampler] (default),
        [`DDIMSampler`][selfguide.DDIMSampler] or [`ODESampler`][selfguide.ODESampler].
    - `key`: PRNG key; the same key gives the same samples.

    **Returns:** [`Samples`][selfguide.Samples] `(x, w)`, `w` in the user's weight units
    (the sampled weight channel, projected onto `w ≥ 0`: weights are never negative).
    """
    return _sample_program(_prepare(model, schedule, num, cond, guidance, sampler, "sample"), key)


def _prepare(model, schedule, num, cond, guidance, sampler, caller: str) -> SampleRequest:
    """Validate `sample`'s arguments, before any tracing."""
    model = as_joint_model(model, caller)
    guidance = NoGuidance() if guidance is None else guidance
    sampler = DDPMSampler() if sampler is None else sampler
    if not isinstance(schedule, AbstractSchedule):
        raise TypeError(
            f"{caller}: `schedule` must be a schedule (e.g. VPSchedule), "
            f"got {type(schedule).__name__}."
        )
    guidance.validate(model)
    sampler.validate(schedule)
    cond_arr = _check_cond(model, cond)
    batched = cond_arr is not None and cond_arr.ndim == 2
    if num is not None and (isinstance(num, bool) or not isinstance(num, (int, np.integer))):
        raise TypeError(f"{caller}: `num` must be an int, got {num!r}.")
    if num is None and not batched:
        raise ValueError(
            f"{caller}: say how many samples to draw with num=..., or pass a batch of "
            "conditions cond of shape (B, c) to draw one per condition."
        )
    if num is not None and num < 1:
        raise ValueError(f"{caller}: num must be >= 1, got {num}.")
    per_row = 1 if num is None else int(num)
    return SampleRequest(
        model, schedule, guidance, sampler, cond_arr, per_row, num is None, platform_of(model)
    )


def as_float32(value) -> Array:
    """`value` as a float32 JAX array, without a copy when it already is one (this sits on
    the per-call path of sampling)."""
    if isinstance(value, jax.Array) and value.dtype == jnp.float32:
        return value
    return jnp.asarray(value, dtype=jnp.float32)


def _check_cond(model: JointModel, cond) -> Array | None:
    if model.cond_dim == 0:
        if cond is not None:
            raise ValueError(
                "sample: the model takes no conditioning (cond_dim=0) but `cond` was given."
            )
        return None
    if cond is None:
        raise ValueError(
            f"sample: the model needs a conditioning vector of size {model.cond_dim}; pass "
            f"cond=... of shape ({model.cond_dim},) or (B, {model.cond_dim})."
        )
    arr = as_float32(cond)
    if arr.ndim not in (1, 2) or arr.shape[-1] != model.cond_dim:
        raise ValueError(
            f"sample: `cond` must have shape ({model.cond_dim},) or (B, {model.cond_dim}), "
            f"got {arr.shape}."
        )
    return arr

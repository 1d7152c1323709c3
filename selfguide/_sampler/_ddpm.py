"""DDPM ancestral sampling (Ho et al., 2020) between any two adjacent noise levels."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float

from .._checks import float_array
from .._schedule import _check_steps
from ._base import ClipBounds, ClippingSampler, Range, _check_range
from ._variance import AbstractVariance, LargeVariance, as_variance


class DDPMSampler(ClippingSampler):
    """Ancestral sampling with the guided ε, as in IDQL and SWG.

    From level `t` to `s < t` (`α_{t|s} = ᾱ_t/ᾱ_s`, `β_{t|s} = 1 − α_{t|s}`):
    `z_s = (z_t − β_{t|s}/√(1 − ᾱ_t) ε̃)/√α_{t|s} + temperature · σ_{t|s} ξ`, with no noise
    on the last step. `σ²_{t|s}` is `β_{t|s}` ([`LargeVariance`][selfguide.LargeVariance],
    "fixed-large", the reference) or the posterior variance `β_{t|s}(1 − ᾱ_s)/(1 − ᾱ_t)`
    ([`PosteriorVariance`][selfguide.PosteriorVariance]).

    **Arguments:**

    - `num_steps`: steps to take; default the schedule's own `T` (required for continuous
        schedules). Fewer steps than `T` stride the grid.
    - `variance`: [`LargeVariance()`][selfguide.LargeVariance] (the default) or
        [`PosteriorVariance()`][selfguide.PosteriorVariance]; their names `"large"` and
        `"posterior"` are accepted too.
    - `temperature`: scales the added noise; `0` gives a deterministic map from the initial
        noise (the reference at evaluation). An array: no recompile on change.
    - `clip_data`, `clip_weight`: `(low, high)` to clip those channels of the iterate after
        every step (the RL reference: actions `(-1, 1)`, weights `(1e-4, 1)`), or `None`.
        Clipping the weight channel is not exact (the network then sees weight iterates it
        was not trained on): it helps a weakly trained model and costs a well-trained one
        accuracy (see the toys' benchmark).
    """

    num_steps: int | None = eqx.field(static=True)
    variance: AbstractVariance
    temperature: Float[Array, ""]
    clip_data: ClipBounds
    clip_weight: ClipBounds

    def __init__(
        self,
        num_steps: int | None = None,
        variance: AbstractVariance | str | None = None,
        temperature: float | Float[ArrayLike, ""] = 1.0,
        clip_data: Range = None,
        clip_weight: Range = None,
    ):
        _check_steps("DDPMSampler", num_steps, allow_none=True)
        self.num_steps = num_steps
        variance = LargeVariance() if variance is None else variance
        self.variance = as_variance("DDPMSampler", variance)
        self.temperature = float_array(
            "DDPMSampler: temperature", temperature, nonnegative=True
        )
        self.clip_data = _check_range("DDPMSampler", "clip_data", clip_data)
        self.clip_weight = _check_range("DDPMSampler", "clip_weight", clip_weight)

    def step(self, eps_fn, schedule, z, t, s, *, key):
        log_t, log_s = schedule.log_alpha_bar(t), schedule.log_alpha_bar(s)
        alpha_ts = jnp.exp(log_t - log_s)
        beta_ts = -jnp.expm1(log_t - log_s)
        one_minus_t = -jnp.expm1(log_t)
        eps = eps_fn(z, t)
        mean = (z - beta_ts / jnp.sqrt(one_minus_t) * eps) / jnp.sqrt(alpha_ts)
        var = self.variance.step_variance(beta_ts, log_t, log_s)
        scale = jnp.where(s > 0, jnp.sqrt(var) * self.temperature, 0.0)
        return mean + scale * jr.normal(key, z.shape)

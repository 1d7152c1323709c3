"""DDIM sampling (Song, Meng & Ermon, 2021)."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float

from .._schedule import _check_steps
from ._base import ClipBounds, ClippingSampler, Range, _check_range


class DDIMSampler(ClippingSampler):
    """DDIM with the guided ε: `η = 0` is the deterministic probability-flow discretisation,
    `η = 1` matches DDPM's posterior variance.

    `z_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̃ + σ ξ`, `x̂_0 = (z_t − √(1 − ᾱ_t) ε̃)/√ᾱ_t`,
    `σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s)`.

    **Arguments:**

    - `num_steps`: steps (default: the schedule's `T`).
    - `eta`: `η ∈ [0, 1]` (an array: no recompile on change).
    - `clip_data`, `clip_weight`: per-step clipping of the iterate, as for DDPM.
    """

    num_steps: int | None = eqx.field(static=True)
    eta: Float[Array, ""]
    clip_data: ClipBounds
    clip_weight: ClipBounds

    def __init__(
        self,
        num_steps: int | None = None,
        eta: float | Float[ArrayLike, ""] = 0.0,
        clip_data: Range = None,
        clip_weight: Range = None,
    ):
        _check_steps("DDIMSampler", num_steps, allow_none=True)
        self.num_steps = num_steps
        self.eta = jnp.asarray(eta, dtype=jnp.float32)
        self.clip_data = _check_range("DDIMSampler", "clip_data", clip_data)
        self.clip_weight = _check_range("DDIMSampler", "clip_weight", clip_weight)

    def step(self, eps_fn, schedule, z, t, s, *, key):
        log_t, log_s = schedule.log_alpha_bar(t), schedule.log_alpha_bar(s)
        one_minus_t, one_minus_s = -jnp.expm1(log_t), -jnp.expm1(log_s)
        eps = eps_fn(z, t)
        x0_scaled = jnp.exp(0.5 * (log_s - log_t)) * (z - jnp.sqrt(one_minus_t) * eps)
        sigma = self.eta * jnp.sqrt(one_minus_s / one_minus_t * -jnp.expm1(log_t - log_s))
        direction = jnp.sqrt(jnp.maximum(one_minus_s - sigma**2, 0.0)) * eps
        return x0_scaled + direction + sigma * jr.normal(key, z.shape)

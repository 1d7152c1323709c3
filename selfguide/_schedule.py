"""Noise schedules: how much signal `α_t` and noise `σ_t` the forward process keeps.

Every schedule is a smooth function of a time `τ ∈ [0, 1]` (`τ = 0` clean data), given as
`log ᾱ(τ)` with `α = √ᾱ` and `σ = √(1 − ᾱ)`. A schedule with `num_steps = T` is *discrete*:
training draws `τ ∈ {1/T, …, 1}` and samplers walk that grid, exactly as IDQL and DDPM do.
A schedule with `num_steps = None` is *continuous*: training draws `τ` uniformly, which is what
a probability-flow ODE solver queries.
"""

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Int

from ._custom_types import PRNGKey


class AbstractSchedule(eqx.Module):
    """A variance-preserving noise schedule on `τ ∈ [0, 1]`.

    Subclasses define [`log_alpha_bar`][selfguide.AbstractSchedule.log_alpha_bar] and the
    field `num_steps`; everything else derives from them.
    """

    num_steps: eqx.AbstractVar[int | None]
    min_time: eqx.AbstractVar[float]
    time_power: eqx.AbstractVar[float]

    @abc.abstractmethod
    def log_alpha_bar(self, t: Float[Array, ""] | float) -> Float[Array, ""]:
        """`log ᾱ(τ)`: smooth, decreasing, `0` at `τ = 0`."""

    def alpha_sigma(self, t: Float[Array, ""] | float) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """Signal and noise scales `(α_τ, σ_τ)` with `α² + σ² = 1`."""
        log_ab = jnp.minimum(self.log_alpha_bar(t), 0.0)
        alpha = jnp.exp(0.5 * log_ab)
        sigma = jnp.sqrt(-jnp.expm1(log_ab))
        return alpha, sigma

    def drift_diffusion(
        self, t: Float[Array, ""] | float
    ) -> tuple[Float[Array, ""], Float[Array, ""]]:
        """`(f(τ), g(τ)²)` of the forward SDE `dz = f z dτ + g dW`; `g² = −d log ᾱ/dτ`."""
        dlog = jax.grad(lambda s: self.log_alpha_bar(s))(jnp.asarray(t, dtype=float))
        return 0.5 * dlog, -dlog

    def training_times(self, key: PRNGKey, shape: tuple[int, ...]) -> Float[Array, "..."]:
        """Draw the times a training batch is noised at.

        Discrete schedules draw `k/T` with `k` uniform in `{1, …, T}`; continuous ones draw
        `τ = min_time + (1 − min_time) u^p` with `u` uniform in `[0, 1]` and `p` the
        schedule's `time_power` (`p = 1`, the default: `τ` uniform in `[min_time, 1]`;
        `p > 1` draws more low-noise times, a density `∝ (τ − min_time)^{1/p − 1}`).
        """
        if self.num_steps is None:
            if self.time_power == 1.0:
                return jr.uniform(key, shape, minval=self.min_time, maxval=1.0)
            u = jr.uniform(key, shape)
            return self.min_time + (1.0 - self.min_time) * u**self.time_power
        return self.training_steps(key, shape) / self.num_steps

    def training_steps(self, key: PRNGKey, shape: tuple[int, ...]) -> Int[Array, "..."]:
        """Draw the steps `k`, uniform in `{1, …, T}`, of a discrete schedule's training times
        `k/T` (the same draw as `training_times` with the same key)."""
        if self.num_steps is None:
            raise ValueError(
                "training_steps: this schedule is continuous (num_steps=None) and has no steps; "
                "use training_times, or give the schedule num_steps=T."
            )
        return jr.randint(key, shape, 1, self.num_steps + 1)

    def sampling_times(self, num_steps: int | None = None) -> Float[Array, " n"]:
        """Decreasing time grid `[τ_n, …, τ_0]` for a sampler with `num_steps` steps.

        Defaults to the schedule's own grid `[1, (T−1)/T, …, 0]`. A continuous schedule needs
        `num_steps`; its grid is uniform from 1 down to 0.
        """
        n = self.resolve_steps(num_steps)
        return jnp.linspace(1.0, 0.0, n + 1)

    def resolve_steps(self, num_steps: int | None = None) -> int:
        """The number of sampling steps: `num_steps`, or the schedule's own `T`."""
        n = self.num_steps if num_steps is None else num_steps
        if n is None:
            raise ValueError(
                f"{type(self).__name__}.sampling_times: this schedule is continuous "
                "(num_steps=None), so the sampler must say how many steps to take. "
                "Pass num_steps=... to the sampler, e.g. DDPMSampler(num_steps=50)."
            )
        if n < 1:
            raise ValueError(f"sampling_times: num_steps must be >= 1, got {n}.")
        return n

    def betas(self) -> Float[Array, " T"]:
        """DDPM `β_k = 1 − ᾱ_k / ᾱ_{k−1}` on the discrete grid, `k = 1..T`."""
        if self.num_steps is None:
            raise ValueError(
                f"{type(self).__name__}.betas: β_t is defined for discrete schedules only; "
                "give the schedule num_steps=T."
            )
        grid = jnp.arange(self.num_steps + 1) / self.num_steps
        log_ab = jax.vmap(self.log_alpha_bar)(grid)
        return -jnp.expm1(log_ab[1:] - log_ab[:-1])


def check_time_power(name: str, num_steps: int | None, time_power: float) -> None:
    """`time_power` of a schedule with `num_steps` (`None`: continuous) is `> 0`, and `1`
    unless the schedule is continuous; the error names `name`."""
    if not time_power > 0:
        raise ValueError(f"{name}: time_power must be > 0, got {time_power}.")
    if num_steps is not None and time_power != 1.0:
        raise ValueError(
            f"{name}: time_power={time_power} shapes the training times of continuous time "
            f"only, and this schedule is discrete (num_steps={num_steps}): pass "
            "num_steps=None, or leave time_power at 1."
        )


def _check_steps(name: str, num_steps: int | None, allow_none: bool) -> None:
    if num_steps is None:
        if allow_none:
            return
        raise ValueError(f"{name}: num_steps must be a positive integer, got None.")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"{name}: num_steps must be an int, got {type(num_steps).__name__}.")
    if num_steps < 1:
        raise ValueError(
            f"{name}: num_steps must be >= 1, got {num_steps}. "
            "Use e.g. num_steps=15 (the SWG reference) or num_steps=None for continuous time."
        )


class VPSchedule(AbstractSchedule):
    """The variance-preserving schedule of IDQL and SWG, with a linear `β(τ)`.

    `log ᾱ(τ) = −(β_min τ + ½ (β_max − β_min) τ²)`. On the grid `τ = k/T` this is exactly the
    reference `α_k = exp(−β_min/T − ½ (β_max − β_min)(2k − 1)/T²)`, `ᾱ_k = ∏ α`, so the same
    class is the discrete DDPM schedule (`num_steps=T`) and, with `num_steps=None`, the
    continuous-time VP SDE of Song et al. used by ODE solvers.

    **Arguments:**

    - `num_steps`: `T`, or `None` for continuous time.
    - `beta_min`, `beta_max`: the ends of `β(τ)`; the reference uses 0.1 and 10.
    - `min_time`: smallest training time in continuous mode.
    - `time_power`: `p` of the continuous training times `min_time + (1 − min_time) u^p`
        (see [`training_times`][selfguide.AbstractSchedule.training_times]); 1: uniform.
    """

    num_steps: int | None = eqx.field(static=True, default=15)
    beta_min: float = eqx.field(static=True, default=0.1)
    beta_max: float = eqx.field(static=True, default=10.0)
    min_time: float = eqx.field(static=True, default=1e-3)
    time_power: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        _check_steps("VPSchedule", self.num_steps, allow_none=True)
        check_time_power("VPSchedule", self.num_steps, self.time_power)
        if not 0 <= self.beta_min < self.beta_max:
            raise ValueError(
                f"VPSchedule: need 0 <= beta_min < beta_max, got {self.beta_min}, {self.beta_max}."
            )

    def log_alpha_bar(self, t: Float[Array, ""] | float) -> Float[Array, ""]:
        t = jnp.asarray(t, dtype=float)
        return -(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2)


class CosineSchedule(AbstractSchedule):
    """The cosine schedule of Nichol & Dhariwal (2021).

    `ᾱ(τ) = f(τ)/f(0)`, `f(τ) = cos²(π/2 · (τ + s)/(1 + s))`. Their discrete version clips
    `β_k ≤ 0.999` so that `ᾱ` never reaches zero; here `ᾱ` is instead floored at
    `min_alpha_bar` (`ᾱ = m + (1 − m) f(τ)/f(0)`), which serves the same end and keeps
    `log ᾱ` smooth for ODE solvers.

    **Arguments:**

    - `num_steps`: `T` (the SWG toys use 100), or `None` for continuous time.
    - `offset`: `s`, default 0.008.
    - `min_alpha_bar`: floor on `ᾱ` (default `1e-5`).
    - `min_time`, `time_power`: the continuous training times, as for
        [`VPSchedule`][selfguide.VPSchedule].
    """

    num_steps: int | None = eqx.field(static=True, default=100)
    offset: float = eqx.field(static=True, default=0.008)
    min_alpha_bar: float = eqx.field(static=True, default=1e-5)
    min_time: float = eqx.field(static=True, default=1e-3)
    time_power: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        _check_steps("CosineSchedule", self.num_steps, allow_none=True)
        check_time_power("CosineSchedule", self.num_steps, self.time_power)
        if not 0 < self.min_alpha_bar < 1:
            raise ValueError(
                f"CosineSchedule: min_alpha_bar must lie in (0, 1), got {self.min_alpha_bar}."
            )

    def log_alpha_bar(self, t: Float[Array, ""] | float) -> Float[Array, ""]:
        t = jnp.asarray(t, dtype=float)
        s = self.offset
        phase = lambda u: 0.5 * math.pi * (u + s) / (1 + s)
        ratio = (jnp.cos(phase(t)) / math.cos(phase(0.0))) ** 2
        m = self.min_alpha_bar
        return jnp.log(m + (1 - m) * ratio)


class LinearVPSchedule(VPSchedule):
    """The continuous-time VP SDE with linear `β(τ)`: `VPSchedule(num_steps=None)`.

    Train with it when sampling with an ODE solver
    ([`ODESampler`][selfguide.ODESampler]): the network then sees every `τ ∈ [min_time, 1]`.
    """

    num_steps: int | None = eqx.field(static=True, default=None)

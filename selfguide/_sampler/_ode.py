"""The probability-flow ODE, solved by any diffrax solver."""

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp

from .._schedule import _check_steps
from ._base import AbstractSampler


class ODESampler(AbstractSampler):
    """Integrate the probability-flow ODE with the guided ε, from `τ = 1` to `t_end`.

    In the schedule's time, `dz/dτ = ½ (d log ᾱ/dτ) (z − ε̃(z, τ)/σ_τ)`, which is
    `f z − ½ g² ∇log p_τ` with the guided score `−ε̃/σ`. At `t_end` a final Tweedie step
    `z_0 = (z − σ ε̃)/α` removes the remaining noise (`denoise_final=True`).

    Use a continuous schedule for training ([`LinearVPSchedule`][selfguide.LinearVPSchedule],
    or any schedule with `num_steps=None`) so the network has seen every `τ` the solver asks.

    **Arguments:**

    - `solver`: any diffrax ODE solver (default `diffrax.Tsit5()`; e.g. `diffrax.Heun()`).
    - `stepsize_controller`: default `diffrax.PIDController(rtol=1e-3, atol=1e-3)`; use
        `diffrax.ConstantStepSize()` for fixed steps.
    - `num_steps`: sets the initial (or, for constant step size, every) step
        `dt0 = (1 − t_end)/num_steps`.
    - `t_end`: where integration stops (default: the schedule's `min_time`).
    - `max_steps`: cap on solver steps.
    - `denoise_final`: finish with the Tweedie step.
    """

    solver: dfx.AbstractSolver
    stepsize_controller: dfx.AbstractStepSizeController
    num_steps: int = eqx.field(static=True)
    t_end: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    denoise_final: bool = eqx.field(static=True)

    def __init__(
        self,
        solver: dfx.AbstractSolver | None = None,
        stepsize_controller: dfx.AbstractStepSizeController | None = None,
        num_steps: int = 20,
        t_end: float | None = None,
        max_steps: int = 4096,
        denoise_final: bool = True,
    ):
        _check_steps("ODESampler", num_steps, allow_none=False)
        if t_end is not None and not 0 < t_end < 1:
            raise ValueError(f"ODESampler: t_end must lie in (0, 1), got {t_end}.")
        self.solver = dfx.Tsit5() if solver is None else solver
        self.stepsize_controller = (
            dfx.PIDController(rtol=1e-3, atol=1e-3)
            if stepsize_controller is None
            else stepsize_controller
        )
        self.num_steps, self.t_end = num_steps, t_end
        self.max_steps, self.denoise_final = max_steps, denoise_final

    def __call__(self, eps_fn, schedule, z_init, *, key, data_dim):
        del key, data_dim  # deterministic
        t_end = schedule.min_time if self.t_end is None else self.t_end

        def vector_field(t, z, args):
            half_dlog, _ = schedule.drift_diffusion(t)
            _, sigma = schedule.alpha_sigma(t)
            return half_dlog * (z - eps_fn(z, t) / sigma)

        solution = dfx.diffeqsolve(
            dfx.ODETerm(vector_field),
            self.solver,
            t0=1.0,
            t1=t_end,
            dt0=-(1.0 - t_end) / self.num_steps,
            y0=z_init,
            stepsize_controller=self.stepsize_controller,
            max_steps=self.max_steps,
            saveat=dfx.SaveAt(t1=True),
        )
        z = solution.ys[-1]
        if self.denoise_final:
            t = jnp.asarray(t_end)
            alpha, sigma = schedule.alpha_sigma(t)
            z = (z - sigma * eps_fn(z, t)) / alpha
        return z

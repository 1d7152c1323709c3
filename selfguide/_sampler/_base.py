"""The sampler interface and per-step clipping of the iterate."""

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._custom_types import PRNGKey
from .._schedule import AbstractSchedule

EpsFn = Callable[[Float[Array, " D"], Float[Array, ""]], Float[Array, " D"]]
"""`eps_fn(z, t) -> ε̃`: the (guided) noise prediction for one example."""

Range = tuple[float, float] | None
ClipBounds = Float[Array, "2"] | None


def _check_range(caller: str, name: str, value: Range) -> ClipBounds:
    """Validate `(low, high)` and store it as an array, so new bounds do not recompile."""
    if value is None:
        return None
    if len(value) != 2 or not value[0] < value[1]:
        raise ValueError(
            f"{caller}: {name} must be None or (low, high) with low < high, got {value}."
        )
    return jnp.asarray(value, dtype=jnp.float32)


class AbstractSampler(eqx.Module):
    """Runs the reverse process for one example from `z_init ~ N(0, I)` to `z_0`.

    `__call__(eps_fn, schedule, z_init, key=...)`, where `eps_fn(z, t)` is the guided noise
    prediction; batch with `jax.vmap`.
    """

    @abc.abstractmethod
    def __call__(
        self,
        eps_fn: EpsFn,
        schedule: AbstractSchedule,
        z_init: Float[Array, " D"],
        *,
        key: PRNGKey,
        data_dim: int,
    ) -> Float[Array, " D"]:
        """Denoise `z_init` into a sample."""

    def validate(self, schedule: AbstractSchedule) -> None:
        """Check the sampler against the schedule before tracing."""

    def visited_times(self, schedule: AbstractSchedule) -> Float[Array, " n"] | None:
        """Every time at which the sampler calls `eps_fn`, if it is a fixed grid (then a
        network's time path can be computed for all of them before the loop); `None` for
        samplers that choose their times as they go."""
        return None


class ClippingSampler(AbstractSampler):
    """A sampler that walks the schedule's time grid, one `step` between adjacent levels,
    clipping the iterate's data and weight channels after every step."""

    num_steps: eqx.AbstractVar[int | None]
    clip_data: eqx.AbstractVar[ClipBounds]
    clip_weight: eqx.AbstractVar[ClipBounds]

    @abc.abstractmethod
    def step(
        self,
        eps_fn: EpsFn,
        schedule: AbstractSchedule,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        s: Float[Array, ""],
        *,
        key: PRNGKey,
    ) -> Float[Array, " D"]:
        """Move `z` from noise level `t` to the lower level `s` (before clipping)."""

    def validate(self, schedule: AbstractSchedule) -> None:
        schedule.resolve_steps(self.num_steps)

    def visited_times(self, schedule: AbstractSchedule) -> Float[Array, " n"]:
        return schedule.sampling_times(self.num_steps)[:-1]

    def clip(self, z: Float[Array, " D"], data_dim: int) -> Float[Array, " D"]:
        x, w = z[:data_dim], z[data_dim:]
        if self.clip_data is not None:
            x = jnp.clip(x, self.clip_data[0], self.clip_data[1])
        if self.clip_weight is not None:
            w = jnp.clip(w, self.clip_weight[0], self.clip_weight[1])
        return jnp.concatenate([x, w])

    def __call__(self, eps_fn, schedule, z_init, *, key, data_dim):
        times = schedule.sampling_times(self.num_steps)
        keys = jr.split(key, times.shape[0] - 1)

        def body(z, inputs):
            t, s, k = inputs
            return self.clip(self.step(eps_fn, schedule, z, t, s, key=k), data_dim), None

        z, _ = jax.lax.scan(body, z_init, (times[:-1], times[1:], keys))
        return z

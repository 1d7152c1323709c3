"""A network's time path run once for all the times a sampler visits, then looked up.

A sampler that walks a fixed grid visits at most `T` times, and every row of a batch sees the
same time at a step. Its network's time path (Fourier features, time MLP, the input layer's
time block) then need not run at every step: one `T`-row product before the loop computes
all of it, and each step picks its row. For one state this is the difference between `T`
matrix-vector products per layer of the time path (each reading the layer's whole weight
matrix) and one matrix product.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._custom_types import Cond, EpsPair, PRNGKey
from ._denoiser import TimeSplitDenoiser


class TabulatedTime(eqx.Module):
    """`network` with its time features computed at `times` in advance.

    `split_eps(z, t, ...)` uses the row of the grid time nearest to `t`, so it must only be
    called at the grid's times (a sampler's own grid); there it equals
    `network.split_eps(z, t, ...)` up to the rounding of a matrix product against a
    matrix-vector product."""

    network: TimeSplitDenoiser
    times: Float[Array, " n"]
    table: Array

    def __init__(self, network: TimeSplitDenoiser, times: Float[Array, " n"]):
        self.network = network
        self.times = times
        self.table = jax.vmap(network.time_features)(times)

    def split_eps(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> EpsPair:
        row = jnp.argmin(jnp.abs(self.times - t))
        return self.network.split_eps_from_features(z, self.table[row], cond, key=key)

    def __call__(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> Float[Array, " D"]:
        return jnp.concatenate(self.split_eps(z, t, cond, key=key))

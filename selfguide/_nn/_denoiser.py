"""The interface every ε-network satisfies."""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._custom_types import PRNGKey


class AbstractDenoiser(eqx.Module):
    """A noise-prediction network `ε_θ(z_t, τ, c)` for one example.

    Any `eqx.Module` with this call signature works with [`fit`][selfguide.fit] and
    [`sample`][selfguide.sample]; subclassing is optional.

    `__call__(z, t, cond=None, *, key=None) -> eps`:

    - `z`: the noisy augmented vector `[x_t, w_t]`, shape `(data_dim + weight_dim,)`.
    - `t`: the diffusion time `τ ∈ [0, 1]`, a scalar.
    - `cond`: a conditioning vector `(cond_dim,)` (a state, a class, β), or `None`.
    - `key`: given during training (dropout on); `None` when sampling (deterministic).

    Returns the predicted noise, same shape as `z`. Batch with `jax.vmap`.

    Subclasses implement `split_eps`, returning the data and weight channels separately
    (`__call__` concatenates them). Guidance differentiates `ε_w` alone, so the backward
    pass never enters layers that only produce `ε_x`.
    """

    data_dim: eqx.AbstractVar[int]
    weight_dim: eqx.AbstractVar[int]
    cond_dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def split_eps(
        self,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None = None,
        *,
        key: PRNGKey | None = None,
    ) -> tuple[Float[Array, " d"], Float[Array, " K"]]:
        """Predict the noise in `z` at time `t`, as `(ε_x, ε_w)`."""

    def __call__(
        self,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None = None,
        *,
        key: PRNGKey | None = None,
    ) -> Float[Array, " D"]:
        """Predict the noise in `z` at time `t`."""
        return jnp.concatenate(self.split_eps(z, t, cond, key=key))

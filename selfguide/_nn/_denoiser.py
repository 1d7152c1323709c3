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

    A subclass may also split off the part of the network that depends on the time alone:
    `time_features(t)` computes it and `split_eps_from_features` runs the rest. Training on a
    discrete schedule then evaluates the time path once per distinct time (`T` rows) instead
    of once per example. The defaults (`time_features(t) = t`) keep any subclass correct.
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

    def time_features(self, t: Float[Array, ""]) -> Array:
        """Whatever `split_eps_from_features` needs of the time `t` (default: `t` itself)."""
        return t

    def split_eps_from_features(
        self,
        z: Float[Array, " D"],
        features: Array,
        cond: Float[Array, " c"] | None = None,
        *,
        key: PRNGKey | None = None,
    ) -> tuple[Float[Array, " d"], Float[Array, " K"]]:
        """`split_eps(z, t, cond)` given `time_features(t)` instead of `t`."""
        return self.split_eps(z, features, cond, key=key)

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


class TimeSplitDenoiser(AbstractDenoiser):
    """A denoiser whose time path is split off: it implements `time_features` and
    `split_eps_from_features`, and `split_eps` composes them."""

    @abc.abstractmethod
    def time_features(self, t: Float[Array, ""]) -> Array:
        """The part of the network that depends on the time alone."""

    @abc.abstractmethod
    def split_eps_from_features(
        self,
        z: Float[Array, " D"],
        features: Array,
        cond: Float[Array, " c"] | None = None,
        *,
        key: PRNGKey | None = None,
    ) -> tuple[Float[Array, " d"], Float[Array, " K"]]:
        """`split_eps(z, t, cond)` given `time_features(t)` instead of `t`."""

    def split_eps(
        self,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None = None,
        *,
        key: PRNGKey | None = None,
    ) -> tuple[Float[Array, " d"], Float[Array, " K"]]:
        """`(ε_x, ε_w)`: the data and weight channels' noise, each from its own head."""
        return self.split_eps_from_features(z, self.time_features(t), cond, key=key)

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

    A network that splits off the part depending on the time alone subclasses
    [`TimeSplitDenoiser`][selfguide.TimeSplitDenoiser] instead; training on a discrete
    schedule then runs that part once per distinct time rather than once per example.

    A network whose layers are all applied to one example (no layer called outside the
    batch `vmap`) may set the class attribute `layers_per_example = True`: on CPU the
    training loss then gives its `eqx.nn.Linear` and `eqx.nn.LayerNorm` layers faster
    backward passes (same outputs; see the performance guide). The built-in networks do.

    A network may also list in the class attribute `row_layers` the names of the fields
    holding the `eqx.nn.Linear` layers it applies to every row (not those of the time path,
    which runs once per step): on CPU, `sample` runs them as `x Wᵀ + b` for 128 rows or more,
    which is faster there (same outputs up to rounding). The built-in networks do.
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


class TimeSplitDenoiser(AbstractDenoiser):
    """A denoiser whose time path is split off: it implements `time_features(t)` (everything
    that depends on the time alone) and `split_eps_from_features` (the rest), and `split_eps`
    composes them. A batch on a `T`-step schedule has at most `T` distinct times, so training
    runs `time_features` on those `T` rows and gathers, instead of once per example. The
    built-in networks are `TimeSplitDenoiser`s."""

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

"""The interface every ε-network satisfies."""

import abc
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._custom_types import Cond, EpsPair, PRNGKey


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

    Three methods let a network offer faster forms of itself (same outputs up to
    floating-point reordering; see the performance guide); each defaults to "none", and a
    wrapper around a network forwards them (as [`LowPrecision`][selfguide.LowPrecision]
    does):

    - `training_form(platform)`: the network the training loss differentiates on that
        platform (`"cpu"`, `"gpu"`, ...); the built-in networks swap in dense and LayerNorm
        layers with faster backward passes on CPU.
    - `sampling_form(rows, platform)`: the network the samplers run on `rows` rows; the
        built-in networks write their row layers as `x Wᵀ + b` on CPU from 128 rows.
    - `time_split()`: a [`TimeSplit`][selfguide.TimeSplit] when the network's time path can
        run once per distinct time (see `TimeSplitDenoiser`), else `None`.
    """

    data_dim: eqx.AbstractVar[int]
    weight_dim: eqx.AbstractVar[int]
    cond_dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def split_eps(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> EpsPair:
        """Predict the noise in `z` at time `t`, as `(ε_x, ε_w)`."""

    def __call__(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> Float[Array, " D"]:
        """Predict the noise in `z` at time `t`."""
        return jnp.concatenate(self.split_eps(z, t, cond, key=key))

    def training_form(self, platform: str) -> "AbstractDenoiser":
        """The network the training loss differentiates on `platform` (default: itself)."""
        del platform
        return self

    def sampling_form(self, rows: int, platform: str) -> "AbstractDenoiser":
        """The network the samplers run on `rows` rows on `platform` (default: itself)."""
        del rows, platform
        return self

    def time_split(self) -> "TimeSplit | None":
        """The network's time path split off, or `None` (the default)."""
        return None


class TimeSplit(NamedTuple):
    """A network's time path split off: `features(t)` depends on the time alone, and
    `split_eps(z, features, cond, key=...)` computes `(ε_x, ε_w)` from it. A batch on a
    `T`-step schedule has at most `T` distinct times, so the loss runs `features` once per
    time instead of once per example."""

    features: Callable[[Float[Array, ""]], Array]
    split_eps: Callable[..., EpsPair]


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
        self, z: Float[Array, " D"], features: Array, cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> EpsPair:
        """`split_eps(z, t, cond)` given `time_features(t)` instead of `t`."""

    def split_eps(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> EpsPair:
        """`(ε_x, ε_w)`: the data and weight channels' noise, each from its own head."""
        return self.split_eps_from_features(z, self.time_features(t), cond, key=key)

    def time_split(self) -> TimeSplit:
        return TimeSplit(self.time_features, self.split_eps_from_features)

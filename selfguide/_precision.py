"""Mixed precision: compute in a low-precision dtype, keep float32 master weights."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._custom_types import Cond, PRNGKey
from ._nn._denoiser import AbstractDenoiser, TimeSplit


def _cast(tree, dtype):
    return jax.tree.map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, tree)


def _float32(pair):
    return tuple(x.astype(jnp.float32) for x in pair)


class LowPrecision(AbstractDenoiser):
    """Runs `network` with parameters and inputs cast to `dtype`; returns float32.

    Used inside the training step on the float32 master parameters, so gradients flow back
    through the cast and the optimiser updates float32 weights. It forwards the wrapped
    network's faster forms (`training_form`, `sampling_form`, `time_split`), so training in
    bfloat16 keeps, e.g., the shared time path.
    """

    network: eqx.Module
    dtype: jnp.dtype = eqx.field(static=True)
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    def __init__(self, network: eqx.Module, dtype):
        self.network, self.dtype = network, jnp.dtype(dtype)
        self.data_dim = getattr(network, "data_dim", 0)
        self.weight_dim = getattr(network, "weight_dim", 0)
        self.cond_dim = getattr(network, "cond_dim", 0)

    def _cast_inputs(self, z, cond):
        return z.astype(self.dtype), None if cond is None else cond.astype(self.dtype)

    def split_eps(self, z, t, cond=None, *, key=None):
        z, cond = self._cast_inputs(z, cond)
        net = _cast(self.network, self.dtype)
        if isinstance(net, AbstractDenoiser):
            return _float32(net.split_eps(z, t.astype(self.dtype), cond, key=key))
        out = net(z, t.astype(self.dtype), cond, key=key).astype(jnp.float32)
        return out[: self.data_dim], out[self.data_dim :]

    def __call__(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> Float[Array, " D"]:
        z, cond = self._cast_inputs(z, cond)
        net = _cast(self.network, self.dtype)
        return net(z, t.astype(self.dtype), cond, key=key).astype(jnp.float32)

    def training_form(self, platform: str) -> "LowPrecision":
        if not isinstance(self.network, AbstractDenoiser):
            return self
        return LowPrecision(self.network.training_form(platform), self.dtype)

    def sampling_form(self, rows: int, platform: str) -> "LowPrecision":
        if not isinstance(self.network, AbstractDenoiser):
            return self
        return LowPrecision(self.network.sampling_form(rows, platform), self.dtype)

    def time_split(self) -> TimeSplit | None:
        if not isinstance(self.network, AbstractDenoiser):
            return None
        split = _cast(self.network, self.dtype).time_split()  # cast once, for both halves
        if split is None:
            return None

        def features(t):
            return split.features(t.astype(self.dtype))

        def split_eps(z, features, cond=None, *, key=None):
            z, cond = self._cast_inputs(z, cond)
            return _float32(split.split_eps(z, features, cond, key=key))

        return TimeSplit(features, split_eps)

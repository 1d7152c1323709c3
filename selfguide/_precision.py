"""Mixed precision: compute in a low-precision dtype, keep float32 master weights."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._custom_types import PRNGKey


def _cast(tree, dtype):
    return jax.tree.map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, tree)


class LowPrecision(eqx.Module):
    """Runs `network` with parameters and inputs cast to `dtype`; returns float32.

    Used inside the training step on the float32 master parameters, so gradients flow back
    through the cast and the optimiser updates float32 weights.
    """

    network: eqx.Module
    dtype: jnp.dtype = eqx.field(static=True)

    def __call__(
        self,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None = None,
        *,
        key: PRNGKey | None = None,
    ) -> Float[Array, " D"]:
        net = _cast(self.network, self.dtype)
        cond = None if cond is None else cond.astype(self.dtype)
        return net(z.astype(self.dtype), t.astype(self.dtype), cond, key=key).astype(jnp.float32)

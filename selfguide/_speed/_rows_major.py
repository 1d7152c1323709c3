"""Dense layers written rows-major, `x Wᵀ + b`, for many rows on CPU.

`eqx.nn.Linear` computes `W x + b` for one example. Under a `vmap` over many rows, XLA on
CPU then writes each product's result features-major (`[features, rows]`), while the
normalisation, the activations and the gradients' own products work rows-major, and the two
layouts meet in transposing kernels. Written `x Wᵀ + b`, the same product comes out
rows-major. For a few rows `W x` is faster: at 32 rows guided sampling is 12% slower
rows-major, at one row several times slower. Measured gain, guided sampling with the
reference ResNet (T = 15): 256 rows 102.0 → 96.6 ms, 1024 rows 425 → 371 ms; training at
batch 256 18.05 → 17.18 ms per step (`docs/performance.md`).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

# Measured on the reference ResNet: 32 rows slower, 64 even, 128 and more faster.
MIN_ROWS = 128


def rows_major_affine(
    weight: Float[Array, "out in"], bias: Float[Array, " out"] | None, x: Float[Array, "... in"]
) -> Float[Array, "... out"]:
    """`x Wᵀ + b`, for one row or a batch of rows."""
    y = x @ weight.T
    return y if bias is None else y + jnp.broadcast_to(bias, y.shape)


class RowsMajorLinear(eqx.Module):
    """`eqx.nn.Linear`'s map for one example, written `x Wᵀ + b`: same arrays, same
    arithmetic, and under a `vmap` over many rows a rows-major product."""

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"] | None

    def __call__(self, x: Float[Array, " in"], *, key=None) -> Float[Array, " out"]:
        del key
        return rows_major_affine(self.weight, self.bias, x)


def _is_linear(module) -> bool:
    return type(module) is eqx.nn.Linear


def _swap(module):
    if _is_linear(module):
        return RowsMajorLinear(module.weight, module.bias)
    return module


def rows_major_layers(module):
    """`module` with every `eqx.nn.Linear` in it as a `RowsMajorLinear` (same arrays). The
    built-in networks apply it to their row layers (not the time path) in `sampling_form`,
    on CPU from `MIN_ROWS` rows."""
    return jax.tree.map(_swap, module, is_leaf=_is_linear)

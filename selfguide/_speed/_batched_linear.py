"""Dense layers whose weight gradient over a batch is computed as an ordinary matrix product.

In a training step each `eqx.nn.Linear` is applied to one example under `vmap`, and its
weight gradient `Gᵀ X` contracts the batch dimension. XLA on CPU computes that contraction
from transposed operands, up to 1.45× slower than an ordinary product of the same size
(`docs/performance.md`). `BatchedGradLinear` gives such a layer a batch-level backward
pass that first materialises the transpose, then multiplies. Below `MIN_BATCH` rows, and
for the final ε layer, it runs rows-major from `MIN_ROWS` rows (`_rows_major.py`) with
autodiff's backward pass, and as `W x` per example below that.
Outputs and gradients are the same up to summation order.

Measured gain (2-core CPU, reference ResNet): −2.4 to −3.2 ms of a 60 ms training step at
batch 1024 (+7 to +11% steps/s with the LayerNorm below); none at batch 256, hence
`MIN_BATCH`.
"""

import equinox as eqx
import jax
from jax.custom_batching import custom_vmap
from jaxtyping import Array, Float

from ._rows_major import MIN_ROWS, rows_major_affine

# Below this batch the training step measured no faster: the transposes cost what the
# products gain.
MIN_BATCH = 512
# Layers with fewer outputs than this (the final ε layer) keep the transposed product.
MIN_OUT_FEATURES = 16


def _materialise(x: Array) -> Array:
    """`x` computed into its own buffer: XLA may not fold a transpose back into a product
    across an optimisation barrier."""
    return jax.lax.optimization_barrier(x)


@jax.custom_vjp
def _batched_affine(weight, bias, x):
    return rows_major_affine(weight, bias, x)


def _batched_affine_fwd(weight, bias, x):
    return _batched_affine(weight, bias, x), (weight, bias is None, x)


@jax.named_scope("batched_affine_backward")
def _batched_affine_bwd(residuals, g):
    weight, no_bias, x = residuals
    # `Gᵀ` materialised, then an ordinary product, whose result is in the weight's own layout.
    dweight = _materialise(g.T) @ x
    dbias = None if no_bias else g.sum(axis=0)
    return dweight, dbias, g @ weight


_batched_affine.defvjp(_batched_affine_fwd, _batched_affine_bwd)


def _affine(weight, bias, x):
    y = weight @ x
    return y if bias is None else y + bias


@custom_vmap
def _per_example_affine(weight, bias, x):
    return _affine(weight, bias, x)


@_per_example_affine.def_vmap
def _per_example_affine_vmap(axis_size, in_batched, weight, bias, x):
    weight_batched, bias_batched, x_batched = in_batched
    bias_batched = bias_batched if bias is not None else False
    rows_only = x_batched and not weight_batched and not bias_batched
    if rows_only and axis_size >= MIN_BATCH and weight.shape[0] >= MIN_OUT_FEATURES:
        return _batched_affine(weight, bias, x), True
    if rows_only and axis_size >= MIN_ROWS:  # autodiff's backward, on a rows-major product
        return rows_major_affine(weight, bias, x), True
    axes = tuple(0 if b else None for b in (weight_batched, bias_batched, x_batched))
    return jax.vmap(_affine, in_axes=axes, axis_size=axis_size)(weight, bias, x), True


class BatchedGradLinear(eqx.Module):
    """`eqx.nn.Linear`'s map `W x + b` for one example, with a batch-level backward pass.

    Only for training under `vmap` with the gradient taken outside it (as in
    `diffusion_loss`): differentiating one example, or a `vmap` of per-example gradients,
    is not supported.
    """

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"] | None

    def __call__(self, x: Float[Array, " in"], *, key=None) -> Float[Array, " out"]:
        del key
        return _per_example_affine(self.weight, self.bias, x)

"""LayerNorm with a hand-written backward pass, for training.

The input gradient in one expression, `r (g − mean(g) − x̂ mean(g x̂))` with `g = w ⊙ ∂L/∂y`,
instead of autodiff's chain of reductions. Measured gain: −1.1 ms of a 60 ms training step
at batch 1024 (interleaved A/B on a 2-core CPU). In guided sampling it was slower (1.44×
against 1.42× the unguided step), so sampling keeps Equinox's.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


@jax.named_scope("layer_norm")
def _forward(x, weight, bias, eps):
    # The arithmetic of `eqx.nn.LayerNorm`, so that outputs are identical.
    mean = jnp.mean(x)
    inv = jax.lax.rsqrt(jnp.maximum(0.0, jnp.var(x)) + eps)
    normalised = (x - mean) * inv
    return weight * normalised + bias, (normalised, inv, weight)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _layer_norm(x, weight, bias, eps):
    return _forward(x, weight, bias, eps)[0]


@jax.named_scope("layer_norm_backward")
def _layer_norm_bwd(eps, residuals, dy):
    normalised, inv, weight = residuals
    g = dy * weight
    dx = inv * (g - jnp.mean(g) - normalised * jnp.mean(g * normalised))
    return dx, dy * normalised, dy


_layer_norm.defvjp(_forward, _layer_norm_bwd)


class TrainingLayerNorm(eqx.Module):
    """`eqx.nn.LayerNorm` over a vector, with weight and bias, and a hand-written backward
    pass: the input gradient in one fused expression instead of autodiff's chain of
    reductions (about 1 ms of a 60 ms training step at batch 1024 on CPU). Same outputs;
    gradients equal up to rounding."""

    weight: Float[Array, " n"]
    bias: Float[Array, " n"]
    eps: float = eqx.field(static=True)

    def __call__(self, x: Float[Array, " n"], *, key=None) -> Float[Array, " n"]:
        del key
        return _layer_norm(x, self.weight, self.bias, self.eps)

"""Learnable Fourier features of the diffusion time, followed by a small MLP."""

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._custom_types import PRNGKey


class FourierTimeEmbedding(eqx.Module):
    """`τ ↦ MLP([cos 2πWτ, sin 2πWτ])` with learnable frequencies `W`.

    **Arguments:**

    - `num_features`: number of Fourier features (half cosines, half sines).
    - `hidden`, `out`: widths of the MLP that follows, `Dense(hidden) → act → Dense(out)`.
    - `scale`: standard deviation of the initial frequencies, in cycles per unit `τ`.
    """

    frequencies: Float[Array, " half"]
    mlp: eqx.nn.MLP
    out_dim: int = eqx.field(static=True)

    def __init__(
        self,
        num_features: int = 128,
        hidden: int = 256,
        out: int = 256,
        scale: float = 8.0,
        activation: Callable = jax.nn.mish,
        *,
        key: PRNGKey,
    ):
        fkey, mkey = jr.split(key)
        self.frequencies = scale * jr.normal(fkey, (num_features // 2,))
        self.mlp = eqx.nn.MLP(
            2 * (num_features // 2), out, hidden, depth=1, activation=activation, key=mkey
        )
        self.out_dim = out

    def __call__(self, t: Float[Array, ""]) -> Float[Array, " out"]:
        phase = 2 * math.pi * self.frequencies * t
        return self.mlp(jnp.concatenate([jnp.cos(phase), jnp.sin(phase)]))

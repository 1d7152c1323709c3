"""Random Fourier features of the data channels, a fixed input embedding for low-dimensional
data with fine structure."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._checks import check_int
from .._custom_types import PRNGKey


class FourierInputFeatures(eqx.Module):
    """`x ↦ [cos 2πBx, sin 2πBx]` with fixed Gaussian frequencies `B` (Tancik et al., 2020).

    A small MLP on raw 2-D coordinates is biased towards smooth functions; these features let
    its first layer see patterns with a period down to about `1 / scale` units. `B` is drawn
    at initialisation and gets no gradient (it is saved with the network); an optimiser's
    decoupled weight decay still shrinks it like every parameter (by about 0.2% over the toys'
    12,000 AdamW steps: peak rate 3e-3 with cosine decay, weight decay 1e-4).

    **Arguments:**

    - `in_dim`: the size of `x`.
    - `num_features`: the number of features (even: half cosines, half sines).
    - `scale`: the standard deviation of `B`'s entries, in cycles per unit of `x`.
    - `key`: the key `B` is drawn with.
    """

    frequencies: Float[Array, "half in_dim"]
    scale: float = eqx.field(static=True)

    def __init__(self, in_dim: int, num_features: int, scale: float, *, key: PRNGKey):
        check_int("FourierInputFeatures", "num_features", num_features, minimum=2)
        if num_features % 2:
            raise ValueError(
                f"FourierInputFeatures: num_features must be even (half cosines, half sines), "
                f"got {num_features}."
            )
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"FourierInputFeatures: scale must be > 0, got {scale}.")
        self.scale = float(scale)
        self.frequencies = self.scale * jr.normal(key, (num_features // 2, in_dim))

    @property
    def num_features(self) -> int:
        return 2 * self.frequencies.shape[0]

    def __call__(self, x: Float[Array, " in_dim"]) -> Float[Array, " features"]:
        phase = 2 * math.pi * (jax.lax.stop_gradient(self.frequencies) @ x)
        return jnp.concatenate([jnp.cos(phase), jnp.sin(phase)])

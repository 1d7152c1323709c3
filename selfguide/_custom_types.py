"""Shared type aliases for annotations."""

from typing import TypeAlias

import jax
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Key, Shaped

PRNGKey: TypeAlias = Key[Array, ""] | jax.Array
"""A JAX PRNG key (new-style `jr.key` or legacy `jr.PRNGKey`)."""

Scalar: TypeAlias = Float[ArrayLike, ""]
"""A float scalar: a Python float, a NumPy scalar or a 0-d array."""

Cond: TypeAlias = Float[Array, " c"] | None
"""One example's conditioning vector, or `None` for an unconditional model."""

EpsPair: TypeAlias = tuple[Float[Array, " d"], Float[Array, " K"]]
"""`(ε_x, ε_w)`: the noise predicted for the data and for the weight channels."""

RealArray: TypeAlias = Float[Array, "..."] | Float[np.ndarray, "..."]

__all__ = [
    "Array", "ArrayLike", "Cond", "EpsPair", "Float", "Int", "Key", "PRNGKey", "RealArray",
    "Scalar", "Shaped",
]

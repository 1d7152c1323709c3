"""Shared type aliases for annotations."""

from typing import TypeAlias

import jax
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Key, Shaped

PRNGKey: TypeAlias = Key[Array, ""] | jax.Array
"""A JAX PRNG key (new-style `jr.key` or legacy `jr.PRNGKey`)."""

Scalar: TypeAlias = Float[ArrayLike, ""]
"""A float scalar: a Python float, a NumPy scalar or a 0-d array."""

RealArray: TypeAlias = Float[Array, "..."] | Float[np.ndarray, "..."]

__all__ = ["Array", "ArrayLike", "Float", "Int", "Key", "PRNGKey", "RealArray", "Scalar", "Shaped"]

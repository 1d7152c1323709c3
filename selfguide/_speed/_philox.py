"""Philox keys for the training loss's draws, where JAX has them.

On CPU, threefry's bits are computed by a rolled loop of small kernels and cost several
times more than Philox's (the dropout masks alone are a few percent of a training step;
`docs/performance.md`). JAX's Philox does not support a batch sharded across devices, so the
data-parallel step keeps threefry. Measured gain: −1.5 to −2.5 ms of a 60 ms training step
at batch 1024 (threefry's dropout masks alone were 766 of 1146 kernels per step).
"""

import functools

import jax.numpy as jnp
import jax.random as jr

from .._custom_types import PRNGKey


@functools.cache
def has_philox() -> bool:
    try:
        jr.key(0, impl="philox4x32")
    except ValueError:  # a JAX without it
        return False
    return True


def philox_key(key: PRNGKey) -> PRNGKey:
    """A Philox key derived from `key` (where JAX has Philox; else `key` itself)."""
    if not has_philox():
        return key
    return jr.wrap_key_data(jr.bits(key, (2,), dtype=jnp.uint32), impl="philox4x32")

"""Data-parallel training on JAX's own sharding: a 1-D device mesh, batch sharded, parameters
replicated. The same code runs on one host or many (after `jax.distributed.initialize()`)."""

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def data_parallel_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named `"data"` over `devices` (default: every visible device, all hosts)."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("data_parallel_mesh: got an empty device list.")
    return Mesh(np.asarray(devices), ("data",))


def replicate(tree, mesh: Mesh):
    """Place every array of `tree` on all devices of `mesh` (parameters, optimiser state, data)."""
    sharding = NamedSharding(mesh, PartitionSpec())
    return jax.tree.map(
        lambda x: jax.device_put(x, sharding) if isinstance(x, jax.Array) else x, tree
    )


def shard_batch(x, mesh: Mesh | None):
    """Inside jit: split the leading (batch) axis of `x` across the mesh's `"data"` axis."""
    if mesh is None:
        return x
    spec = PartitionSpec("data", *([None] * (x.ndim - 1)))
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))


def check_batch(batch_size: int, mesh: Mesh | None) -> None:
    if mesh is not None and batch_size % mesh.size:
        raise ValueError(
            f"fit: batch_size={batch_size} must be divisible by the number of devices "
            f"({mesh.size}) for data-parallel training; use e.g. "
            f"batch_size={mesh.size * max(1, batch_size // mesh.size)}."
        )

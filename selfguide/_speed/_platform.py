"""Which platform a computation runs on, read off its arrays."""

import jax


def platform_of(*trees) -> str:
    """The platform (`"cpu"`, `"gpu"`, `"tpu"`, ...) of the first concrete array in `trees`:
    where a computation on them runs. Inside a trace the arrays are abstract; a program then
    runs on JAX's default backend, which is what this returns."""
    for leaf in jax.tree.leaves(trees):
        if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer):
            return next(iter(leaf.devices())).platform
    return jax.default_backend()

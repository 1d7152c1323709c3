"""512-bit vectors for XLA's CPU loops, in the programs the library runs at top level.

XLA writes the loops that are not matrix products (activations, LayerNorm, dropout, the
optimiser) for 256-bit vectors unless told otherwise; on a CPU with AVX-512, 512-bit vectors
run them faster (a CPU without keeps its widest vectors; the matrix products come from a
library and do not change). Measured gain, training the reference ResNet on a 2-core CPU,
alternating fresh processes: 50.0–52.5 against 55.1–55.5 ms per step at batch 1024 (on an
earlier machine 68.4 against 70.3 ms), 14.9–15.9 against 15.0–16.8 ms at batch 256.

`jit` takes compiler options only for a top-level program, and telling a top-level call
from one inside a user's trace needs JAX's internals; so only the training loop's chunks,
which never run inside a trace, use them. Sampling is left to the user's `XLA_FLAGS`
(`--xla_cpu_prefer_vector_width=512`).
"""

import functools

import jax
import jax.numpy as jnp

CPU_OPTIONS = {"xla_cpu_prefer_vector_width": "512"}


@functools.cache
def cpu_compiler_options() -> dict[str, str] | None:
    """The options above if this JAX and XLA accept them (tried once, on a trivial CPU
    program), else `None` (e.g. an XLA that renamed the option: its defaults then)."""
    try:
        x = jax.device_put(jnp.zeros((), jnp.float32), jax.devices("cpu")[0])
        jax.jit(lambda v: -v, compiler_options=dict(CPU_OPTIONS)).lower(x).compile()
    except Exception:  # noqa: BLE001 - any refusal means: compile with XLA's defaults
        return None
    return dict(CPU_OPTIONS)

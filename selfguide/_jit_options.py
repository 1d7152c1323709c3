"""Compiler options shared by the library's compiled programs."""

import functools
import inspect
from collections.abc import Callable

import equinox as eqx
import jax

try:
    from jax._src.core import trace_state_clean as _trace_state_clean
except ImportError:  # a JAX without it: treat every call as nested

    def _trace_state_clean() -> bool:
        return False


# XLA writes the loops that are not matrix products (activations, normalisation, dropout,
# the optimiser, the samplers' updates) for 256-bit vectors by default. On CPUs with
# AVX-512, 512-bit vectors run them faster: 0.36 against 0.49 ms for one element-wise
# expression over a 1024 × 1024 array, a 2-3% shorter training step and a 2-6% shorter
# guided sampling call (`docs/performance.md`). A CPU without AVX-512 keeps its widest
# vectors, and other backends ignore the option.
_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": "512"}


def _jit_options() -> dict:
    if "compiler_options" not in inspect.signature(jax.jit).parameters:
        return {}  # a JAX that cannot take per-program options: its defaults
    return {"compiler_options": dict(_COMPILER_OPTIONS)}


JIT_OPTIONS = _jit_options()
"""Keyword arguments for `jax.jit` and `eqx.filter_jit` of the library's compiled programs.
Only for programs that are called from Python alone (training chunks): a program compiled
with options cannot run inside another program's trace."""


def at_top_level() -> bool:
    """Whether the options can be used here: outside any JAX transformation."""
    return bool(JIT_OPTIONS) and _trace_state_clean()


def filter_jit_with_options(fn: Callable) -> Callable:
    """`eqx.filter_jit(fn)`, compiled with the library's options when called from Python
    and without them inside another program's trace (a user's `jit`, `vmap`, `scan`)."""
    with_options = eqx.filter_jit(fn, **JIT_OPTIONS)
    plain = eqx.filter_jit(fn)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return (with_options if at_top_level() else plain)(*args, **kwargs)

    return call

"""Compiler options for the library's compiled programs, used only where they apply."""

import functools
import inspect
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

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
# vectors.
CPU_COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": "512"}


@functools.cache
def jit_options() -> dict:
    """Keyword arguments for the `jit` of a top-level program: the CPU options above where
    the default backend is a CPU and this JAX and XLA accept them (tried once, on a trivial
    program), otherwise none."""
    if "compiler_options" not in inspect.signature(jax.jit).parameters:
        return {}
    if jax.default_backend() != "cpu":
        return {}
    options = {"compiler_options": dict(CPU_COMPILER_OPTIONS)}
    try:
        jax.jit(lambda x: -x, **options).lower(jnp.zeros(())).compile()
    except Exception:  # an XLA that renamed or removed an option: its defaults
        return {}
    return options


def at_top_level() -> bool:
    """Whether a program called here may carry compiler options: outside any JAX
    transformation (options on a program inside another program's trace are an error)."""
    return _trace_state_clean()


class _Program:
    """`eqx.filter_jit(fn, **jit_kwargs)`, plus the library's compiler options when called
    from Python (and they apply); `lower` follows the same choice."""

    def __init__(self, fn: Callable, **jit_kwargs):
        functools.update_wrapper(self, fn)
        self._fn, self._jit_kwargs = fn, jit_kwargs
        self._plain = eqx.filter_jit(fn, **jit_kwargs)
        self._with_options = None

    def program(self):
        """The compiled program a call from here uses."""
        if not at_top_level() or not jit_options():
            return self._plain
        if self._with_options is None:
            self._with_options = eqx.filter_jit(self._fn, **self._jit_kwargs, **jit_options())
        return self._with_options

    def __call__(self, *args, **kwargs):
        return self.program()(*args, **kwargs)

    def lower(self, *args, **kwargs):
        return self.program().lower(*args, **kwargs)


def compiled(fn: Callable | None = None, **jit_kwargs):
    """Decorator: `fn` compiled like `eqx.filter_jit(fn, **jit_kwargs)`, with the library's
    compiler options when called from Python and without them inside a user's `jit`,
    `vmap` or `scan`."""
    if fn is None:
        return functools.partial(compiled, **jit_kwargs)
    return _Program(fn, **jit_kwargs)

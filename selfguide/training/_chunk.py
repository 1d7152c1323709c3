"""The compiled chunk of the training loop: `num_steps` steps of a step function in one
`lax.scan`, the state donated, on CPU with 512-bit vectors (`selfguide/_speed/_vector_width.py`)."""

import functools
import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.random as jr
from jaxtyping import Array, Float, PyTree

from .._custom_types import PRNGKey
from .._speed._platform import platform_of
from .._speed._vector_width import cpu_compiler_options


def _split(tree: PyTree) -> tuple[PyTree, tuple]:
    """`tree`'s arrays, and the rest as a hashable `(treedef, leaves)` (a static argument)."""
    arrays, rest = eqx.partition(tree, eqx.is_array)
    leaves, treedef = jax.tree.flatten(rest)
    return arrays, (treedef, tuple(leaves))


def _join(arrays: PyTree, static: tuple) -> PyTree:
    treedef, leaves = static
    return eqx.combine(arrays, jax.tree.unflatten(treedef, leaves))


def _scan(fixed_arrays, state_arrays, fixed_static, state_static, num_steps):
    data, step, key = _join(fixed_arrays, fixed_static)
    frozen = jax.tree.unflatten(*state_static)

    def body(arrays, _):
        current = eqx.combine(arrays, frozen)
        new, metrics = step(current, data, jr.fold_in(key, current.step))
        new = eqx.tree_at(lambda s: s.step, new, current.step + 1)
        return eqx.filter(new, eqx.is_array), metrics

    return jax.lax.scan(body, state_arrays, None, length=num_steps)


@functools.cache
def _program(options: tuple[tuple[str, str], ...] | None) -> Callable:
    return jax.jit(
        _scan,
        static_argnums=(2, 3, 4),
        donate_argnums=(1,),
        compiler_options=None if options is None else dict(options),
    )


def _options(fixed: PyTree, state: PyTree) -> tuple[tuple[str, str], ...] | None:
    """Compiler options for a chunk on these arrays: on CPU, and only for concrete arrays
    (a traced call is inside another program, where options are not allowed)."""
    leaves = jax.tree.leaves((fixed, state))
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        return None
    if platform_of(fixed, state) != "cpu":
        return None
    options = cpu_compiler_options()
    return None if options is None else tuple(sorted(options.items()))


class RunChunk:
    """`run_chunk(fixed, state, num_steps)`: `num_steps` steps in one jitted `lax.scan`,
    without the loop around it: what [`run_training`][selfguide.training.run_training] runs
    per chunk, for timing and profiling a step function.

    **Arguments:**

    - `fixed`: `(data, step, key)`, not donated; step `k` gets the key `fold_in(key, k)`.
        The step's and the data's non-array parts are compile-time constants.
    - `state`: the [`HasStep`][selfguide.training.HasStep] state; its arrays are donated
        (do not reuse them).
    - `num_steps`: steps to take (a compile-time constant).

    **Returns:** `(state, metrics)`, one row of metrics per step.

    `run_chunk.lower(fixed, state, num_steps)` gives the `jax.stages.Lowered` program
    (`.compile().cost_analysis()`, `.as_text()`).
    """

    def _bind(self, fixed, state, num_steps: int):
        fixed_arrays, fixed_static = _split(fixed)
        state_arrays, state_static = _split(state)
        program = _program(_options(fixed, state))
        return program, (fixed_arrays, state_arrays, fixed_static, state_static, num_steps)

    def __call__(
        self, fixed: tuple[PyTree, Callable, PRNGKey], state: Any, num_steps: int
    ) -> tuple[Any, Float[Array, "n m"]]:
        program, args = self._bind(fixed, state, num_steps)
        with warnings.catch_warnings():  # buffers XLA could not reuse are merely copied
            warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
            arrays, metrics = program(*args)
        return _join(arrays, args[3]), metrics

    def lower(self, fixed, state, num_steps: int) -> jax.stages.Lowered:
        program, args = self._bind(fixed, state, num_steps)
        return program.lower(*args)


run_chunk = RunChunk()

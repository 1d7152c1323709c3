"""`compile_sample`: `sample` compiled once, for the lowest latency over many calls."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import ArrayLike, Float

from ._custom_types import PRNGKey
from ._guidance import AbstractGuidance
from ._sample import Samples, _prepare, _sample_rows, as_float32
from ._sampler._base import AbstractSampler
from ._schedule import AbstractSchedule


class CompiledSample:
    """[`sample`][selfguide.sample] with its settings fixed and its program compiled ahead
    of time; build it with [`compile_sample`][selfguide.compile_sample].

    A call skips what `sample` does before running the program (checking the arguments,
    looking up the compiled program, splitting modules into arrays and static parts),
    which is most of the latency of a call for one state. Call it as
    `fn(cond, key=key)` (or `fn(key=key)` for an unconditional model) with conditions of
    the shape it was compiled for; pass `guidance=` to change array-valued settings
    (e.g. the scale) of a guidance of the same kind, without recompiling.
    """

    def __init__(self, model, schedule, *, num, cond, guidance, sampler):
        request = _prepare(model, schedule, num, cond, guidance, sampler, "compile_sample")
        cond_arr = request.cond
        dynamic, static = eqx.partition(
            request._replace(guidance=None, cond=None), eqx.is_array
        )
        guidance_dynamic, self._guidance_static = eqx.partition(request.guidance, eqx.is_array)
        guidance_static = self._guidance_static

        def run(dynamic, guidance_dynamic, cond, key):
            guidance = eqx.combine(guidance_dynamic, guidance_static)
            request = eqx.combine(dynamic, static)._replace(guidance=guidance, cond=cond)
            return _sample_rows(request, key)

        self._dynamic, self._guidance_dynamic = dynamic, guidance_dynamic
        self.cond_shape = None if cond_arr is None else cond_arr.shape
        program = jax.jit(run)
        self._compiled = program.lower(dynamic, guidance_dynamic, cond_arr, jr.key(0)).compile()

    def __call__(
        self,
        cond: Float[ArrayLike, "..."] | None = None,
        *,
        key: PRNGKey,
        guidance: AbstractGuidance | None = None,
    ) -> Samples:
        if (cond is None) != (self.cond_shape is None) or (
            cond is not None and jnp.shape(cond) != self.cond_shape
        ):
            raise ValueError(
                f"compiled sample: expected cond of shape {self.cond_shape}, got "
                f"{None if cond is None else jnp.shape(cond)}. Compile another function for "
                "other shapes."
            )
        if cond is not None:
            cond = as_float32(cond)
        guidance_dynamic = self._guidance_dynamic
        if guidance is not None:
            guidance_dynamic, static = eqx.partition(guidance, eqx.is_array)
            same = jax.tree.structure(guidance_dynamic) == jax.tree.structure(
                self._guidance_dynamic
            ) and eqx.tree_equal(static, self._guidance_static)
            if not same:
                raise ValueError(
                    "compiled sample: `guidance` differs from the compiled one in more than "
                    "its array values (kind, channel index or candidates); compile another "
                    "function for it."
                )
        if not jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
            key = jr.wrap_key_data(key)
        return self._compiled(self._dynamic, guidance_dynamic, cond, key)


def compile_sample(
    model: eqx.Module,
    schedule: AbstractSchedule,
    *,
    num: int | None = None,
    cond: Float[ArrayLike, "..."] | None = None,
    guidance: AbstractGuidance | None = None,
    sampler: AbstractSampler | None = None,
) -> CompiledSample:
    """Compile [`sample`][selfguide.sample] once for repeated calls (e.g. acting in an
    environment, one state at a time).

    Takes `sample`'s arguments except the key; `cond` is an example of the conditions the
    function will be called with (only its shape matters). Returns a
    [`CompiledSample`][selfguide.CompiledSample] `fn`, called as `fn(cond, key=key)`, which
    gives the same samples as `sample(..., cond=cond, key=key)`.

    ```python
    act = sg.compile_sample(model, schedule, cond=obs, num=1, guidance=sg.SelfWeightedGuidance(3.0))
    x, w = act(obs, key=jr.key(0))
    ```
    """
    return CompiledSample(model, schedule, num=num, cond=cond, guidance=guidance, sampler=sampler)

"""The library's own compiler options: set on top-level programs, never on nested ones."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import selfguide as sg
from selfguide._jit_options import JIT_OPTIONS, at_top_level, filter_jit_with_options


def test_options_only_at_top_level():
    assert JIT_OPTIONS  # this JAX takes per-program options
    assert at_top_level()
    seen = []

    def record(x):
        seen.append(at_top_level())
        return x

    jax.jit(record)(1.0)
    jax.vmap(record)(jnp.ones(2))
    jax.lax.scan(lambda c, x: (record(c), x), 0.0, jnp.ones(2))
    assert seen == [False, False, False]


def test_sample_inside_a_users_jit_matches_the_top_level_call():
    """`sample` compiles with the options when called from Python and without them inside
    another program (where options are an error); both give the same samples."""
    net = sg.MLPDenoiser(2, 1, width=16, depth=2, key=jr.key(0))
    model = sg.JointModel(net, 2, 1)
    schedule = sg.VPSchedule(num_steps=5)
    guidance = sg.SelfWeightedGuidance(1.0)
    top = sg.sample(model, schedule, num=8, guidance=guidance, key=jr.key(1))
    nested = jax.jit(lambda k: sg.sample(model, schedule, num=8, guidance=guidance, key=k).x)(
        jr.key(1)
    )
    np.testing.assert_allclose(nested, top.x, rtol=1e-5, atol=1e-6)


def test_filter_jit_with_options_runs_nested_and_at_top_level():
    calls = []

    @filter_jit_with_options
    def double(x):
        calls.append(at_top_level())  # at trace time: inside the program's own trace
        return 2 * x

    x = jnp.arange(3.0)
    np.testing.assert_array_equal(double(x), 2 * x)
    np.testing.assert_array_equal(jax.jit(double)(x), 2 * x)
    np.testing.assert_array_equal(jax.vmap(double)(x), 2 * x)
    assert calls and not any(calls)  # every trace happens inside a program's own trace

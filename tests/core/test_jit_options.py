"""The library's own compiler options: on top-level CPU programs only, and only where XLA
accepts them."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide import _jit_options
from selfguide._jit_options import at_top_level, compiled, jit_options


def test_options_on_this_cpu():
    assert jax.default_backend() == "cpu"
    assert jit_options() == {"compiler_options": _jit_options.CPU_COMPILER_OPTIONS}


def test_options_only_at_top_level():
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


def test_compiled_runs_nested_and_at_top_level():
    calls = []

    @compiled
    def double(x):
        calls.append(at_top_level())  # at trace time: inside the program's own trace
        return 2 * x

    x = jnp.arange(3.0)
    np.testing.assert_array_equal(double(x), 2 * x)
    np.testing.assert_array_equal(jax.jit(double)(x), 2 * x)
    np.testing.assert_array_equal(jax.vmap(double)(x), 2 * x)
    assert calls and not any(calls)  # every trace happens inside a program's own trace
    assert double.program() is not double._plain  # from Python: the program with options
    assert double.lower(x).lowered.compile() is not None  # `lower` follows the same choice


def test_compiled_keeps_jit_arguments():
    @compiled(donate="all")
    def bump(x):
        return x + 1

    x = jnp.zeros(4)
    np.testing.assert_array_equal(bump(x), jnp.ones(4))
    assert x.is_deleted()  # donated, as `eqx.filter_jit(donate="all")` does


@pytest.fixture
def fresh_options(monkeypatch):
    jit_options.cache_clear()
    yield monkeypatch
    jit_options.cache_clear()


def test_rejected_options_fall_back_to_xla_defaults(fresh_options):
    """An XLA that has renamed or removed the option: no options, and programs still run."""
    fresh_options.setattr(_jit_options, "CPU_COMPILER_OPTIONS", {"xla_no_such_option": "1"})
    assert jit_options() == {}

    @compiled
    def double(x):
        return 2 * x

    np.testing.assert_array_equal(double(jnp.arange(3.0)), 2 * jnp.arange(3.0))
    assert double.program() is double._plain


def test_no_cpu_options_for_other_backends(fresh_options):
    fresh_options.setattr(jax, "default_backend", lambda: "gpu")
    assert jit_options() == {}

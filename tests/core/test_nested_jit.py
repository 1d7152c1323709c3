"""The library's programs nest inside a user's own `jit`."""

import jax
import jax.random as jr
import numpy as np

import selfguide as sg


def test_sample_inside_a_users_jit_matches_the_top_level_call():
    """`sample` called inside a user's `jit` gives the samples of a call from Python."""
    net = sg.MLPDenoiser(2, 1, width=16, depth=2, key=jr.key(0))
    model = sg.JointModel(net, 2, 1)
    schedule = sg.VPSchedule(num_steps=5)
    guidance = sg.SelfWeightedGuidance(1.0)
    top = sg.sample(model, schedule, num=8, guidance=guidance, key=jr.key(1))
    nested = jax.jit(lambda k: sg.sample(model, schedule, num=8, guidance=guidance, key=k).x)(
        jr.key(1)
    )
    np.testing.assert_allclose(nested, top.x, rtol=1e-5, atol=1e-6)

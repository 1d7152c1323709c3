"""The noise-predicting weight parametrisation: a warning that says what to set, and
sampled weights that are never negative."""

import warnings

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg

SCHEDULE = sg.VPSchedule(num_steps=5)


def _model(weight_output):
    net = sg.MLPDenoiser(1, 1, width=8, depth=1, key=jr.key(0))
    return sg.JointModel(net, 1, 1, weight_output=weight_output)


def _guided(model, guidance):
    return sg.sample(model, SCHEDULE, num=64, guidance=guidance, key=jr.key(1))


def test_guiding_an_eps_model_with_the_default_clip_warns_and_says_what_to_set():
    with pytest.warns(sg.GuidanceWarning, match=r"weight_output='denoised'.*clip_min=0\.03"):
        _guided(_model("eps"), sg.SelfWeightedGuidance(1.0))
    with pytest.warns(sg.GuidanceWarning):  # also as the candidates' guidance of SWG-R
        _guided(_model("eps"), sg.Resampling(2, guidance=sg.SelfWeightedGuidance(1.0)))


@pytest.mark.parametrize(
    ("weight_output", "clip_min"), [("denoised", 1e-4), ("eps", 0.03), ("eps", 0.1)]
)
def test_no_warning_where_the_settings_are_safe(weight_output, clip_min):
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.GuidanceWarning)
        _guided(_model(weight_output), sg.SelfWeightedGuidance(1.0, clip_min=clip_min))
        _guided(_model("eps"), sg.NoGuidance())


def test_sampled_weights_are_never_negative():
    # An untrained network: its weight channel ends anywhere, about half of it below zero.
    model = _model("eps")
    units = sg.WeightUnits(jnp.asarray([3.0]))
    model = sg.JointModel(model.network, 1, 1, units=units, weight_output="eps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.GuidanceWarning)
        for guidance in (sg.NoGuidance(), sg.SelfWeightedGuidance(1.0)):
            w = np.asarray(_guided(model, guidance).w)
            assert w.min() >= 0.0 and w.max() > 0.0

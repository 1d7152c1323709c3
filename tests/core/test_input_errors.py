"""Bad input to the core's public calls: a clear error that names the argument and the fix,
raised before any work is done."""

import jax.random as jr
import numpy as np
import pytest

import selfguide as sg

SCHEDULE = sg.VPSchedule(num_steps=5)


def _data(n=64):
    rng = np.random.default_rng(0)
    return sg.augment(rng.standard_normal((n, 2)), rng.uniform(0.1, 1.0, n))


def test_cond_dim_none_means_no_conditioning():
    for cls in (sg.ResNetDenoiser, sg.MLPDenoiser):
        net = cls(data_dim=2, weight_dim=1, cond_dim=None, width=8, key=jr.key(0))
        assert net.cond_dim == 0


# Arguments of the wrong type: the test suite's runtime type checker (jaxtyping + beartype)
# would answer before the library does, so these run as a user runs them, in a fresh
# interpreter without it.
_WRONG_TYPES = r"""
import jax.random as jr, numpy as np, selfguide as sg
net = sg.MLPDenoiser(2, 1, width=8, depth=1, key=jr.key(0))
z = sg.augment(np.ones((8, 2)), np.ones(8))
calls = {
    "cond_dim": lambda: sg.ResNetDenoiser(2, 1, cond_dim="3", key=jr.key(0)),
    "data_dim": lambda: sg.MLPDenoiser(2.0, 1, key=jr.key(0)),
    "steps": lambda: sg.fit(net, z, schedule=sg.VPSchedule(5), steps="100", key=jr.key(0)),
    "batch_size": lambda: sg.fit(net, z, schedule=sg.VPSchedule(5), steps=1, batch_size=8.0,
                                 key=jr.key(0)),
}
for name, call in calls.items():
    try:
        call()
    except TypeError as error:
        print(name, "|", error)
"""


def test_wrong_types_are_named_with_the_fix():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _WRONG_TYPES], capture_output=True, text=True,
                         check=True).stdout
    lines = dict(line.split(" | ", 1) for line in out.splitlines() if " | " in line)
    assert lines["cond_dim"].startswith(
        "ResNetDenoiser: `cond_dim` must be a whole number (int), got '3' (str)")
    assert lines["data_dim"].startswith("MLPDenoiser: `data_dim` must be a whole number")
    assert lines["steps"] == (
        "fit: `steps` must be a whole number (int), got '100' (str). E.g. steps=20_000.")
    assert lines["batch_size"].startswith("fit: `batch_size` must be a whole number")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cond_dim": -1}, ValueError, r"ResNetDenoiser: `cond_dim` must be >= 0, got -1"),
        ({"weight_dim": 0}, ValueError, r"`weight_dim` must be >= 1, got 0"),
    ],
)
def test_network_sizes_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        sg.ResNetDenoiser(**{"data_dim": 2, **kwargs}, width=8, key=jr.key(0))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, r"fit: `batch_size` must be >= 1, got 0"),
        ({"steps_per_chunk": 0}, ValueError, r"`steps_per_chunk` must be >= 1"),
        ({"ema_decay": 1.5}, ValueError, r"fit: `ema_decay` must be <= 1, got 1\.5"),
        ({"ema_decay": float("nan")}, ValueError, r"`ema_decay` must be a finite number"),
        ({"compute_dtype": "int8"}, ValueError, r"compute_dtype must be a float dtype"),
        ({"compute_dtype": "bogus"}, ValueError, r"compute_dtype must be None or a float"),
        ({"weight_output": "bogus"}, ValueError, r"weight_output must be 'eps'.*'denoised'"),
    ],
)
def test_fit_settings_are_checked_before_training(kwargs, error, match, monkeypatch):
    from selfguide.training import _loop

    monkeypatch.setattr(_loop, "run_chunk", _must_not_run)
    net = sg.MLPDenoiser(2, 1, width=8, depth=1, key=jr.key(0))
    args = {"schedule": SCHEDULE, "steps": 10, "key": jr.key(1), "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        sg.fit(net, _data(), **args)


def _must_not_run(*args, **kwargs):
    raise AssertionError("training started before the settings were checked")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_guidance_scale_must_be_a_finite_nonnegative_number(bad):
    with pytest.raises(ValueError, match="SelfWeightedGuidance: scale must be"):
        sg.SelfWeightedGuidance(scale=bad)


def test_other_nan_settings_are_refused():
    with pytest.raises(ValueError, match="clip_min must be a finite number"):
        sg.SelfWeightedGuidance(clip_min=float("nan"))
    with pytest.raises(ValueError, match="Resampling: temperature must be a finite number"):
        sg.Resampling(4, temperature=float("nan"))
    with pytest.raises(ValueError, match="DDPMSampler: temperature must be >= 0"):
        sg.DDPMSampler(temperature=-1.0)
    sg.SelfWeightedGuidance(clip_max=float("inf"))  # no upper clip is allowed


def test_load_model_names_what_a_checkpoint_holds(tmp_path):
    from selfguide._checkpoint import write_checkpoint

    path = write_checkpoint(tmp_path / "values.ckpt", {"kind": "values"}, {"state": [np.ones(2)]})
    with pytest.raises(sg.CheckpointError, match=r"is a 'values' checkpoint, not a diffusion"):
        sg.load_model(path)


def test_resume_mismatch_names_exactly_the_differing_fields(tmp_path):
    net = sg.MLPDenoiser(2, 1, width=8, depth=1, key=jr.key(0))
    ckpt = tmp_path / "run.ckpt"
    args = {"schedule": SCHEDULE, "key": jr.key(1), "progress": False, "checkpoint": ckpt}
    sg.fit(net, _data(), steps=4, batch_size=8, steps_per_chunk=2, **args)
    with pytest.raises(sg.CheckpointError) as info:
        sg.fit(net, _data(), steps=6, batch_size=16, steps_per_chunk=2, **args)
    message = str(info.value)
    assert "steps: 4 → 6" in message and "batch_size: 8 → 16" in message
    for same in ("data_dim", "weight_dim", "network", "num_examples", "weight_output"):
        assert same not in message

"""`selfguide toy` end to end at a tiny budget, and its bad-input messages."""

import argparse
import dataclasses
import warnings

import pytest

from selfguide._cli import main
from selfguide.toys import BetaRangeWarning
from selfguide.toys._budget import Budget


def _args(tmp_path, *extra):
    return ["toy", "--quick", "--steps", "20", "--cep-steps", "10", "--samples", "40",
            "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
            "--no-progress", *extra]


def test_runs_end_to_end_and_reuses_the_cache(tmp_path, capsys):
    args = _args(tmp_path, "--datasets", "moons", "--betas", "3")
    assert main(args) == 0
    out = tmp_path / "out"
    for name in ("grid.png", "metrics.csv", "metrics.md"):
        assert (out / name).stat().st_size > 0
    csv = (out / "metrics.csv").read_text().splitlines()
    assert csv[0].startswith("dataset,beta,method,seed,metric,value,floor")
    methods = {line.split(",")[2] for line in csv[1:]}
    assert methods == {"unguided", "resample", "swg-ddpm", "swg-ode", "cep"}
    printed = capsys.readouterr().out
    assert "| moons | 3 | SWG DDPM |" in printed and "noise floor" in printed
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert any(n.startswith("swg-moons") for n in cached)
    assert any(n.startswith("cep-moons") for n in cached)


def test_unknown_dataset(tmp_path):
    match = "selfguide toy: unknown dataset 'bananas'. Expected one of"
    with pytest.raises(SystemExit, match=match):
        main(_args(tmp_path, "--datasets", "bananas"))


def test_unknown_method(tmp_path):
    with pytest.raises(SystemExit, match="selfguide toy: unknown method 'magic'; choose from"):
        main(_args(tmp_path, "--datasets", "moons", "--methods", "magic"))


def test_negative_sample_count(tmp_path):
    with pytest.raises(SystemExit, match="--samples must be a positive number, got -5"):
        main(_args(tmp_path, "--datasets", "moons") + ["--samples", "-5"])


def test_negative_beta(tmp_path):
    with pytest.raises(SystemExit, match="selfguide toy: beta must be >= 0, got -1.0"):
        main(_args(tmp_path, "--datasets", "moons", "--betas", "-1"))


def test_beta_outside_trained_range_warns(tmp_path, monkeypatch):
    import selfguide.toys._command as command

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):  # the warning comes before any training; stop there
        raise Stop

    monkeypatch.setattr(command, "write_outputs", stop)
    monkeypatch.setattr("selfguide.toys._run.train_swg", stop)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Stop):
            main(_args(tmp_path, "--datasets", "moons", "--betas", "30"))
    messages = [str(w.message) for w in caught if issubclass(w.category, BetaRangeWarning)]
    assert any("beta=30.0 is outside the trained range [0.0, 24.0]" in m for m in messages)


def test_set_overrides_budget_fields():
    from selfguide.toys._command import add_arguments, budget_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--set", "width=512", "--set", "clip_weight=false", "--set", "clip_max=null",
         "--set", "weight_loss=3", "--set", "weight_output=eps", "--steps", "7"]
    )
    budget = budget_from(args)
    assert (budget.width, budget.clip_weight, budget.clip_max) == (512, False, None)
    assert budget.weight_loss == 3.0 and isinstance(budget.weight_loss, float)
    assert (budget.weight_output, budget.steps) == ("eps", 7)


def test_time_power_reaches_the_schedule_and_the_cache_key():
    from selfguide.toys._run import CEP_FIELDS, SWG_FIELDS, make_schedule

    default, powered = Budget(), dataclasses.replace(Budget(), time_power=2.0)
    assert make_schedule(powered).time_power == 2.0 and make_schedule(default).time_power == 1.0
    assert powered.training_tag(*SWG_FIELDS) != default.training_tag(*SWG_FIELDS)
    assert powered.training_tag(*CEP_FIELDS) != default.training_tag(*CEP_FIELDS)
    # At its default the field stays out of the key: caches written before it still match.
    without = tuple(f for f in SWG_FIELDS if f != "time_power")
    assert default.training_tag(*SWG_FIELDS) == default.training_tag(*without)


def test_beta_features_and_weight_gain_reach_the_model_inputs_and_the_cache_key():
    import numpy as np

    from selfguide.toys._run import SWG_FIELDS, beta_cond, weight_scale

    default = Budget()
    featured = dataclasses.replace(default, beta_features=3)
    assert beta_cond(6.0, default).tolist() == [0.25]  # β / β_max alone, as before
    cond = beta_cond(np.array([6.0, 12.0]), featured)
    assert cond.shape == (2, 7)
    u = np.array([0.25, 0.5])[:, None]
    angles = np.pi * u * np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(cond, np.concatenate([u, np.sin(angles), np.cos(angles)], 1),
                               atol=1e-6)
    np.testing.assert_allclose(beta_cond(12.0, featured), cond[1])  # one β: one row
    gained = dataclasses.replace(default, weight_gain=4.0)
    np.testing.assert_allclose(weight_scale("moons", [3.0, 10.0], gained),
                               weight_scale("moons", [3.0, 10.0], default) / 4.0)
    for changed in (featured, gained):
        assert changed.training_tag(*SWG_FIELDS) != default.training_tag(*SWG_FIELDS)
    # At their defaults the fields stay out of the key: caches written before them match.
    without = tuple(f for f in SWG_FIELDS if f not in ("beta_features", "weight_gain"))
    assert default.training_tag(*SWG_FIELDS) == default.training_tag(*without)


def test_beta_channels_train_one_weight_channel_per_beta_and_guide_by_its_own(
    tmp_path, monkeypatch
):
    import numpy as np

    import selfguide.toys._run as run

    budget = Budget(steps=20, num_train=2000, width=32, depth=2, input_features=0,
                    num_samples=64, sample_steps=10, beta_channels=(10.0, 3.0))
    assert budget.training_tag(*run.SWG_FIELDS) != Budget().training_tag(*run.SWG_FIELDS)
    assert [run.guided_channel(b, budget) for b in (0.0, 3.0, 10.0)] == [None, 1, 0]
    seen = {}

    def recording_train(net, data, **kwargs):
        seen.update(data=data, cond=kwargs["cond"], loss_weights=kwargs["loss_weights"])
        return train(net, data, **kwargs)

    train = run.train
    monkeypatch.setattr(run, "train", recording_train)
    model, _ = run.train_swg("moons", budget, cache_dir=tmp_path, progress=False)
    assert (model.weight_dim, model.network.cond_dim) == (2, 0)
    # The channels are w_β / c(β) in the listed order, every draw in each, no β input.
    _, e, _ = run.training_data("moons", budget, 0)
    expected = np.exp(np.array([10.0, 3.0]) * (e[:, None] - 1.0))
    expected /= run.weight_scale("moons", np.array([10.0, 3.0]), budget)
    np.testing.assert_allclose(np.asarray(seen["data"].w), expected, rtol=1e-5)
    assert seen["cond"] is None and list(seen["loss_weights"]) == [1.0] * 4
    same = dict(seed=4, num=64)
    unguided = [run.draw("unguided", "moons", model, b, budget, **same) for b in (0.0, 3.0, 10.0)]
    np.testing.assert_array_equal(unguided[0], unguided[2])  # no β input: q at every β
    for method in ("swg-ddpm", "resample"):  # at β = 0, w ≡ 1: no channel guides
        np.testing.assert_array_equal(run.draw(method, "moons", model, 0.0, budget, **same),
                                      unguided[0])
    energy, _ = run.train_energy("moons", dataclasses.replace(budget, cep_steps=3, cep_width=16,
                                                              cep_depth=1), progress=False)
    cep = run.draw("cep", "moons", model, 10.0, budget, energy_net=energy, **same)
    assert np.isfinite(cep).all() and not np.array_equal(cep, unguided[0])
    at3, at10 = (run.draw("swg-ddpm", "moons", model, b, budget, **same) for b in (3.0, 10.0))
    assert np.isfinite(at3).all() and not np.array_equal(at3, at10)  # each its own channel
    with pytest.raises(ValueError, match=r"beta=5 has no weight channel in this model "
                                         r"\(beta_channels=\(10.0, 3.0\)\)"):
        run.draw("swg-ddpm", "moons", model, 5.0, budget, seed=0)
    with pytest.raises(SystemExit, match="selfguide toy: beta=5 has no weight channel"):
        main(_args(tmp_path, "--datasets", "moons", "--betas", "5", "--set",
                   "beta_channels=[3, 10]"))


@pytest.mark.parametrize(
    "changes",
    [dict(beta_channels=(3.0, 3.0)), dict(beta_channels=(0.0,)), dict(beta_channels=(30.0,)),
     dict(beta_channels=(3.0,), clip_weight=True)],
)
def test_bad_beta_channels(changes):
    with pytest.raises(ValueError, match="Budget: (beta_channels must be distinct βs in "
                                         r"\(0, beta_max = 24.0\]|clip_weight clips every)"):
        Budget(**changes)


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("colour=red", r"--set 'colour=red': 'colour' is not a setting; the Budget settings "
                       r"are steps, "),
        ("width", r"--set 'width': expected FIELD=VALUE"),
        ("width=wide", r"--set 'width=wide': width takes a value of type int \(a whole number\) "
                       r"like 256, got 'wide'"),
        ("clip_weight=1", r"--set 'clip_weight=1': clip_weight takes a value of type bool "
                          r"\(true or false\) like false, got 1"),
        ("depth=0", r"Budget: depth must be >= 1, got 0"),
        ("learning_rate=0", r"Budget: need learning_rate > 0 and 0 <= ema_decay < 1, got 0"),
        ("ema_decay=1.0", r"Budget: need learning_rate > 0 and 0 <= ema_decay < 1, got .* "
                          r"and 1.0"),
        ("weight_output=x0", r"Budget: weight_output must be 'eps' .* or 'denoised' .* or "
                             r"'log' .*; got 'x0'"),
        ("clip_min=2", r"Budget: need 0 < clip_min < clip_max \(user units\), got 2.0 and 1.0"),
        ("time_power=0", r"Budget: time_power must be > 0, got 0"),
        ("beta_features=-1", r"Budget: beta_features must be >= 0 \(0: the scalar β / β_max "
                             r"alone\), got -1"),
        ("weight_gain=0", r"Budget: weight_gain must be > 0, got 0"),
    ],
)
def test_set_rejects_bad_fields_and_values(tmp_path, pair, message):
    with pytest.raises(SystemExit, match=message):
        main(_args(tmp_path, "--datasets", "moons", "--set", pair))

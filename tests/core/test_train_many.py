"""`train_many`: K members in one program equal K single `train` runs (float32 rounding of
batched products aside), checkpoint per member, and resume."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide.training import _loop

SCHEDULE = sg.VPSchedule(num_steps=15)
ARGS = dict(schedule=SCHEDULE, steps=20, batch_size=32, steps_per_chunk=5, progress=False)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1)) + np.where(rng.random(200) < 0.5, -2.0, 2.0)[:, None]
    cond = rng.normal(size=(200, 2))
    return sg.augment(x, np.exp(x[:, 0]), rescale=True), cond


def _nets(count):
    return [sg.ResNetDenoiser(data_dim=1, cond_dim=2, width=16, num_blocks=2, expansion=2,
                              dropout=0.1, time_features=8, time_dim=16,
                              key=jr.key(10 + m)) for m in range(count)]


KEYS = [jr.key(100 + m) for m in range(3)]


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(eqx.filter(tree, eqx.is_inexact_array))]


@pytest.fixture(scope="module")
def single_runs():
    data, cond = _data()
    return [sg.train(net, data, cond=cond, key=key, **ARGS)
            for net, key in zip(_nets(3), KEYS, strict=True)]


def test_members_equal_their_single_runs(single_runs):
    data, cond = _data()
    many = sg.train_many(_nets(3), data, cond=cond, keys=KEYS, **ARGS)
    for one, member in zip(single_runs, many, strict=True):
        # Same batches, same noise, same dropout: what differs is the order in which a
        # batched product sums (float32: 2^-24 ≈ 6e-8 relative per addition). Measured on
        # CPU: at most 3e-8 apart after 20 steps (a few ulps of weights of size ~0.5);
        # 1e-6 absolute leaves room for other kernels without hiding a real difference
        # (another batch or key moves the weights by ~1e-3 in one Adam step).
        for a, b in zip(_leaves(one.model), _leaves(member.model), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(one.history.loss, member.history.loss, rtol=1e-5)
        np.testing.assert_array_equal(one.history.step, member.history.step)
    # The members are different models (their own initialisations and keys).
    assert not np.allclose(_leaves(many[0].model)[0], _leaves(many[1].model)[0])


def test_checkpoints_per_member_and_resume(single_runs, tmp_path, monkeypatch):
    data, cond = _data()
    paths = [tmp_path / f"m{m}.ckpt" for m in range(3)]
    original, calls = _loop.run_chunk, {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(_loop, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sg.train_many(_nets(3), data, cond=cond, keys=KEYS, checkpoints=paths, **ARGS)
    monkeypatch.setattr(_loop, "run_chunk", original)
    for p in paths:  # each an ordinary checkpoint of its member, after two chunks
        assert sg.load_model(p).data_dim == 1
    resumed = sg.train_many(_nets(3), data, cond=cond, keys=KEYS, checkpoints=paths, **ARGS)
    for one, member in zip(single_runs, resumed, strict=True):
        for a, b in zip(_leaves(one.model), _leaves(member.model), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert member.history.step.tolist() == [5, 10, 15, 20]
    final = sg.load_model(paths[2])
    for a, b in zip(_leaves(final), _leaves(resumed[2].model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_members_are_refused():
    data, cond = _data()
    with pytest.raises(ValueError, match="one key per network"):
        sg.train_many(_nets(2), data, cond=cond, keys=KEYS, **ARGS)
    odd = [_nets(1)[0], sg.ResNetDenoiser(data_dim=1, cond_dim=2, width=32, key=jr.key(0))]
    with pytest.raises(ValueError, match="the same structure and settings"):
        sg.train_many(odd, data, cond=cond, keys=KEYS[:2], **ARGS)
    with pytest.raises(ValueError, match="one checkpoint path per network"):
        sg.train_many(_nets(2), data, cond=cond, keys=KEYS[:2], checkpoints=["a"], **ARGS)


def test_stack_and_unstack_round_trip():
    from selfguide.training import stack, unstack

    nets = _nets(2)
    back = unstack(stack(nets), 2)
    for a, b in zip(nets, back, strict=True):
        for x, y in zip(_leaves(a), _leaves(b), strict=True):
            np.testing.assert_array_equal(x, y)
    assert jnp.shape(jax.tree.leaves(eqx.filter(stack(nets), eqx.is_array))[0])[0] == 2


def test_members_with_their_own_data():
    data, cond = _data()
    rng = np.random.default_rng(1)
    x = np.asarray(data.z[:, :1])
    own = [sg.augment(x, rng.uniform(0.1, 1.0, len(x)), rescale=True) for _ in range(2)]
    many = sg.train_many(_nets(2), own, cond=cond, keys=KEYS[:2], **ARGS)
    for net, key, d, member in zip(_nets(2), KEYS[:2], own, many, strict=True):
        one = sg.train(net, d, cond=cond, key=key, **ARGS)
        for a, b in zip(_leaves(one.model), _leaves(member.model), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(member.model.units.scale),
                                      np.asarray(d.units.scale))
    with pytest.raises(ValueError, match="one AugmentedData per network"):
        sg.train_many(_nets(2), own[:1], cond=cond, keys=KEYS[:2], **ARGS)

"""Data-parallel training on 4 simulated CPU devices equals single-device training."""

import os
import subprocess
import sys
import textwrap

import jax.random as jr
import numpy as np
import pytest

import selfguide as sg

SCRIPT = textwrap.dedent(
    """
    import jax, jax.random as jr, numpy as np, equinox as eqx
    import selfguide as sg
    from selfguide import _train
    assert len(jax.devices()) == 4, jax.devices()
    # Record how each training batch is laid out, as the compiled step sees it.
    layouts, shard = [], _train.shard_batch
    def spy(x, mesh):
        out = shard(x, mesh)
        if mesh is not None:
            jax.debug.inspect_array_sharding(out, callback=layouts.append)
        return out
    _train.shard_batch = spy
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=(256, 2)), rng.normal(size=(256, 3))
    data = sg.augment(x, np.exp(0.5 * x[:, 0]), rescale=True)
    net = sg.ResNetDenoiser(2, 1, cond_dim=3, width=32, num_blocks=2, key=jr.key(0))
    # Batch 512: large enough for the batch-level weight gradients (`_batched_linear.py`).
    kw = dict(cond=c, schedule=sg.VPSchedule(num_steps=5), steps=8, batch_size=512,
              key=jr.key(1), progress=False, steps_per_chunk=4)
    single = sg.train(net, data, devices=jax.devices()[:1], **kw)
    layouts.clear()  # from here on, only the four-device run's batches
    sharded = sg.train(net, data, devices="all", **kw)
    leaves = lambda r: jax.tree.leaves(eqx.filter(r.state.network, eqx.is_inexact_array))
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(leaves(single), leaves(sharded)))
    state_devices = len(sharded.state.step.sharding.device_set)
    print("MAXDIFF", diff, state_devices)
    print("BATCHES", len(layouts), min(len(s.device_set) for s in layouts),
          sum(s.is_fully_replicated for s in layouts))
    print("LOSS", np.abs(single.history.loss - sharded.history.loss).max())
    """
)


def test_sharded_training_matches_single_device():
    env = {
        **os.environ,
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    diff, n_devices = lines["MAXDIFF"].split()
    assert int(n_devices) == 4  # the state really lives on all four devices
    batches, devices, replicated = map(int, lines["BATCHES"].split())
    # Every batch the step draws (z and cond) is split across the four devices, not copied.
    assert batches >= 2 and devices == 4 and replicated == 0
    # 8 Adam steps: parameters agree to float32 reduction-order noise.
    assert float(diff) < 1e-4, diff
    assert float(lines["LOSS"]) < 1e-4


def test_batch_must_divide_across_devices():
    data = sg.augment(np.ones((8, 1)), np.ones(8))
    net = sg.MLPDenoiser(1, 1, width=8, depth=1, key=jr.key(0))
    import jax

    devices = [jax.devices()[0]] * 3
    with pytest.raises(ValueError, match="must be divisible by the number of devices"):
        sg.train(
            net,
            data,
            schedule=sg.VPSchedule(5),
            steps=1,
            batch_size=8,
            key=jr.key(0),
            devices=devices,
            progress=False,
        )


def test_bfloat16_compute_trains_close_to_float32():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2))
    data = sg.augment(x, np.exp(0.5 * x[:, 0]), rescale=True)
    net = sg.MLPDenoiser(2, 1, width=32, depth=2, key=jr.key(0))
    kw = dict(
        schedule=sg.VPSchedule(5),
        steps=200,
        batch_size=64,
        key=jr.key(1),
        progress=False,
        steps_per_chunk=100,
    )
    f32 = sg.train(net, data, **kw)
    bf16 = sg.train(net, data, compute_dtype="bfloat16", **kw)
    leaf = bf16.state.network.layers[0].weight
    assert leaf.dtype == np.float32  # master weights stay float32
    # Same trajectory up to bf16 rounding: final chunk losses within 10% of each other.
    assert abs(bf16.history.loss[-1] - f32.history.loss[-1]) < 0.1 * f32.history.loss[-1]

import json
import os
import struct

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide import _checkpoint

SCHEDULE = sg.VPSchedule(num_steps=5)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 2))
    data = sg.augment(x, np.exp(x[:, 0]), rescale=True)
    net = sg.ResNetDenoiser(
        2,
        1,
        cond_dim=0,
        width=16,
        num_blocks=2,
        weight_head_at=1,
        weight_head_hidden=8,
        key=jr.key(0),
    )
    path = tmp_path_factory.mktemp("ckpt") / "model.ckpt"
    result = sg.train(
        net,
        data,
        schedule=SCHEDULE,
        steps=10,
        batch_size=16,
        key=jr.key(1),
        checkpoint=path,
        progress=False,
        steps_per_chunk=5,
    )
    return result, path


def test_load_model_round_trip(run):
    result, path = run
    loaded = sg.load_model(path)
    kw = dict(num=16, guidance=sg.SelfWeightedGuidance(1.0), key=jr.key(2))
    a, b = sg.sample(result.model, SCHEDULE, **kw), sg.sample(loaded, SCHEDULE, **kw)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.w, b.w)  # the weight units travel with the model
    assert loaded.data_dim == 2 and loaded.weight_dim == 1 and loaded.cond_dim == 0


def test_header_records_configuration(run):
    _, path = run
    header, _ = _checkpoint.read_header(path)
    assert header["version"] == _checkpoint.FORMAT_VERSION and header["step"] == 10
    net = header["meta"]["network"]
    assert net["class"] == "ResNetDenoiser" and net["width"] == 16 and net["weight_head_at"] == 1
    assert net["weight_head_hidden"] == 8 and net["activation"] in ("silu", "swish")
    assert [h[0] for h in header["history"]] == [5, 10]


def test_custom_network_needs_like(tmp_path):
    class Custom(eqx.Module):
        lin: eqx.nn.Linear

        def __call__(self, z, t, cond=None, *, key=None):
            return self.lin(jnp.concatenate([z, t[None]]))

    data = sg.augment(np.ones((8, 1)), np.ones(8))
    path = tmp_path / "c.ckpt"
    sg.train(
        Custom(eqx.nn.Linear(3, 2, key=jr.key(0))),
        data,
        schedule=SCHEDULE,
        steps=2,
        batch_size=4,
        key=jr.key(0),
        checkpoint=path,
        progress=False,
    )
    with pytest.raises(sg.CheckpointError, match="pass like="):
        sg.load_model(path)
    model = sg.load_model(path, like=Custom(eqx.nn.Linear(3, 2, key=jr.key(5))))
    assert isinstance(model.network, Custom)
    with pytest.raises(sg.CheckpointError, match="does not match the expected structure"):
        sg.load_model(path, like=Custom(eqx.nn.Linear(4, 2, key=jr.key(5))))


def _rewrite(path, dest, mutate_header=None, mutate_bytes=None):
    data = bytearray(path.read_bytes())
    if mutate_header is not None:
        offset = len(_checkpoint.MAGIC)
        (n,) = struct.unpack_from("<Q", data, offset)
        header = json.loads(data[offset + 8 : offset + 8 + n])
        mutate_header(header)
        head = json.dumps(header).encode()
        data = data[:offset] + struct.pack("<Q", len(head)) + head + data[offset + 8 + n :]
    if mutate_bytes is not None:
        mutate_bytes(data)
    dest.write_bytes(bytes(data))
    return dest


def test_corrupt_checkpoint(run, tmp_path):
    _, path = run

    def flip(data):
        data[-10] ^= 0xFF

    bad = _rewrite(path, tmp_path / "flipped.ckpt", mutate_bytes=flip)
    with pytest.raises(sg.CheckpointError, match="is corrupt: segment .*checksum mismatch"):
        sg.load_model(bad)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(sg.CheckpointError, match="truncated or altered"):
        sg.load_model(truncated)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(sg.CheckpointError, match="not a selfguide checkpoint"):
        sg.load_model(junk)
    garbled = tmp_path / "garbled.ckpt"
    garbled.write_bytes(_checkpoint.MAGIC + struct.pack("<Q", 5) + b"{nope")
    with pytest.raises(sg.CheckpointError, match="unreadable header"):
        sg.load_model(garbled)
    with pytest.raises(sg.CheckpointError, match="does not exist"):
        sg.load_model(tmp_path / "missing.ckpt")


def test_wrong_version(run, tmp_path):
    _, path = run
    bad = _rewrite(path, tmp_path / "v99.ckpt", mutate_header=lambda h: h.update(version=99))
    with pytest.raises(
        sg.CheckpointError, match="format version 99; this selfguide reads version 2"
    ):
        sg.load_model(bad)


def test_version_1_files_are_migrated(run, tmp_path):
    """A version 1 training file, written before the weight parametrisation was recorded,
    reads as a noise-predicting (`"eps"`) model and resumes only as one."""
    result, path = run

    def as_v1(header):
        header.update(version=1)
        header["meta"].pop("weight_output")

    old = _rewrite(path, tmp_path / "v1.ckpt", mutate_header=as_v1)
    assert sg.load_model(old).weight_output == sg.NoiseWeights()
    assert _checkpoint.read_header(old)[0]["version"] == 2
    z, t = jnp.asarray([0.1, -0.2, 0.5]), jnp.asarray(0.5)
    np.testing.assert_array_equal(  # the same arrays, read as the other parametrisation
        sg.load_model(old).network(z, t), sg.load_model(path).network(z, t)
    )


def test_write_is_atomic(run, tmp_path, monkeypatch):
    result, path = run
    target = tmp_path / "atomic.ckpt"
    target.write_bytes(path.read_bytes())
    before = target.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        _checkpoint.write_checkpoint(target, {"kind": "training"}, {"model": result.model})
    assert target.read_bytes() == before  # the old checkpoint survives
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.ckpt"]  # no temp file left

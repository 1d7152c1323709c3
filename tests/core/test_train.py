import os
import signal
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

import selfguide as sg
from selfguide._speed._philox import philox_key
from selfguide.training import _loop

SCHEDULE = sg.VPSchedule(num_steps=15)


def _bimodal(n=4000, seed=0):
    """Modes at ±2 (std 0.3), equally likely; w = 1 on the left, 3 on the right.

    Exact targets for the right-mode mass: q → 0.5, w q → 0.75, w² q → 0.9.
    """
    rng = np.random.default_rng(seed)
    right = rng.integers(0, 2, n)
    x = np.where(right == 1, 2.0, -2.0)[:, None] + 0.3 * rng.standard_normal((n, 1))
    return x, np.where(right == 1, 3.0, 1.0)


def _small_net(key=0, **kw):
    return sg.MLPDenoiser(1, 1, width=64, depth=3, key=jr.key(key), **kw)


@pytest.fixture(scope="session")
def trained():
    x, w = _bimodal()
    data = sg.augment(x, w, rescale=True)
    return sg.train(
        _small_net(),
        data,
        schedule=SCHEDULE,
        steps=3000,
        batch_size=256,
        key=jr.key(1),
        progress=False,
    )


def test_swg_moves_mass_by_the_right_amount(trained):
    right = {}
    for scale in [0.0, 1.0, 2.0]:
        s = sg.sample(
            trained.model,
            SCHEDULE,
            num=4000,
            guidance=sg.SelfWeightedGuidance(scale),
            key=jr.key(2),
        )
        right[scale] = float(jnp.mean(s.x[:, 0] > 0))
    # Tolerance 0.05: sampling SE ≈ 0.007, the rest is the error of a 3000-step model
    # (measured 0.52 / 0.73 / 0.87 against 0.5 / 0.75 / 0.9).
    assert right[0.0] == pytest.approx(0.5, abs=0.05)
    assert right[1.0] == pytest.approx(0.75, abs=0.05)
    assert right[2.0] == pytest.approx(0.9, abs=0.05)
    assert right[0.0] < right[1.0] < right[2.0]


def test_sampled_weights_are_in_user_units(trained):
    model = trained.model
    assert float(model.units.scale[0]) == pytest.approx(3.0)  # rescale=True divided by max w
    s = sg.sample(model, SCHEDULE, num=2000, key=jr.key(3))
    raw_model = sg.JointModel(model.network, 1, 1, weight_output=model.weight_output)
    raw = sg.sample(raw_model, SCHEDULE, num=2000, key=jr.key(3))
    np.testing.assert_allclose(s.w, 3.0 * raw.w, rtol=1e-6)
    right = np.asarray(s.x[:, 0]) > 0
    w = np.asarray(s.w[:, 0])
    # A 3000-step model samples its weight channel only roughly (measured medians 2.7 and 1.3
    # against the true 3 and 1); the mapping above is exact, the ordering must be clear.
    assert np.median(w[right]) > 1.5 * np.median(w[~right])


def test_history(trained):
    h = trained.history
    assert h.step.tolist() == [1000, 2000, 3000]
    assert h.loss.shape == h.data_loss.shape == h.weight_loss.shape == (3,)
    assert h.data_loss[-1] < h.data_loss[0] and h.weight_loss[-1] < h.weight_loss[0]
    assert set(h.as_dict()) == {"step", "loss", "data_loss", "weight_loss", "seconds"}


def _tiny_run(**kw):
    x, w = _bimodal(200)
    data = sg.augment(x, w)
    net = sg.MLPDenoiser(1, 1, width=16, depth=2, key=jr.key(0))
    args = dict(
        schedule=SCHEDULE, steps=20, batch_size=32, key=jr.key(5), progress=False, steps_per_chunk=5
    )
    return sg.train(net, data, **{**args, **kw})


def _params(result):
    return jax.tree.leaves(eqx.filter(result.state, eqx.is_inexact_array))


def test_same_key_same_model():
    a, b, c = _tiny_run(), _tiny_run(), _tiny_run(key=jr.key(6))
    for pa, pb in zip(_params(a), _params(b), strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert not all(np.allclose(pa, pc) for pa, pc in zip(_params(a), _params(c), strict=True))


def test_callers_network_survives_training():
    """Training donates its own state's buffers, never the network the caller passed in."""
    x, w = _bimodal(200)
    net = sg.MLPDenoiser(1, 1, width=16, depth=2, key=jr.key(0))
    before = net(jnp.ones(2), jnp.asarray(0.5))
    sg.fit(
        net,
        sg.augment(x, w),
        schedule=SCHEDULE,
        steps=4,
        batch_size=8,
        key=jr.key(1),
        progress=False,
        steps_per_chunk=2,
    )
    np.testing.assert_array_equal(net(jnp.ones(2), jnp.asarray(0.5)), before)


def test_on_chunk_sees_the_ema_model_so_far_and_changes_nothing(tmp_path):
    seen = []

    def on_chunk(step, model):
        # The checkpoint of this chunk is already written when the callback runs.
        assert sg.load_model(tmp_path / "ckpt").data_dim == model.data_dim
        seen.append((step, model))

    plain = _tiny_run()
    watched = _tiny_run(on_chunk=on_chunk, checkpoint=tmp_path / "ckpt")
    assert [s for s, _ in seen] == [5, 10, 15, 20]
    for a, b in zip(_params(plain), _params(watched), strict=True):
        np.testing.assert_array_equal(a, b)
    # The last model seen is the returned EMA; earlier ones differ from it (and still hold
    # their own arrays: the next chunk did not take them over).
    final = eqx.filter(watched.model, eqx.is_inexact_array)
    for a, b in zip(jax.tree.leaves(eqx.filter(seen[-1][1], eqx.is_inexact_array)),
                    jax.tree.leaves(final), strict=True):
        np.testing.assert_array_equal(a, b)
    first = jax.tree.leaves(eqx.filter(seen[0][1], eqx.is_inexact_array))
    assert not all(np.array_equal(a, b) for a, b in zip(first, jax.tree.leaves(final),
                                                         strict=True))
    with pytest.raises(TypeError, match="parameter 'on_chunk'"):
        _tiny_run(on_chunk=3)


def test_scan_chunks_equal_step_by_step():
    """One scanned chunk of 20 steps equals 20 separate one-step calls."""
    scanned, stepped = _tiny_run(steps_per_chunk=20), _tiny_run(steps_per_chunk=1)
    for a, b in zip(_params(scanned), _params(stepped), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_resume_after_interruption_matches_uninterrupted(tmp_path, monkeypatch):
    reference = _tiny_run()
    path = tmp_path / "run.ckpt"
    calls = {"n": 0}
    original = _loop.run_chunk

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(_loop, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _tiny_run(checkpoint=path)
    monkeypatch.setattr(_loop, "run_chunk", original)
    header, _ = sg._checkpoint.read_header(path)
    assert header["step"] == 10  # two chunks of five were saved
    resumed = _tiny_run(checkpoint=path)
    assert resumed.history.step.tolist() == [5, 10, 15, 20]
    for a, b in zip(_params(reference), _params(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


def _ctrl_c_during_chunk(monkeypatch, at_chunk: int, presses: int):
    """Send `presses` real SIGINTs to this process while chunk `at_chunk` runs."""
    original, calls = _loop.run_chunk, {"n": 0}

    def chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at_chunk:
            for _ in range(presses):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler runs at the next bytecode of this thread
        return original(*args, **kwargs)

    monkeypatch.setattr(_loop, "run_chunk", chunk)


def test_ctrl_c_finishes_the_chunk_and_saves_it(tmp_path, monkeypatch, capfd):
    """One Ctrl-C during chunk 2 (of 4): the loop stops after it, the checkpoint holds its
    step, and the same call continues to the uninterrupted result."""
    path = tmp_path / "run.ckpt"
    _ctrl_c_during_chunk(monkeypatch, at_chunk=2, presses=1)
    with pytest.raises(sg.TrainingInterrupted) as info:
        _tiny_run(checkpoint=path)
    assert (info.value.step, info.value.saved_step) == (10, 10)
    assert "stopping after this chunk; Ctrl-C again stops at once" in capfd.readouterr().err
    assert sg._checkpoint.read_header(path)[0]["step"] == 10
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    monkeypatch.undo()
    resumed = _tiny_run(checkpoint=path)
    for a, b in zip(_params(_tiny_run()), _params(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


def test_second_ctrl_c_stops_at_once(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    _ctrl_c_during_chunk(monkeypatch, at_chunk=2, presses=2)
    with pytest.raises(sg.TrainingInterrupted) as info:
        _tiny_run(checkpoint=path)
    assert (info.value.step, info.value.saved_step) == (5, 5)  # chunk 2 never finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_resume_with_other_key_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    _tiny_run(checkpoint=path, steps=10)
    with pytest.raises(sg.CheckpointError, match="different PRNG key"):
        _tiny_run(checkpoint=path, steps=10, key=jr.key(99))
    with pytest.raises(sg.CheckpointError, match="other settings \\(steps: 10 → 20\\)"):
        _tiny_run(checkpoint=path, steps=20)


def test_conditional_fit_and_batched_sampling():
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, 512).astype(float)[:, None]
    x = (2 * c - 1) * 2 + 0.2 * rng.standard_normal((512, 1))
    data = sg.augment(x, np.ones(512))
    net = sg.MLPDenoiser(1, 1, cond_dim=1, width=32, depth=2, key=jr.key(0))
    model = sg.fit(
        net,
        data,
        cond=c,
        schedule=SCHEDULE,
        steps=1000,
        batch_size=128,
        optimizer=optax.adam(2e-3),
        key=jr.key(1),
        progress=False,
    )
    s = sg.sample(model, SCHEDULE, cond=np.array([[0.0], [1.0]]), num=200, key=jr.key(2))
    assert s.x.shape == (2, 200, 1) and s.w.shape == (2, 200, 1)
    assert float(s.x[0].mean()) < -1.0 < 1.0 < float(s.x[1].mean())
    one = sg.sample(model, SCHEDULE, cond=np.array([[0.0], [1.0], [1.0]]), key=jr.key(2))
    assert one.x.shape == (3, 1)
    single = sg.sample(model, SCHEDULE, cond=np.array([1.0]), num=5, key=jr.key(2))
    assert single.x.shape == (5, 1)
    with pytest.raises(
        ValueError, match=r"`cond` must have shape \(1,\) or \(B, 1\), got \(2, 3\)"
    ):
        sg.sample(model, SCHEDULE, cond=np.ones((2, 3)), key=jr.key(0))
    with pytest.raises(ValueError, match="needs a conditioning vector of size 1"):
        sg.sample(model, SCHEDULE, num=2, key=jr.key(0))


class TinyCustom(eqx.Module):
    """A user network with the documented call signature and nothing else."""

    mlp: eqx.nn.MLP

    def __call__(self, z, t, cond=None, *, key=None):
        return self.mlp(jnp.concatenate([z, jnp.atleast_1d(t)]))


def test_custom_module_works():
    x, w = _bimodal(200)
    data = sg.augment(x, w)
    net = TinyCustom(eqx.nn.MLP(3, 2, 16, 2, key=jr.key(0)))
    model = sg.fit(
        net, data, schedule=SCHEDULE, steps=50, batch_size=32, key=jr.key(1), progress=False
    )
    assert isinstance(model, sg.JointModel) and model.network.__class__ is TinyCustom
    s = sg.sample(model, SCHEDULE, num=8, guidance=sg.SelfWeightedGuidance(1.0), key=jr.key(2))
    assert s.x.shape == (8, 1) and bool(jnp.all(jnp.isfinite(s.x)))


def test_bad_fit_input():
    x, w = _bimodal(100)
    data = sg.augment(x, w)
    kw = dict(schedule=SCHEDULE, steps=1, key=jr.key(0), progress=False)
    net_c = sg.MLPDenoiser(1, 1, cond_dim=2, width=8, depth=1, key=jr.key(0))
    with pytest.raises(ValueError, match=r"pass cond=\.\.\. of shape \(N, 2\)"):
        sg.fit(net_c, data, **kw)
    with pytest.raises(ValueError, match=r"with N = 100 \(one row per data point\), got \(99, 2\)"):
        sg.fit(net_c, data, cond=np.ones((99, 2)), **kw)
    with pytest.raises(ValueError, match="expects conditioning vectors of size 2, got 3"):
        sg.fit(net_c, data, cond=np.ones((100, 3)), **kw)
    net = sg.MLPDenoiser(2, 1, width=8, depth=1, key=jr.key(0))
    with pytest.raises(ValueError, match="network has data_dim=2 but the data has 1"):
        sg.fit(net, data, **kw)
    with pytest.raises(TypeError, match="AugmentedData"):
        sg.fit(_small_net(), np.ones((10, 2)), **kw)
    with pytest.raises(ValueError, match="loss_weights must be 2 non-negative numbers"):
        sg.fit(_small_net(), data, loss_weights=[1.0, 1.0, 1.0], **kw)
    with pytest.raises(ValueError, match="`steps` must be >= 0, got -1"):
        sg.fit(_small_net(), data, **{**kw, "steps": -1})


def test_train_equals_reference_python_loop():
    """`train` (scanned chunks, donation, fused EMA) equals a plain step-by-step loop written
    here from the documented pieces: the loss, optax, and the EMA rule."""
    x, w = _bimodal(200)
    data = sg.augment(x, w)
    net = sg.MLPDenoiser(1, 1, width=16, depth=2, key=jr.key(0))
    key, steps, batch = jr.key(5), 12, 32
    optimizer = sg.default_optimizer(steps)
    result = sg.train(
        net,
        data,
        schedule=SCHEDULE,
        steps=steps,
        batch_size=batch,
        key=key,
        progress=False,
        steps_per_chunk=4,
        weight_output="eps",  # the reference loop below uses diffusion_loss's default
    )

    params, rest = eqx.partition(net, eqx.is_inexact_array)
    opt_state, ema = optimizer.init(params), params
    lw = jnp.ones(2)

    @jax.jit
    @jax.grad
    def gradient(p, z, k):
        net = eqx.combine(p, rest)
        return sg.diffusion_loss(net, SCHEDULE, z, None, lw, 1, key=k, platform="cpu")[0]

    for k in range(steps):
        k_batch, k_loss = jr.split(jr.fold_in(key, k))
        idx = jr.randint(k_batch, (batch,), 0, len(data))
        # train draws its noise from Philox keys
        grads = gradient(params, data.z[idx], philox_key(k_loss))
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        d = min(0.999, (1 + k) / (10 + k))
        ema = jax.tree.map(lambda e, p, d=d: e + (1 - d) * (p - e), ema, params)
    trained = eqx.filter(result.state.network, eqx.is_inexact_array)
    for a, b in zip(jax.tree.leaves(trained), jax.tree.leaves(params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(result.state.ema), jax.tree.leaves(ema), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "weight_output",
    ["eps", "denoised", "log", sg.NoiseWeights(), sg.DenoisedWeights(), sg.LogWeights()],
)
def test_weight_output_sets_the_weight_target(weight_output):
    """With a network that outputs zeros the loss is the mean square of the target: the noise
    on the data channels, and the noise or the clean weights on the weight channels; for
    log weights, the divergence of `exp(0) = 1` from the weights, `1 + w log w − w`."""
    from selfguide._loss import diffusion_loss

    z0 = jnp.asarray([[0.5, 3.0], [-1.0, 2.0], [0.2, 4.0]])
    zero = lambda z, t, cond, key=None: jnp.zeros_like(z)
    key = jr.key(0)
    _, (_, weight_mse) = diffusion_loss(
        zero, SCHEDULE, z0, None, jnp.ones(2), 1, key=key, weight_output=weight_output
    )
    eps = jr.normal(jr.split(key, 3)[1], z0.shape)  # the loss's noise draw, from `key` itself
    if weight_output in ("log", sg.LogWeights()):
        w = z0[:, 1]
        np.testing.assert_allclose(weight_mse, jnp.mean(1 + w * jnp.log(w) - w), rtol=1e-6)
        return
    denoised = weight_output in ("denoised", sg.DenoisedWeights())
    expected = z0[:, 1] if denoised else eps[:, 1]
    np.testing.assert_allclose(weight_mse, jnp.mean(expected**2), rtol=1e-6)


def test_log_weights_learn_the_conditional_mean():
    """The divergence `LogWeights` trains with is zero at `ŵ = w`, positive elsewhere, and
    its expectation over a two-point weight (1 with probability 1e-3, else 4.5e-5: the
    contrast of a tilted toy at β = 10) is smallest at the mean, in the log: the same
    quantity the squared error learns, for weights four orders of magnitude apart."""
    log = sg.LogWeights()
    w = jnp.asarray([1.0, 4.5e-5])
    p = jnp.asarray([1e-3, 1 - 1e-3])
    np.testing.assert_allclose(log.error(jnp.log(w), w, w), 0.0, atol=1e-10)
    assert float(jnp.min(log.error(jnp.log(w) + 0.1, w, w))) > 0
    expected = lambda h: p @ log.error(jnp.full(2, h), w, w)
    grid = jnp.linspace(-12.0, 0.0, 12001)
    best = grid[jnp.argmin(jax.vmap(expected)(grid))]
    np.testing.assert_allclose(best, jnp.log(p @ w), atol=2e-3)
    np.testing.assert_allclose(jax.grad(expected)(jnp.log(p @ w)), 0.0, atol=1e-6)
    # A zero weight is the limit out → −∞: finite loss, gradient exp(out) > 0.
    assert float(log.error(jnp.asarray(-3.0), 0.0, jnp.asarray(0.0))) == pytest.approx(
        np.exp(-3.0), rel=1e-6
    )


@pytest.mark.parametrize(
    ("name", "output"), [("denoised", sg.DenoisedWeights()), ("log", sg.LogWeights())]
)
def test_weight_outputs_survive_checkpoint_and_resume(tmp_path, name, output):
    path = tmp_path / "run.ckpt"
    result = _tiny_run(checkpoint=path, weight_output=name)
    loaded = sg.load_model(path)
    assert result.model.weight_output == loaded.weight_output == output
    z, t = jnp.asarray([0.3, 0.7]), jnp.asarray(0.6)
    np.testing.assert_allclose(
        loaded.eps(z, t, None, SCHEDULE), result.model.eps(z, t, None, SCHEDULE), rtol=1e-6
    )
    if name == "log":  # exp of the output: positive wherever the network is evaluated
        assert float(loaded.eps_and_weights(z, t, None, SCHEDULE)[1][0]) > 0
    with pytest.raises(sg.CheckpointError, match=f"weight_output: '{name}' → 'eps'"):
        _tiny_run(checkpoint=path, weight_output="eps")
    with pytest.raises(ValueError, match="weight_output must be"):
        _tiny_run(weight_output="x0")


def test_compiled_sample_with_batched_conditions():
    rng = np.random.default_rng(0)
    data = sg.augment(rng.normal(size=(64, 2)), rng.uniform(0.1, 1, 64))
    net = sg.MLPDenoiser(2, 1, cond_dim=3, width=16, depth=2, key=jr.key(0))
    model = sg.JointModel(net, 2, 1, 3, data.units)
    cond = jnp.asarray(rng.normal(size=(5, 3)), dtype=jnp.float32)
    guidance = sg.SelfWeightedGuidance(2.0)
    fn = sg.compile_sample(model, SCHEDULE, cond=cond, guidance=guidance)
    got = fn(np.asarray(cond), key=jr.key(1))
    expected = sg.sample(model, SCHEDULE, cond=cond, guidance=guidance, key=jr.key(1))
    assert got.x.shape == (5, 2)
    np.testing.assert_allclose(got.x, expected.x, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"expected cond of shape \(5, 3\)"):
        fn(cond[:2], key=jr.key(1))


def test_fit_takes_exactly_trains_arguments():
    """`fit` spells out `train`'s signature (for help and editors); the two never drift."""
    import inspect

    fit, train = inspect.signature(sg.fit), inspect.signature(sg.train)
    assert fit.parameters == train.parameters
    assert fit.return_annotation is sg.JointModel

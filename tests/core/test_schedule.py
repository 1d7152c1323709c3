import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import selfguide as sg


@pytest.mark.parametrize("T", [5, 15, 100])
def test_vp_matches_reference_formula(T):
    # Reference (IDQL/SWG): α_t = exp(−b_min/T − ½(b_max − b_min)(2t − 1)/T²), ᾱ = ∏ α.
    k = np.arange(1, T + 1)
    alphas = np.exp(-0.1 / T - 0.5 * 9.9 * (2 * k - 1) / T**2)
    schedule = sg.VPSchedule(num_steps=T)
    np.testing.assert_allclose(schedule.betas(), 1 - alphas, rtol=1e-5, atol=1e-7)
    ab = np.exp([float(schedule.log_alpha_bar(i / T)) for i in k])
    np.testing.assert_allclose(ab, np.cumprod(alphas), rtol=1e-5)


def test_cosine_matches_nichol_dhariwal():
    T, s = 100, 0.008
    schedule = sg.CosineSchedule(num_steps=T, min_alpha_bar=1e-9)
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    for t in [1, 10, 50, 90]:
        expected = f(t) / f(0)
        alpha, sigma = schedule.alpha_sigma(t / T)
        assert float(alpha) ** 2 == pytest.approx(expected, rel=1e-4, abs=1e-8)
        assert float(sigma) ** 2 == pytest.approx(1 - expected, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize(
    "schedule", [sg.VPSchedule(), sg.CosineSchedule(), sg.LinearVPSchedule()], ids=repr
)
def test_variance_preserving_and_monotone(schedule):
    t = jnp.linspace(0.0, 1.0, 101)
    alpha, sigma = jax.vmap(schedule.alpha_sigma)(t)
    np.testing.assert_allclose(alpha**2 + sigma**2, 1.0, atol=1e-5)
    assert float(alpha[0]) == pytest.approx(1.0)
    assert bool(jnp.all(jnp.diff(alpha) < 0))


def test_continuous_vp_drift_and_diffusion():
    schedule = sg.LinearVPSchedule(beta_min=0.1, beta_max=20.0)
    for t in [0.1, 0.5, 0.9]:
        beta = 0.1 + t * (20.0 - 0.1)
        f, g2 = schedule.drift_diffusion(t)
        assert float(f) == pytest.approx(-0.5 * beta, rel=1e-5)
        assert float(g2) == pytest.approx(beta, rel=1e-5)


def test_training_times():
    key = jax.random.key(0)
    t = sg.VPSchedule(num_steps=5).training_times(key, (10_000,))
    assert set(np.round(np.asarray(t) * 5).astype(int).tolist()) == {1, 2, 3, 4, 5}
    tc = sg.LinearVPSchedule().training_times(key, (10_000,))
    assert float(tc.min()) >= 1e-3 and float(tc.max()) <= 1.0
    assert len(np.unique(np.asarray(tc))) > 9000


def test_sampling_times():
    np.testing.assert_allclose(sg.VPSchedule(num_steps=4).sampling_times(), [1, 0.75, 0.5, 0.25, 0])
    assert sg.LinearVPSchedule().sampling_times(10).shape == (11,)


@pytest.mark.parametrize("bad", [0, -3])
def test_num_steps_must_be_positive(bad):
    with pytest.raises(ValueError, match="num_steps must be >= 1"):
        sg.VPSchedule(num_steps=bad)
    with pytest.raises(ValueError, match="num_steps must be >= 1"):
        sg.CosineSchedule(num_steps=bad)
    with pytest.raises(ValueError, match="num_steps must be >= 1"):
        sg.DDPMSampler(num_steps=bad)


def test_num_steps_type():
    with pytest.raises(TypeError, match="num_steps"):
        sg.VPSchedule(num_steps=2.5)


def test_continuous_schedule_needs_sampler_steps():
    with pytest.raises(ValueError, match="sampler must say how many steps"):
        sg.LinearVPSchedule().sampling_times()
    with pytest.raises(ValueError, match="discrete schedules only"):
        sg.LinearVPSchedule().betas()


def test_bad_beta_range():
    with pytest.raises(ValueError, match="beta_min < beta_max"):
        sg.VPSchedule(beta_min=5.0, beta_max=1.0)


@pytest.mark.parametrize(
    "make", [sg.LinearVPSchedule, lambda **kw: sg.CosineSchedule(num_steps=None, **kw)]
)
def test_time_power_shapes_continuous_training_times(make):
    # τ = m + (1 − m) u^p: P(τ ≤ m + (1 − m) s) = s^{1/p}, so with p = 2 the quantiles of the
    # draws' (τ − m)/(1 − m) are q², and the first moment is 1/(p + 1) = 1/3.
    key = jax.random.key(3)
    uniform = make().training_times(key, (200_000,))
    powered = make(time_power=2.0).training_times(key, (200_000,))
    m = 1e-3
    s = (np.asarray(powered) - m) / (1 - m)
    assert float(powered.min()) >= m and float(powered.max()) <= 1.0
    assert s.mean() == pytest.approx(1 / 3, abs=3e-3)
    np.testing.assert_allclose(np.quantile(s, [0.1, 0.5, 0.9]), [0.01, 0.25, 0.81], atol=5e-3)
    # The default keeps uniform draws: mean 1/2.
    assert float(((uniform - m) / (1 - m)).mean()) == pytest.approx(0.5, abs=3e-3)


def test_time_power_checks():
    with pytest.raises(ValueError, match="time_power must be > 0"):
        sg.LinearVPSchedule(time_power=0.0)
    with pytest.raises(ValueError, match="discrete .*num_steps=None"):
        sg.VPSchedule(num_steps=15, time_power=2.0)
    with pytest.raises(ValueError, match="discrete"):
        sg.CosineSchedule(num_steps=100, time_power=0.5)

"""Self-weighted guidance against exact tilted targets.

The oracle's weight channel makes the model's Tweedie estimate `ŵ_0` equal the exact
`E[exp(bᵀx_0) | x_t]`, so guidance at ρ = 1 must sample `exp(bᵀx) q(x)` exactly: a Gaussian
mixture whose component k moves to `μ_k + s_k² b` with weight `∝ π_k exp(bᵀμ_k + ½ s_k² |b|²)`.
"""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide.testing import mode_frequencies, nearest_mode

from ..tracing import traces
from .oracles import oracle

N = 4000
SCHEDULE = sg.VPSchedule(num_steps=100, beta_max=20.0)
CONT = sg.LinearVPSchedule(beta_max=20.0)
MEANS = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]
STDS = [0.5, 0.5, 0.4]
PROBS = [0.45, 0.45, 0.1]
TILTS = [[0.5, 0.0], [0.0, 0.8]]


def _model(schedule):
    return sg.JointModel(oracle(MEANS, STDS, PROBS, TILTS, schedule), 2, 2)


def _check_target(x, target_means, target_probs, *, atol_p=0.025, atol_mu=0.06):
    means = np.asarray(MEANS)
    modes = nearest_mode(x, means)
    freq = np.bincount(modes, minlength=len(means)) / len(x)
    m = len(means)
    # The exact tilted mixture has one (shifted) copy of each component per term; sum them.
    probs = target_probs.reshape(-1, m).sum(0)
    np.testing.assert_allclose(freq, probs, atol=atol_p)
    for k in range(m):
        if probs[k] > 0.2:
            expected = (
                target_probs.reshape(-1, m)[:, k, None] * target_means.reshape(-1, m, 2)[:, k]
            ).sum(0) / probs[k]
            np.testing.assert_allclose(x[modes == k].mean(0), expected, atol=atol_mu)


@pytest.mark.parametrize(
    ("sampler", "schedule"),
    [
        (sg.DDPMSampler(), SCHEDULE),
        (sg.DDIMSampler(), SCHEDULE),
        (sg.ODESampler(), CONT),
        (sg.ODESampler(dfx.Heun(), dfx.ConstantStepSize(), num_steps=100), CONT),
    ],
    ids=["ddpm", "ddim", "ode-tsit5", "ode-heun"],
)
def test_scale_one_hits_tilted_target(sampler, schedule):
    model = _model(schedule)
    s = sg.sample(
        model,
        schedule,
        num=N,
        guidance=sg.SelfWeightedGuidance(1.0),
        sampler=sampler,
        key=jr.key(0),
    )
    target_means, _, target_probs = model.network.tilted(1)
    # Binomial SE of a mode frequency ≤ 0.008 (3 SE = 0.025); mean SE ≈ 0.5/√1500 ≈ 0.013.
    _check_target(np.asarray(s.x), target_means, target_probs)


def test_scale_two_on_gaussian_is_exact():
    """For one Gaussian, ∇log E[w|x_t] is linear, so ρ = 2 gives exactly w² q."""
    g = sg.JointModel(oracle([[0.0, 0.0]], [0.8], [1.0], [[0.5, -0.25]], SCHEDULE), 2, 1)
    s = sg.sample(g, SCHEDULE, num=N, guidance=sg.SelfWeightedGuidance(2.0), key=jr.key(1))
    # w² q = N(2 s² b, s²): mean (0.64, -0.32); 5 SE = 5·0.8/√4000 ≈ 0.063.
    np.testing.assert_allclose(np.asarray(s.x).mean(0), [0.64, -0.32], atol=0.065)
    np.testing.assert_allclose(np.asarray(s.x).std(0), [0.8, 0.8], atol=0.04)


def test_scale_two_on_mixture_sharpens_toward_w_squared():
    """On a mixture, ρ = 2 follows the guided score, not E[w²|x_t]: close to w² q, not equal."""
    model = _model(SCHEDULE)
    s = sg.sample(model, SCHEDULE, num=N, guidance=sg.SelfWeightedGuidance(2.0), key=jr.key(2))
    _, _, p2 = model.network.tilted(2)
    _, _, p1 = model.network.tilted(1)
    freq = mode_frequencies(np.asarray(s.x), np.asarray(MEANS))
    right2, right1 = p2.reshape(-1, 3).sum(0)[1], p1.reshape(-1, 3).sum(0)[1]
    assert right1 + 0.03 < freq[1]  # sharper than ρ = 1
    assert abs(freq[1] - right2) < 0.03  # and within 0.03 of w² q


def test_channel_mix_hits_mixture_of_tilts():
    model = _model(SCHEDULE)
    mix = np.array([0.3, 0.7])
    guidance = sg.SelfWeightedGuidance(1.0, channel=mix)
    s = sg.sample(model, SCHEDULE, num=N, guidance=guidance, key=jr.key(3))
    target_means, _, target_probs = model.network.tilted(1, mix=mix)
    _check_target(np.asarray(s.x), target_means, target_probs)


def test_second_channel():
    model = _model(SCHEDULE)
    s = sg.sample(
        model, SCHEDULE, num=N, guidance=sg.SelfWeightedGuidance(1.0, channel=1), key=jr.key(4)
    )
    target_means, _, target_probs = model.network.tilted(1, mix=[0.0, 1.0])
    _check_target(np.asarray(s.x), target_means, target_probs)


def test_guided_weight_channel_reports_user_units():
    network = oracle(MEANS, STDS, PROBS, TILTS, SCHEDULE)
    scale = jnp.asarray([10.0, 0.5])
    model = sg.JointModel(network, 2, 2, units=sg.WeightUnits(scale))
    s = sg.sample(model, SCHEDULE, num=500, key=jr.key(5))
    w_model = np.exp(np.asarray(s.x) @ np.asarray(TILTS).T)  # w(x) at the sample, model units
    np.testing.assert_allclose(np.median(np.asarray(s.w) / w_model, axis=0), scale, rtol=0.05)


def test_scale_change_does_not_recompile():
    model = _model(SCHEDULE)
    sampler = sg.DDPMSampler(num_steps=10)
    sg.sample(
        model,
        SCHEDULE,
        num=8,
        guidance=sg.SelfWeightedGuidance(1.0),
        sampler=sampler,
        key=jr.key(0),
    )
    with traces("_sample_rows") as seen:
        for scale in [0.0, 2.5, 7.0]:
            sg.sample(
                model,
                SCHEDULE,
                num=8,
                guidance=sg.SelfWeightedGuidance(scale),
                sampler=sg.DDPMSampler(num_steps=10, temperature=scale / 7),
                key=jr.key(1),
            )
    assert seen == []


def test_jit_matches_no_jit():
    model = _model(SCHEDULE)
    kw = dict(
        num=4,
        guidance=sg.SelfWeightedGuidance(1.5),
        sampler=sg.DDPMSampler(num_steps=2),
        key=jr.key(7),
    )
    jitted = sg.sample(model, SCHEDULE, **kw)
    with jax.disable_jit():
        eager = sg.sample(model, SCHEDULE, **kw)
    np.testing.assert_allclose(jitted.x, eager.x, rtol=1e-4, atol=1e-4)


def test_same_key_same_samples():
    model = _model(SCHEDULE)
    kw = dict(num=16, guidance=sg.SelfWeightedGuidance(1.0), sampler=sg.DDPMSampler(num_steps=10))
    a = sg.sample(model, SCHEDULE, key=jr.key(3), **kw)
    b = sg.sample(model, SCHEDULE, key=jr.key(3), **kw)
    c = sg.sample(model, SCHEDULE, key=jr.key(4), **kw)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.allclose(a.x, c.x)


def test_nan_safe_and_clipped_gradient():
    class Broken(sg.GaussianMixtureOracle):
        def __call__(self, z, t, cond=None, *, key=None):
            eps = super().__call__(z, t, cond, key=key)
            return eps.at[2].set(jnp.nan)  # weight channel prediction is NaN

    net = Broken(*(np.asarray(v, dtype=float) for v in (MEANS, STDS, PROBS, TILTS)), SCHEDULE)
    model = sg.JointModel(net, 2, 2)
    guided = sg.SelfWeightedGuidance(3.0)
    z = jnp.asarray([0.3, -0.2, 0.5, 0.5])
    eps = guided.eps(model, SCHEDULE, z, jnp.asarray(0.5), None)
    unguided = model.eps(z, jnp.asarray(0.5), None)
    assert bool(jnp.all(jnp.isfinite(eps[:2])))
    np.testing.assert_allclose(eps[:2], unguided[:2])  # NaN gradient replaced by zero

    # Clipping: ŵ_0 far below clip_min gives zero gradient (the clip's flat region).
    model2 = _model(SCHEDULE)
    tiny = sg.SelfWeightedGuidance(2.0, clip_min=1e6)
    eps2 = tiny.eps(model2, SCHEDULE, z, jnp.asarray(0.5), None)
    np.testing.assert_allclose(eps2, model2.eps(z, jnp.asarray(0.5), None))


def _best_of_groups(values: np.ndarray, group: int) -> np.ndarray:
    """The largest of each consecutive `group` values: what argmax over `group` independent
    candidates keeps."""
    return values.reshape(-1, group).max(axis=1)


def _agree_within_se(a: np.ndarray, b: np.ndarray, k: float = 4.0) -> bool:
    """Two independent sample means agree within `k` standard errors of their difference."""
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return abs(a.mean() - b.mean()) < k * se


def test_resampling_argmax_and_importance():
    model = _model(SCHEDULE)
    sampler = sg.DDPMSampler(num_steps=20)
    # argmax by a user score keeps the best of 8 candidates: the same law as the maximum of
    # 8 independent unguided draws of the same sampler.
    argmax = sg.Resampling(8, select=sg.Argmax(), score=lambda x, w, c: x[1])
    s = sg.sample(model, SCHEDULE, num=400, guidance=argmax, sampler=sampler, key=jr.key(0))
    base = np.asarray(sg.sample(model, SCHEDULE, num=8 * 400, sampler=sampler, key=jr.key(3)).x)
    picked, best = np.asarray(s.x[:, 1]), _best_of_groups(base[:, 1], 8)
    assert _agree_within_se(picked, best)
    se = np.sqrt(picked.var(ddof=1) / len(picked) + base[:, 1].var(ddof=1) / len(base))
    assert picked.mean() > base[:, 1].mean() + 8 * se  # and the selection really moves them
    # softmax at temperature 1 on the sampled weight: importance resampling q → w q.
    imp = sg.Resampling(64, select=sg.Softmax(1.0), channel=0)
    r = sg.sample(
        model, SCHEDULE, num=1000, guidance=imp, sampler=sg.DDPMSampler(num_steps=50), key=jr.key(1)
    )
    _, _, p1 = model.network.tilted(1)
    freq = mode_frequencies(np.asarray(r.x), np.asarray(MEANS))
    # Self-normalised importance resampling with 64 candidates: bias O(1/64) plus SE 0.01.
    assert abs(freq[1] - p1.reshape(-1, 3).sum(0)[1]) < 0.05


def test_resampling_wraps_guidance_swg_r():
    model = _model(SCHEDULE)
    swg_r = sg.Resampling(
        4,
        guidance=sg.SelfWeightedGuidance(1.0),
        select=sg.Argmax(),
        score=lambda x, w, c: -jnp.sum((x - jnp.asarray([2.0, 0.0])) ** 2),
    )
    sampler = sg.DDPMSampler(num_steps=20)
    s = sg.sample(model, SCHEDULE, num=400, guidance=swg_r, sampler=sampler, key=jr.key(2))
    # The reference: the best of 4 independent draws of guided sampling alone.
    guided = sg.sample(
        model, SCHEDULE, num=4 * 400, guidance=sg.SelfWeightedGuidance(1.0), sampler=sampler,
        key=jr.key(4),
    )
    closeness = lambda x: -np.linalg.norm(np.asarray(x) - np.asarray([2.0, 0.0]), axis=1)
    picked, best = closeness(s.x), _best_of_groups(closeness(guided.x), 4)
    assert _agree_within_se(picked, best)
    assert picked.mean() > closeness(guided.x).mean() + 8 * np.sqrt(
        picked.var(ddof=1) / len(picked) + closeness(guided.x).var(ddof=1) / len(guided.x)
    )


def test_bad_guidance_input():
    model = _model(SCHEDULE)
    with pytest.raises(ValueError, match="weight channel 5 does not exist; the model has 2"):
        sg.sample(
            model, SCHEDULE, num=2, guidance=sg.SelfWeightedGuidance(1.0, channel=5), key=jr.key(0)
        )
    with pytest.raises(ValueError, match=r"one entry per weight channel \(K = 2\)"):
        sg.sample(
            model,
            SCHEDULE,
            num=2,
            guidance=sg.SelfWeightedGuidance(1.0, channel=[1.0, 1, 1]),
            key=jr.key(0),
        )
    with pytest.raises(ValueError, match="must be >= 0 and not all zero"):
        sg.SelfWeightedGuidance(1.0, channel=[0.0, 0.0])
    with pytest.raises(ValueError, match="scale must be >= 0"):
        sg.SelfWeightedGuidance(-1.0)
    with pytest.raises(ValueError, match="num_candidates must be >= 1"):
        sg.Resampling(0)
    with pytest.raises(ValueError, match="'argmax' or 'softmax'"):
        sg.Resampling(4, select="best")
    with pytest.raises(ValueError, match=r"give it to the selection instead, e\.g\. Softmax"):
        sg.Resampling(4, select=sg.Softmax(), temperature=0.5)
    with pytest.raises(ValueError, match="select='argmax' keeps the best candidate and takes no"):
        sg.Resampling(4, select="argmax", temperature=0.5)
    with pytest.raises(ValueError, match="Softmax: temperature must be >= 0"):
        sg.Softmax(-1.0)


def test_selection_names_and_modules_give_the_same_draws():
    """`select="argmax"` / `"softmax"` (with `temperature`) are `Argmax()` / `Softmax(t)`."""
    model = _model(SCHEDULE)
    score = lambda x, w, c: x[1]
    pairs = [
        (dict(select="argmax", score=score), dict(select=sg.Argmax(), score=score)),
        (dict(temperature=0.5, channel=1), dict(select=sg.Softmax(0.5), channel=1)),
        (dict(select="softmax"), dict(select=sg.Softmax())),
    ]
    for by_name, by_module in pairs:
        a, b = (
            sg.sample(
                model,
                SCHEDULE,
                num=16,
                guidance=sg.Resampling(4, **kw),
                sampler=sg.DDPMSampler(num_steps=10),
                key=jr.key(6),
            )
            for kw in (by_name, by_module)
        )
        np.testing.assert_array_equal(a.x, b.x)


def test_bad_sample_input():
    model = _model(SCHEDULE)
    with pytest.raises(ValueError, match="say how many samples"):
        sg.sample(model, SCHEDULE, key=jr.key(0))
    with pytest.raises(ValueError, match="num must be >= 1"):
        sg.sample(model, SCHEDULE, num=0, key=jr.key(0))
    with pytest.raises(ValueError, match=r"takes no conditioning \(cond_dim=0\)"):
        sg.sample(model, SCHEDULE, num=2, cond=np.ones(3), key=jr.key(0))
    with pytest.raises(TypeError, match="schedule"):
        sg.sample(model, "vp", num=2, key=jr.key(0))
    with pytest.raises(TypeError, match="Wrap it: JointModel"):
        sg.sample(sg.FourierTimeEmbedding(key=jr.key(0)), SCHEDULE, num=2, key=jr.key(0))


@pytest.mark.parametrize("head_at", [None, 0, 1, 2, 3])
def test_guided_eps_is_the_full_gradient_for_any_head_depth(head_at):
    """The guided ε equals ε − ρσ∇_z log ŵ_0 computed naively through the whole network,
    wherever the weight head branches (the early head only prunes work, never changes math)."""
    net = sg.ResNetDenoiser(
        2,
        1,
        cond_dim=3,
        width=16,
        num_blocks=3,
        weight_head_at=head_at,
        weight_head_hidden=8,
        key=jr.key(head_at or 7),
    )
    model = sg.JointModel(net, 2, 1, cond_dim=3)
    z, c, t = jnp.asarray([0.3, -0.4, 0.6]), jnp.asarray([0.1, 0.2, -0.3]), jnp.asarray(0.4)
    alpha, sigma = SCHEDULE.alpha_sigma(t)

    def log_w0(zz):
        return jnp.log(jnp.clip((zz[2] - sigma * net(zz, t, c)[2]) / alpha, 1e-4))

    expected = net(z, t, c) - 2.5 * sigma * jax.grad(log_w0)(z)
    got = sg.SelfWeightedGuidance(2.5).eps(model, SCHEDULE, z, t, c)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_resampling_with_module_score_and_inside_jit():
    """A critic given as an eqx.Module is traced (no retrace for new critic values), and the
    guidance objects can be built inside jit with plain floats."""

    class Critic(eqx.Module):
        target: jax.Array

        def __call__(self, x, w, cond):
            return -jnp.sum((x - self.target) ** 2)

    model = _model(SCHEDULE)
    sampler = sg.DDPMSampler(num_steps=10)
    run = lambda critic, key: sg.sample(
        model,
        SCHEDULE,
        num=64,
        guidance=sg.Resampling(8, select=sg.Argmax(), score=critic),
        sampler=sampler,
        key=key,
    )
    right = run(Critic(jnp.asarray([2.0, 0.0])), jr.key(0))
    with traces("_sample_rows") as seen:
        left = run(Critic(jnp.asarray([-2.0, 0.0])), jr.key(0))
    assert seen == []
    assert float(right.x[:, 0].mean()) > 1.0 > -1.0 > float(left.x[:, 0].mean())

    @jax.jit
    def build(scale):
        g = sg.SelfWeightedGuidance(scale)
        r = sg.Resampling(4, select=sg.Softmax(0.5), guidance=g)
        return g.scale + r.selection.temperature

    assert float(build(1.0)) == pytest.approx(1.5)


def test_clip_bounds_change_does_not_recompile():
    model = _model(SCHEDULE)

    def run(lo, hi):
        return sg.sample(
            model,
            SCHEDULE,
            num=8,
            guidance=sg.SelfWeightedGuidance(1.0, clip_min=lo, clip_max=hi),
            sampler=sg.DDPMSampler(
                num_steps=10, clip_data=(-lo * 1e4, hi * 4), clip_weight=(lo, hi * 5)
            ),
            key=jr.key(0),
        )

    first = run(1e-4, 1.0)
    with traces("_sample_rows") as seen:
        second = run(2e-4, 2.0)
    assert seen == []
    assert float(jnp.abs(first.x).max()) <= 4.0 + 1e-6
    assert float(jnp.abs(second.x).max()) <= 8.0 + 1e-6
    with pytest.raises(ValueError, match="need 0 < clip_min < clip_max"):
        sg.SelfWeightedGuidance(1.0, clip_min=1.0, clip_max=0.5)
    with pytest.raises(ValueError, match=r"clip_weight must be None or \(low, high\)"):
        sg.DDPMSampler(clip_weight=(1.0, 0.0))


@pytest.mark.parametrize("weight_output", ["denoised", "log"])
def test_denoised_weight_output_is_exact(weight_output):
    """A model that predicts `ŵ_0` (or `log ŵ_0`) directly gives the same ε, guided ε and
    tilted target."""
    eps_model = _model(SCHEDULE)
    net = sg.GaussianMixtureOracle(
        *(np.asarray(v, dtype=float) for v in (MEANS, STDS, PROBS, TILTS)),
        SCHEDULE,
        weight_output=weight_output,
    )
    model = sg.JointModel(net, 2, 2, weight_output=weight_output)
    guidance = sg.SelfWeightedGuidance(2.0, channel=1)
    for z, t in [([0.3, -0.2, 0.5, 0.4], 0.5), ([1.5, 0.1, 2.0, 0.1], 0.9)]:
        z, t = jnp.asarray(z), jnp.asarray(t)
        np.testing.assert_allclose(
            model.eps(z, t, None, SCHEDULE), eps_model.eps(z, t, None), rtol=1e-4, atol=1e-5
        )
        np.testing.assert_allclose(
            guidance.eps(model, SCHEDULE, z, t, None),
            guidance.eps(eps_model, SCHEDULE, z, t, None),
            rtol=1e-4,
            atol=1e-5,
        )
    s = sg.sample(model, SCHEDULE, num=N, guidance=sg.SelfWeightedGuidance(1.0), key=jr.key(0))
    target_means, _, target_probs = model.network.tilted(1)
    _check_target(np.asarray(s.x), target_means, target_probs)
    with pytest.raises(ValueError, match="pass the schedule"):
        model.eps(jnp.zeros(4), jnp.asarray(0.5), None)
    with pytest.raises(ValueError, match="weight_output must be"):
        sg.JointModel(net, 2, 2, weight_output="x0")


def test_compiled_sample_equals_sample():
    """`compile_sample` gives `sample`'s exact samples; a new scale reuses the program."""
    model = _model(SCHEDULE)
    guidance = sg.SelfWeightedGuidance(1.0)
    fn = sg.compile_sample(model, SCHEDULE, num=16, guidance=guidance)
    for g in (guidance, sg.SelfWeightedGuidance(2.5)):
        expected = sg.sample(model, SCHEDULE, num=16, guidance=g, key=jr.key(4))
        got = fn(key=jr.key(4), guidance=g)
        np.testing.assert_allclose(got.x, expected.x, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got.w, expected.w, rtol=1e-5, atol=1e-6)
    raw = fn(key=jr.PRNGKey(4))  # a raw uint32 key is accepted too
    np.testing.assert_allclose(raw.x, fn(key=jr.wrap_key_data(jr.PRNGKey(4))).x)
    with pytest.raises(ValueError, match="differs from the compiled one"):
        fn(key=jr.key(0), guidance=sg.SelfWeightedGuidance(1.0, channel=1))
    with pytest.raises(ValueError, match="expected cond of shape None"):
        fn(jnp.zeros(3), key=jr.key(0))
    with pytest.raises(ValueError, match="say how many samples"):
        sg.compile_sample(model, SCHEDULE)


def test_default_resampling_score_reads_user_units():
    """The default score mixes the weights in the user's units, as a user's score gets them:
    with channels rescaled by 1 and 100, the mix (½, ½) of model weights (0.2, 0.004) is
    the mix of user weights (0.2, 0.4)."""
    units = sg.WeightUnits(jnp.asarray([1.0, 100.0]))
    model = sg.JointModel(_model(SCHEDULE).network, 2, 2, units=units)
    candidates = jnp.asarray([[0.0, 0.0, 0.2, 0.004], [1.0, 1.0, 0.1, 0.009]])
    scores = sg.Resampling(2, channel=[0.5, 0.5]).scores(model, candidates, None)
    np.testing.assert_allclose(scores, np.log([0.5 * 0.2 + 0.5 * 0.4, 0.5 * 0.1 + 0.5 * 0.9]),
                               rtol=1e-6)
    user = sg.Resampling(2, score=lambda x, w, c: jnp.log(0.5 * w[0] + 0.5 * w[1]))
    np.testing.assert_allclose(user.scores(model, candidates, None), scores, rtol=1e-6)


def test_clip_shares_count_every_guided_evaluation():
    """32 rows × 10 DDPM steps = 320 evaluations; a clip no ŵ_0 reaches binds never, one every
    ŵ_0 is beyond binds always, and one inside the range binds for some."""
    model = _model(SCHEDULE)
    sampler = sg.DDPMSampler(num_steps=10)

    def shares(lo, hi):
        guidance = sg.SelfWeightedGuidance(1.0, clip_min=lo, clip_max=hi)
        return sg.clip_shares(model, SCHEDULE, guidance, num=32, sampler=sampler, key=jr.key(0))

    assert shares(1e-4, None) == (0.0, 0.0, 320)
    with traces("_sample_rows") as seen:  # new clips and scales: the same program
        assert shares(1e6, None) == (1.0, 0.0, 320)
        assert shares(1e-4, 1e-3) == (0.0, 1.0, 320)
    assert seen == []
    partial = shares(1e-4, 1.5)
    assert 0.0 < partial.above < 1.0 and partial.below == 0.0
    # The draws are sample's own: the counting changes nothing.
    plain = sg.sample(model, SCHEDULE, num=32, sampler=sampler, key=jr.key(0),
                      guidance=sg.SelfWeightedGuidance(1.0, clip_max=1.5))
    assert plain.x.shape == (32, 2)
    with pytest.raises(TypeError, match="guidance must be a SelfWeightedGuidance"):
        sg.clip_shares(model, SCHEDULE, sg.NoGuidance(), num=4, key=jr.key(0))

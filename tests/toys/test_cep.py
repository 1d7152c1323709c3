"""CEP-style external guidance: exact with an exact energy, and its loss trains.

With the Gaussian-mixture oracle as the q-model and the exact `log E[exp(bᵀx_0) | x_t]` as
the energy, `ε̃ = ε_q − σ ∇_x f` must sample the tilted target `exp(bᵀx) q(x)`: for
`q = N(0, s² I)` that is `N(s² b, s² I)`.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide.toys import CEPGuidance, EnergyNetwork, cep_loss, train_cep

SCHEDULE = sg.VPSchedule(num_steps=100, beta_max=20.0)
TILT = [0.8, -0.5]


def _oracle(tilts):
    arr = lambda v: np.asarray(v, dtype=np.float32)
    return sg.GaussianMixtureOracle(arr([[0.0, 0.0]]), arr([1.0]), arr([1.0]), arr(tilts),
                                    SCHEDULE)


def test_exact_energy_hits_tilted_target():
    oracle = _oracle([TILT])
    model = sg.JointModel(oracle, 2, 1)
    guidance = CEPGuidance(lambda x, t, cond: oracle.log_expected_weight(x, t)[0])
    s = sg.sample(model, SCHEDULE, num=4000, guidance=guidance, key=jr.key(0))
    x = np.asarray(s.x)
    # 4000 draws: the standard error of each mean is 1/√4000 ≈ 0.016; 0.07 is > 4 of them
    # plus the 100-step discretisation error.
    np.testing.assert_allclose(x.mean(0), TILT, atol=0.07)
    np.testing.assert_allclose(x.std(0), [1.0, 1.0], atol=0.06)
    unguided = np.asarray(sg.sample(model, SCHEDULE, num=4000, key=jr.key(0)).x)
    np.testing.assert_allclose(unguided.mean(0), [0.0, 0.0], atol=0.07)


def test_cep_loss_is_minimised_by_the_exact_log_expectation():
    # q = N(0, I), e(x) = x_1 ∈ ℝ (a linear energy), β = 1: the exact f is log E[exp(x_1)|x_t]
    oracle = _oracle([[1.0, 0.0]])

    class Exact:
        def __call__(self, x, t, cond=None):
            return oracle.log_expected_weight(x, t)[0]

    class Wrong:
        def __call__(self, x, t, cond=None):
            return 0.5 * oracle.log_expected_weight(x, t)[0]

    x0 = jr.normal(jr.key(1), (512, 8, 2))
    e, beta, cond = x0[..., 0], jnp.ones(512), jnp.ones((512, 1))
    loss = jax.jit(lambda f: cep_loss(f, SCHEDULE, x0, e, beta, cond, key=jr.key(2)),
                   static_argnums=0)
    assert float(loss(Exact())) < float(loss(Wrong()))


def test_train_cep_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 2))
    e = (x[:, 0] > 0).astype(float)
    losses = []
    net = EnergyNetwork(2, 1, width=32, depth=2, key=jr.key(0))
    net, seconds = train_cep(net, x, e, schedule=SCHEDULE, steps=200, beta_max=24.0,
                             key=jr.key(1), groups=16, support=8, steps_per_chunk=100,
                             callback=lambda done, loss: losses.append(loss))
    assert len(losses) == 2 and seconds > 0
    assert losses[-1] < losses[0]


def test_bad_input_messages():
    with pytest.raises(ValueError, match="EnergyNetwork: need data_dim >= 1"):
        EnergyNetwork(0, key=jr.key(0))
    with pytest.raises(ValueError, match="train_cep: need steps >= 0"):
        train_cep(EnergyNetwork(2, key=jr.key(0)), np.zeros((4, 2)), np.zeros(4),
                  schedule=SCHEDULE, steps=10, beta_max=24.0, key=jr.key(0), support=1)
    with pytest.raises(ValueError, match="CEPGuidance: scale must be >= 0"):
        CEPGuidance(lambda x, t, c: 0.0, scale=-1.0)

"""A small β-conditioned SWG model on `moons`: guided mode weights move toward the exact ones
as β grows (the full comparison is `benchmarks/toys.py`, not a timed test)."""

import dataclasses

import numpy as np
import pytest

from selfguide import toys
from selfguide.toys._run import QUICK, draw, train_swg

# A small, fast model with the earlier recipe (AdamW 3e-4, weight loss 2, the weight iterate
# clipped, no input features): the default rate of 3e-3 needs its full budget to learn the
# β = 0 end (at 800 or 2000 steps of this network it put 0.89 of the β = 0 mass on one moon).
BUDGET = dataclasses.replace(QUICK, steps=800, width=128, depth=3, num_train=20_000,
                             sample_steps=50, num_samples=800, learning_rate=3e-4,
                             weight_loss=2.0, clip_weight=True, input_features=0)
BETAS = (0.0, 3.0, 10.0)


@pytest.fixture(scope="session")
def moons_model():
    model, cost = train_swg("moons", BUDGET, progress=False)
    return model, cost


@pytest.fixture(scope="session")
def upper_mass(moons_model):
    model, _ = moons_model
    out = {}
    for beta in BETAS:
        x = draw(toys.SWGDDPM(), "moons", model, beta, BUDGET, seed=0)
        out[beta] = float(np.mean(toys.mode_of("moons", x) == 1))
    x = draw(toys.Unguided(), "moons", model, 3.0, BUDGET, seed=0)
    out["unguided"] = float(np.mean(toys.mode_of("moons", x) == 1))
    return out


def test_training_cost_is_reported(moons_model):
    _, cost = moons_model
    assert cost.steps == BUDGET.steps and cost.seconds > 0 and cost.params > 1000


def test_guided_mode_weights_follow_beta(upper_mass):
    # Exact mass of the e = 1 moon: 1 / (1 + exp(−β)) = 0.5, 0.95, 1.0 at β = 0, 3, 10.
    exact = {b: toys.mode_weights("moons", b)[1] for b in BETAS}
    assert exact[0.0] == pytest.approx(0.5)
    unguided = upper_mass["unguided"]
    # 800 draws: each mass has a standard error ≤ 0.018, a difference ≤ 0.025. The margins
    # below are ≥ 2.4 of those; the draws are seeded, so the test is deterministic.
    assert abs(unguided - 0.5) < 0.06, upper_mass  # unguided samples q whatever β
    assert abs(upper_mass[0.0] - 0.5) < 0.15, upper_mass  # β = 0: (nearly) no guidance
    assert upper_mass[10.0] > upper_mass[0.0] + 0.04, upper_mass  # more mass as β grows
    for beta in (3.0, 10.0):  # and closer to the exact mass than unguided sampling
        assert abs(upper_mass[beta] - exact[beta]) < abs(unguided - exact[beta]) - 0.1, upper_mass

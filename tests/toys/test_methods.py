"""The toy grid's methods: each name is its class, and `draw` takes either."""

import dataclasses

import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
from selfguide import toys
from selfguide.toys._run import QUICK, draw

CLASSES = (toys.Unguided, toys.Resample, toys.SWGDDPM, toys.SWGODE, toys.CEP)


def test_names_labels_and_order():
    assert tuple(c.name for c in CLASSES) == toys.METHODS
    assert [c.needs_energy for c in CLASSES] == [False, False, False, False, True]
    assert toys.SWGDDPM.label == "SWG DDPM"


def test_draw_takes_a_method_or_its_name():
    budget = dataclasses.replace(QUICK, sample_steps=5, num_samples=16, num_train=2000)
    net = sg.MLPDenoiser(2, 1, cond_dim=1, width=16, depth=1, key=jr.key(0))
    model = sg.JointModel(net, 2, 1, cond_dim=1, weight_output="denoised")
    by_name = draw("swg-ddpm", "moons", model, 3.0, budget, seed=1)
    by_class = draw(toys.SWGDDPM(), "moons", model, 3.0, budget, seed=1)
    np.testing.assert_array_equal(by_name, by_class)
    with pytest.raises(ValueError, match="draw: unknown method 'magic'; choose from unguided"):
        draw("magic", "moons", model, 3.0, budget, seed=1)
    with pytest.raises(ValueError, match="method 'cep' needs energy_net"):
        draw(toys.CEP(), "moons", model, 3.0, budget, seed=1)

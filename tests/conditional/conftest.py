"""A small SWG model over the labelled 2-D mixture `[x, p(· | x)]`, trained once per session,
predicting the clean weights (`weight_output="denoised"`).

The mixture is 8gaussians with its component as the label: neighbouring centres are 6.1
standard deviations apart, so a component's points fall nearer another centre with
probability 2 Φ(−3.06) ≈ 0.2%, and the nearest centre is (up to that) the true class.
"""

import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
import selfguide.conditional as sgc

NUM_CLASSES = 8
SCHEDULE = sg.VPSchedule(num_steps=40, beta_max=10.0)


@pytest.fixture(scope="session")
def mixture():
    return sgc.load_mixture(n_train=4000, n_test=1000, seed=0)


@pytest.fixture(scope="session")
def classifier(mixture):
    return sgc.train_classifier(
        mixture.x_train, mixture.y_train, NUM_CLASSES, key=jr.key(0), steps=600, width=64,
    )


@pytest.fixture(scope="session")
def joint_model(mixture, classifier):
    w = sgc.class_weights(sgc.predict_proba(classifier, mixture.x_train))
    data = sg.augment(mixture.x_train, w, probabilities=True)
    net = sg.MLPDenoiser(2, NUM_CLASSES, width=128, depth=3, key=jr.key(1))
    return sg.fit(net, data, schedule=SCHEDULE, steps=5000, batch_size=256, key=jr.key(2),
                  optimizer=sg.default_optimizer(5000, 2e-3), progress=False,
                  weight_output="denoised")


def nearest_centre(x: np.ndarray) -> np.ndarray:
    centres = sgc.mixture_centres(NUM_CLASSES) / 1.414
    return np.argmin(((np.asarray(x)[:, None] - centres[None]) ** 2).sum(-1), axis=1)

import numpy as np
import pytest

import selfguide as sg


def test_single_channel_shapes_and_values():
    x = np.arange(6.0).reshape(3, 2)
    w = np.array([1.0, 2.0, 4.0])
    data = sg.augment(x, w)
    assert data.z.shape == (3, 3) and data.data_dim == 2 and data.weight_dim == 1
    np.testing.assert_allclose(data.x, x)
    np.testing.assert_allclose(data.w[:, 0], w)
    assert len(data) == 3


def test_multi_channel_rescale_round_trip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    w = rng.uniform(0.5, 40.0, size=(50, 4))
    data = sg.augment(x, w, rescale=True)
    model_w = np.asarray(data.z[:, 3:])
    assert model_w.max() == pytest.approx(1.0) and model_w.min() > 0
    np.testing.assert_allclose(model_w.max(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(data.w, w, rtol=1e-5)
    np.testing.assert_allclose(data.units.to_user(data.units.to_model(w)), w, rtol=1e-6)


def test_probabilities_accepted():
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert sg.augment(np.zeros((2, 1)), p, probabilities=True).weight_dim == 2


@pytest.mark.parametrize(
    ("x", "w", "match"),
    [
        (np.zeros((3, 2)), np.array([1.0, np.nan, 1.0]), "non-finite values in 1 rows"),
        (np.zeros((3, 2)), np.array([1.0, np.inf, 1.0]), "non-finite"),
        (np.array([[0.0, np.nan]] * 3), np.ones(3), "`x` has non-finite"),
        (np.zeros((3, 2)), np.array([1.0, 0.0, 1.0]), "strictly positive"),
        (np.zeros((3, 2)), np.array([1.0, -2.0, 1.0]), "strictly positive"),
        (np.zeros((3, 2)), np.ones(4), "same length, got 3 data points and 4 weights"),
        (np.zeros(3), np.ones(3), r"must have shape \(N, d\)"),
        (np.zeros((3, 2, 1)), np.ones(3), r"must have shape \(N, d\)"),
        (np.zeros((3, 2)), np.ones((3, 1, 1)), r"`w` must have shape \(N,\) or \(N, K\)"),
        (np.zeros((0, 2)), np.ones(0), "empty dataset"),
    ],
)
def test_bad_input(x, w, match):
    with pytest.raises(ValueError, match=match):
        sg.augment(x, w)


def test_probabilities_must_sum_to_one():
    with pytest.raises(ValueError, match="must sum to 1"):
        sg.augment(np.zeros((2, 1)), np.array([[0.2, 0.5], [0.5, 0.5]]), probabilities=True)
    with pytest.raises(ValueError, match="need K >= 2"):
        sg.augment(np.zeros((2, 1)), np.array([0.2, 0.5]), probabilities=True)


def test_non_numeric():
    with pytest.raises(TypeError, match="numeric array"):
        sg.augment(np.array([["a", "b"]]), [1.0])

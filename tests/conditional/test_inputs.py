"""Multi-channel augmentation, channel selection, and bad input by message."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import selfguide as sg
import selfguide.conditional as sgc

K = 4


def _probs(n: int, k: int = K, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(n, k)) * 3
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_multi_channel_augment_shapes():
    x = np.random.default_rng(1).normal(size=(20, 3))
    w = sgc.class_weights(_probs(20))
    data = sg.augment(x, w, probabilities=True)
    assert data.z.shape == (20, 3 + K) and data.data_dim == 3 and data.weight_dim == K
    np.testing.assert_allclose(data.w, w, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(data.w).sum(1), 1.0, atol=1e-5)


def test_class_weights_floor_and_renormalise():
    p = np.array([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    w = sgc.class_weights(p, floor=1e-3)
    np.testing.assert_allclose(w.sum(1), 1.0)
    assert w.min() >= 1e-3 / (1 + K * 1e-3) - 1e-12
    np.testing.assert_allclose(w[1], 0.25)
    assert w[0].argmax() == 0 and w[0, 0] > 0.99


def _tiny_model(k: int = K, d: int = 2):
    net = sg.MLPDenoiser(d, k, width=8, depth=1, key=jr.key(0))
    return sg.JointModel(net, d, k)


def test_channel_selection_picks_the_channel():
    """The guidance potential of channel j (and of a one-hot mix on j) is log ŵ_j."""
    from selfguide._guidance import SelfWeightedGuidance

    model, schedule = _tiny_model(), sg.VPSchedule(10)
    z, t = jr.normal(jr.key(3), (2 + K,)), jnp.asarray(0.3)
    alpha, sigma = schedule.alpha_sigma(t)
    w0 = (z[2:] - sigma * model.eps(z, t, None)[2:]) / alpha
    for j in range(K):
        by_index, _ = SelfWeightedGuidance(1.0, channel=j, clip_min=1e-30).log_weight(
            model, schedule, z, t, None)
        onehot, _ = SelfWeightedGuidance(1.0, channel=np.eye(K)[j], clip_min=1e-30).log_weight(
            model, schedule, z, t, None)
        if w0[j] > 1e-30:
            np.testing.assert_allclose(by_index, np.log(w0[j]), rtol=1e-5)
            np.testing.assert_allclose(onehot, by_index, rtol=1e-5)


def test_class_index_out_of_range():
    model = _tiny_model()
    with pytest.raises(ValueError, match=r"weight channel 4 does not exist.*use 0\.\.3"):
        sg.sample(model, sg.VPSchedule(5), num=2, key=jr.key(0),
                  guidance=sg.SelfWeightedGuidance(1.0, channel=K))


def test_mismatched_number_of_channels():
    model = _tiny_model()
    match = r"one entry per weight channel \(K = 4\), got shape \(3,\)"
    with pytest.raises(ValueError, match=match):
        sg.sample(model, sg.VPSchedule(5), num=2, key=jr.key(0),
                  guidance=sg.SelfWeightedGuidance(1.0, channel=[0.5, 0.5, 0.0]))
    with pytest.raises(ValueError, match="the network has weight_dim=4 but the data has 3"):
        sg.fit(model.network, sg.augment(np.zeros((5, 2)), _probs(5, 3), probabilities=True),
               schedule=sg.VPSchedule(5), steps=1, key=jr.key(0), progress=False)


def test_weights_must_sum_to_one():
    p = _probs(6)
    p[2] *= 1.5
    with pytest.raises(ValueError, match=r"probabilities=True\): each row of `w` must sum to 1"):
        sg.augment(np.zeros((6, 2)), p, probabilities=True)
    with pytest.raises(ValueError, match="class_weights: each row must sum to 1"):
        sgc.class_weights(p)


def test_class_weights_bad_floor_and_shape():
    with pytest.raises(ValueError, match=r"floor must lie in \(0, 1/K = 0.25\)"):
        sgc.class_weights(_probs(3), floor=0.3)
    with pytest.raises(ValueError, match=r"shape \(n, K >= 2\)"):
        sgc.class_weights(np.ones((3, 1)))


def test_labels_out_of_range():
    match = r"one_hot: labels must lie in 0\.\.3, got values in 0\.\.4"
    with pytest.raises(ValueError, match=match):
        sgc.one_hot(np.array([0, 4]), 4)
    with pytest.raises(ValueError, match=r"train_classifier: labels must be integers in 0\.\.2"):
        sgc.train_classifier(np.zeros((4, 2)), np.array([0, 1, 2, 3]), 3, key=jr.key(0))
    with pytest.raises(ValueError, match=r"class_proportions: labels must lie in 0\.\.1"):
        sgc.class_proportions(np.array([0, 2]), 2)


def test_mixture_data_and_bad_proportions():
    x, y = sgc.sample_mixture(500, seed=3)
    assert x.shape == (500, 2) and y.shape == (500,) and set(np.unique(y)) <= set(range(8))
    with pytest.raises(ValueError, match="proportions must be 8 non-negative numbers"):
        sgc.sample_mixture(10, proportions=[1.0, 2.0])


def test_evaluate_needs_one_sample_per_class():
    judge = sgc.train_judge(*sgc.sample_mixture(200, seed=1))
    x_test, y_test = sgc.sample_mixture(200, seed=2)
    with pytest.raises(ValueError, match=r"samples for K = 3 classes, but the test labels"):
        sgc.evaluate_classes(judge, [x_test] * 3, x_test, y_test)


def test_digits_split_is_fixed():
    pytest.importorskip("sklearn")
    a, b = sgc.load_digits(), sgc.load_digits()
    assert a.x_train.shape == (1438, 64) and a.x_test.shape == (359, 64)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.x_train.min() >= -1 and a.x_train.max() <= 1
    assert np.bincount(a.y_test).min() >= 35


def test_frechet_distance_of_shift():
    x = np.random.default_rng(0).normal(size=(2000, 3))
    assert sgc.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert sgc.frechet_distance(x, x + 2.0) == pytest.approx(12.0, rel=1e-6)


def test_config_names_a_ddpm_variance():
    assert sgc.ConditionalConfig(variance="large").variance == "large"
    # The field is a Literal (refused by the type checker first); the check behind it:
    config = sgc.ConditionalConfig()
    object.__setattr__(config, "variance", "small")
    with pytest.raises(ValueError, match=r"variance must be one of \('posterior', 'large'\)"):
        config.__post_init__()


def test_round_to_grey_levels_keeps_data_and_picks_the_nearest_level():
    levels = sgc.pixels_to_unit(np.arange(17))
    np.testing.assert_array_equal(sgc.round_to_grey_levels(levels), levels)
    # a sample a third of a level away reads as that level; past half a level, the next one
    step = levels[1] - levels[0]
    np.testing.assert_allclose(sgc.round_to_grey_levels(levels[3:4] + step / 3), levels[3:4])
    np.testing.assert_allclose(sgc.round_to_grey_levels(levels[3:4] + 0.6 * step), levels[4:5])
    # outside [−1, 1] it clips to the end levels
    np.testing.assert_array_equal(sgc.round_to_grey_levels(np.array([-1.4, 1.3])), [-1.0, 1.0])


def test_command_flags_reach_the_config():
    import argparse

    from selfguide.conditional._command import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    default = config_from_args(parser.parse_args([]))
    assert default.discrete_decoder and default.weight_loss == sgc.ConditionalConfig().weight_loss
    chosen = config_from_args(parser.parse_args(["--continuous", "--weight-loss", "3"]))
    assert not chosen.discrete_decoder and chosen.weight_loss == 3.0

"""Seed-level statistics against hand-computed numbers."""

import numpy as np
import pytest

import selfguide_rl as sgrl


def test_standard_error_is_over_seed_means_not_episodes():
    # UMaze, ρ = 10: seed means 19.9, −4.7, 39.6 → mean 18.27, SE √(985.3 / 2) / √3 = 12.81.
    rng = np.random.default_rng(0)
    noise = [rng.normal(0, 1, 10) for _ in range(3)]  # ten episodes per seed, centred
    episodes = {s: e - e.mean() + m for s, (e, m) in enumerate(zip(noise, [19.9, -4.7, 39.6],
                                                                   strict=True))}
    summary = sgrl.seed_summary(episodes)
    assert summary.seeds == 3
    assert summary.mean == pytest.approx(18.2667, abs=1e-4)
    assert summary.stderr == pytest.approx(12.8144, abs=1e-4)
    pooled = np.concatenate(list(episodes.values()))
    assert pooled.std(ddof=1) / np.sqrt(pooled.size) < summary.stderr / 2  # what pooling hid
    assert np.isnan(sgrl.seed_summary({0: [1.0, 2.0]}).stderr)  # one seed: no SE


def test_paired_difference_uses_the_seeds_both_have():
    method = {0: [3.0, 5.0], 1: [10.0], 2: [7.0]}
    baseline = {0: [2.0], 1: [6.0], 2: [7.0], 3: [100.0]}
    diff = sgrl.paired_difference(method, baseline)
    assert diff.seed_means == {0: 2.0, 1: 4.0, 2: 0.0} and diff.seeds == 3
    assert diff.mean == pytest.approx(2.0)
    assert diff.stderr == pytest.approx(2.0 / np.sqrt(3))
    with pytest.raises(ValueError, match="share no seed"):
        sgrl.paired_difference({0: [1.0]}, {1: [1.0]})
    with pytest.raises(ValueError, match="seed 4 has no episode scores or non-finite"):
        sgrl.seed_summary({4: [np.nan]})


def test_iqm_and_its_stratified_interval():
    assert sgrl.interquartile_mean(np.arange(1, 9)) == pytest.approx(4.5)  # mean of 3..6
    # Two datasets, four runs each, on scales 0 and 10. Resampling within each dataset keeps
    # four runs of each in every replicate, so the middle half is always the top two of the
    # first and the bottom two of the second: the IQM stays in [(0+0+10+10)/4, (1+1+11+11)/4]
    # = [5, 6]; resampling the pooled runs would mix 0 to 8 runs of each (IQM 0 to 11).
    runs = {"umaze": [0.0, 0.0, 0.0, 1.0], "medium": [10.0, 10.0, 10.0, 11.0]}
    point, low, high = sgrl.iqm_interval(runs, resamples=4000)
    assert point == pytest.approx((0 + 1 + 10 + 10) / 4)
    assert 5.0 <= low <= point <= high <= 6.0 and high - low >= 0.25
    assert sgrl.iqm_interval({"a": [3.0, 3.0]}) == (3.0, 3.0, 3.0)
    with pytest.raises(ValueError, match="every dataset needs at least one run"):
        sgrl.iqm_interval({"a": []})

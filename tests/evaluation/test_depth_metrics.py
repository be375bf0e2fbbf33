"""Metric and alignment tests against hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mannequin.evaluation.alignment import align, fit_scale_shift
from mannequin.evaluation.metrics import (
    DEPTH_METRICS,
    METRIC,
    METRICS,
    compute_errors,
    mean_metrics,
    score_image,
    si_rmse,
    valid_mask,
)

LN2 = math.log(2.0)


def test_compute_errors_hand_computed():
    gt = np.array([1.0, 2.0, 4.0])
    pred = np.array([2.0, 2.0, 2.0])
    e = compute_errors(gt, pred)
    assert e["abs_rel"] == pytest.approx(0.5)  # (1/1 + 0 + 2/4) / 3
    assert e["sq_rel"] == pytest.approx(2 / 3)  # (1/1 + 0 + 4/4) / 3
    assert e["rmse"] == pytest.approx(math.sqrt(5 / 3))  # sqrt((1 + 0 + 4) / 3)
    assert e["rmse_log"] == pytest.approx(LN2 * math.sqrt(2 / 3))
    assert e["si_rmse"] == pytest.approx(LN2 * math.sqrt(2 / 3))  # mean(d) = 0 here
    # ratios 2, 1, 2: only the exact pixel is under 1.25, 1.5625 and 1.953125
    assert (e["a1"], e["a2"], e["a3"]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_thresholds_count_each_band():
    gt = np.ones(4)
    pred = np.array([1.1, 1.5, 1.9, 3.0])  # ratios in bands <1.25, <1.5625, <1.953, beyond
    e = compute_errors(gt, pred)
    assert (e["a1"], e["a2"], e["a3"]) == pytest.approx((0.25, 0.5, 0.75))


def test_si_rmse_is_the_std_of_the_log_ratio_and_scale_invariant():
    gt = np.array([1.0, 2.0, 3.0, 5.0])
    pred = np.array([1.5, 1.8, 3.3, 4.0])
    d = np.log(pred) - np.log(gt)
    expected = math.sqrt(np.mean(d**2) - np.mean(d) ** 2)
    assert si_rmse(gt, pred) == pytest.approx(expected)
    assert si_rmse(gt, pred) == pytest.approx(float(np.std(d)))
    for c in (1e-3, 0.5, 7.0, 1e4):
        assert si_rmse(gt, c * pred) == pytest.approx(expected, abs=1e-12)
    assert si_rmse(gt, 3.0 * gt) == pytest.approx(0.0, abs=1e-12)


def test_valid_mask_excludes_nan_zero_negative_and_cap():
    gt = np.array([[np.nan, 0.0, -1.0], [0.5, 10.0, 12.0], [np.inf, 9.99, 1e-4]])
    mask = valid_mask(gt, min_depth=1e-3, max_depth=10.0)
    assert mask.tolist() == [[False, False, False], [True, False, False], [False, True, False]]


def test_score_image_uses_only_valid_pixels():
    gt = np.array([[1.0, 2.0], [np.nan, 0.0]])
    gt_full = np.array([[1.0, 2.0], [4.0, 20.0]])  # 20 is beyond the cap
    pred = np.array([[2.0, 2.0], [123.0, 0.0]])
    s = score_image(pred, gt, "none", 1e-3, 10.0)
    assert s["n_pixels"] == 2
    assert s["abs_rel"] == pytest.approx(0.5)  # (1 + 0) / 2
    s_cap = score_image(np.array([[2.0, 2.0], [2.0, 5.0]]), gt_full, "none", 1e-3, 10.0)
    assert s_cap["n_pixels"] == 3
    assert s_cap["abs_rel"] == pytest.approx(0.5)


def test_predictions_are_clipped_after_alignment():
    gt = np.array([[5.0, 2.0]])
    pred = np.array([[20.0, 0.0]])  # 20 -> cap 10, 0 -> min_depth
    s = score_image(pred, gt, "none", min_depth=0.5, max_depth=10.0)
    assert s["abs_rel"] == pytest.approx((5 / 5 + 1.5 / 2) / 2)


def test_no_valid_pixel_gives_none_and_nan_prediction_is_an_error():
    assert score_image(np.ones((2, 2)), np.full((2, 2), np.nan)) is None
    with pytest.raises(ValueError, match="non-finite"):
        score_image(np.array([[np.nan, 1.0]]), np.array([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="shape"):
        score_image(np.ones((2, 3)), np.ones((3, 2)))


def test_median_alignment_hand_computed():
    gt = np.array([[1.0, 2.0, 4.0]])
    s = score_image(np.array([[3.0, 6.0, 9.0]]), gt, "median", 1e-3, 10.0)
    assert s["scale"] == pytest.approx(2.0 / 6.0)
    assert s["abs_rel"] == pytest.approx((0 + 0 + 1 / 4) / 3)  # aligned pred = 1, 2, 3


def test_median_scaling_scores_any_constant_scale_like_the_unscaled():
    rng = np.random.default_rng(0)
    gt = rng.uniform(0.5, 8.0, size=(12, 16))
    gt[0, :4] = np.nan
    pred = gt * rng.uniform(0.7, 1.4, size=gt.shape)
    base = score_image(pred, gt, "median", 1e-3, 10.0)
    for c in (1e-3, 0.37, 1.0, 42.0, 1e3):
        scaled = score_image(pred * c, gt, "median", 1e-3, 10.0)
        for name in METRICS:
            assert scaled[name] == pytest.approx(base[name], rel=1e-9, abs=1e-12)
    unaligned = score_image(pred * 42.0, gt, "none", 1e-3, 10.0)
    assert unaligned["abs_rel"] > 1.0  # without alignment the scale is punished


def test_median_alignment_with_non_positive_median_keeps_scale_one():
    _, fit = align(np.zeros(3), np.ones(3), "median", 1e-3, 10.0)
    assert fit["scale"] == 1.0


def test_lstsq_recovers_disparity_scale_and_shift_exactly():
    rng = np.random.default_rng(1)
    pred = rng.uniform(0.5, 5.0, size=(8, 10))
    gt = 1.0 / (2.0 / pred + 0.1)  # gt disparity = 2 * pred disparity + 0.1
    s = score_image(pred, gt, "lstsq", 1e-3, 10.0)
    assert s["scale"] == pytest.approx(2.0)
    assert s["shift"] == pytest.approx(0.1)
    assert s["abs_rel"] == pytest.approx(0.0, abs=1e-9)
    assert s["a1"] == 1.0


def test_lstsq_depth_recovers_depth_scale_and_shift_exactly():
    rng = np.random.default_rng(2)
    pred = rng.uniform(0.5, 2.0, size=(6, 7))
    gt = 3.0 * pred + 0.5
    s = score_image(pred, gt, "lstsq_depth", 1e-3, 10.0)
    assert (s["scale"], s["shift"]) == pytest.approx((3.0, 0.5))
    assert s["rmse"] == pytest.approx(0.0, abs=1e-9)


def test_fit_scale_shift_degenerate_input_is_a_pure_scale():
    assert fit_scale_shift(np.array([2.0, 2.0]), np.array([4.0, 6.0])) == pytest.approx((2.5, 0.0))
    assert fit_scale_shift(np.array([]), np.array([])) == (1.0, 0.0)


def test_unknown_alignment_is_an_error():
    with pytest.raises(ValueError, match="unknown alignment"):
        score_image(np.ones((1, 2)), np.ones((1, 2)), "affine")


def test_mean_metrics_averages_per_image():
    a = score_image(np.array([[2.0]]), np.array([[1.0]]))  # abs_rel 1 on one pixel
    b = score_image(np.ones((1, 3)), np.ones((1, 3)))  # abs_rel 0 on three pixels
    assert mean_metrics([a, b])["abs_rel"] == pytest.approx(0.5)  # per image, not per pixel (0.25)
    assert mean_metrics([]) == {}


def test_each_metric_is_declared_once_and_its_direction_is_right():
    assert tuple(m.name for m in DEPTH_METRICS) == METRICS and set(METRIC) == set(METRICS)
    rng = np.random.default_rng(3)
    gt = rng.uniform(0.5, 8.0, (20, 25))
    gt[:, 12:] *= 3.0  # a depth edge, for the boundary errors
    noisy = np.roll(gt, 3, axis=1) * rng.uniform(0.3, 3.0, gt.shape)  # an edge 3 px off, and noise
    perfect, worse = score_image(gt, gt, "none", 1e-3, 100.0), score_image(noisy, gt, "none", 1e-3, 100.0)
    assert tuple(k for k in perfect if k in METRIC) == METRICS
    for m in DEPTH_METRICS:  # a perfect prediction beats a noisy one by every metric, in its declared direction
        assert m.improvement(worse[m.name], perfect[m.name]) > 0, m.name
        back = m.improvement(perfect[m.name], worse[m.name])  # a zero error has no relative change: None
        assert (back is None) if m.lower_is_better else (back < 0), m.name
    assert [m.name for m in DEPTH_METRICS if not m.lower_is_better] == ["a1", "a2", "a3"]
    assert METRIC["abs_rel"].improvement(0.4, 0.3) == pytest.approx(0.25)  # the relative reduction
    assert METRIC["a1"].improvement(0.5, 0.6) == pytest.approx(0.2)  # the relative gain
    assert METRIC["abs_rel"].improvement(0.0, 0.3) is None
    assert METRIC["abs_rel"].better == "lower is better" and METRIC["a2"].better == "higher is better"

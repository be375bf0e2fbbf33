"""Depth-boundary errors (iBims-1) against known answers: shifted, blurred, missing and spurious edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mannequin.evaluation.boundaries import EDGE_HIGH_STEP, EDGE_LOW_STEP, MAX_DISTANCE_PX, Boundaries, depth_edges
from mannequin.evaluation.metrics import METRIC, compute_errors, mean_metrics, score_image

H, W = 48, 64


def step(column: int, height: float = 0.5, near: float = 2.0) -> np.ndarray:
    """A vertical depth step: ``near`` left of ``column``, ``near * e**height`` right of it, the column between
    (so the edge is one pixel wide, at ``column``)."""
    log = np.zeros((H, W))
    log[:, column + 1 :] = height
    log[:, column] = height / 2
    return near * np.exp(log)


ALL = np.ones((H, W), bool)


def test_a_step_shifted_by_k_pixels_is_k_pixels_off_both_ways():
    for k in (0, 1, 2, 3, 5, 8):
        b = Boundaries.of(step(30), step(30 + k), ALL)
        assert b.true_edges.sum() == b.pred_edges.sum() > 0
        assert b.accuracy == pytest.approx(k)
        assert b.completeness == pytest.approx(k)


def test_distances_are_truncated():
    b = Boundaries.of(step(20), step(20 + 25), ALL)
    assert b.accuracy == b.completeness == MAX_DISTANCE_PX


def test_a_blurred_step_keeps_its_place_but_loses_completeness():
    truth = step(30)
    slight = np.exp(ndimage.gaussian_filter(np.log(truth), 1.0))
    assert Boundaries.of(truth, slight, ALL).completeness == pytest.approx(0.0)
    smeared = np.exp(ndimage.gaussian_filter(np.log(truth), 5.0))  # what abs_rel barely notices
    b = Boundaries.of(truth, smeared, ALL)
    assert b.completeness == MAX_DISTANCE_PX  # no edge left: every true edge pixel is missed
    assert b.accuracy == MAX_DISTANCE_PX  # and drawing none is not accurate (iBims-1)
    errors = compute_errors(truth[ALL], smeared[ALL])
    assert errors["abs_rel"] < 0.06


def test_edges_are_found_on_log_depth_whatever_the_scale():
    for scale in (1e-3, 1.0, 250.0):
        assert (depth_edges(scale * step(30), ALL) == depth_edges(step(30), ALL)).all()


def test_thresholds_are_step_heights_in_log_depth():
    assert depth_edges(step(30, height=EDGE_HIGH_STEP * 1.05), ALL).any()
    assert not depth_edges(step(30, height=EDGE_LOW_STEP * 0.9), ALL).any()
    ramp = np.exp(np.linspace(0, 2.0, W))[None].repeat(H, 0)  # a smooth slope of 0.03 per pixel: no edge
    assert not depth_edges(ramp, ALL).any()


def test_spurious_and_missing_edges():
    flat = np.full((H, W), 3.0)
    missed = Boundaries.of(step(30), flat, ALL)
    assert missed.completeness == MAX_DISTANCE_PX
    spurious = Boundaries.of(flat, step(30), ALL)
    assert spurious.completeness == 0.0  # no true edge, nothing to miss
    assert spurious.accuracy == MAX_DISTANCE_PX  # every drawn edge is beyond the truncation


def test_only_valid_pixels_count():
    truth = step(30)
    valid = ALL.copy()
    valid[:, 26:35] = False  # the edge lies where the truth has no reading
    b = Boundaries.of(truth, step(30), valid)
    assert not b.true_edges.any() and not b.pred_edges.any()
    # and the border of the valid region is no edge of either
    b = Boundaries.of(np.full((H, W), 2.0), np.full((H, W), 5.0), valid)
    assert not b.true_edges.any() and not b.pred_edges.any()


def test_score_image_reports_boundary_errors_after_alignment():
    truth = step(30)
    pred = 7.0 * step(32)  # a scaled prediction, two pixels off
    s = score_image(pred, truth, "median", 1e-3, 100.0)
    assert s["dbe_acc"] == pytest.approx(2.0)
    assert s["dbe_comp"] == pytest.approx(2.0)
    assert METRIC["dbe_comp"].lower_is_better and METRIC["dbe_comp"].header == "ε_comp"
    # scores from pixels alone have no frame metrics, and their mean leaves them out
    pixels_only = compute_errors(truth.ravel(), pred.ravel())
    assert "dbe_acc" not in pixels_only and "abs_rel" in pixels_only
    assert set(mean_metrics([s, s])) >= {"dbe_acc", "dbe_comp", "abs_rel"}
    assert "dbe_acc" not in mean_metrics([s, pixels_only])

"""bench/error_regions.py: the pixel sets, the median alignment and the tallies, against hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def regions(bench_module) -> object:
    return bench_module("error_regions")


def test_pixel_sets_split_the_valid_pixels_by_what_the_parallax_input_knew(regions) -> None:
    valid = np.array([[True, True, True, False]])
    confidence = np.array([[0.9, 0.0, 0.0, 0.9]])
    people = np.array([[False, False, True, False]])
    masks = regions.region_masks(valid, confidence, people)
    assert masks["all"].tolist() == [[True, True, True, False]]
    assert masks["parallax known"].tolist() == [[True, False, False, False]]
    assert masks["parallax unknown"].tolist() == [[False, True, False, False]]
    assert masks["people"].tolist() == [[False, False, True, False]]


def test_median_alignment_removes_the_scale_and_errors_average_by_pixel(regions) -> None:
    gt = np.array([[1.0, 2.0, 4.0]])
    fit = np.ones_like(gt, bool)
    assert np.allclose(regions.median_aligned_error(3.0 * gt, gt, fit), 0.0)  # a scaled copy is exact
    pred = np.array([[1.0, 2.0, 2.0]])  # median 2 against 2: no rescaling; the far pixel is off by half
    err = regions.median_aligned_error(pred, gt, fit)
    assert np.allclose(err, [[0.0, 0.0, 0.5]])
    tally = regions.Tally()
    tally.add(err, {"all": fit, "people": np.array([[False, False, True]])})
    tally.add(np.array([[0.25]]), {"all": np.array([[True]])})
    summary = tally.summary()
    assert summary["all"] == pytest.approx((0.5 + 0.25) / 4)
    assert summary["people"] == pytest.approx(0.5)
    assert summary["people share"] == pytest.approx(0.25)
    assert summary["parallax known"] is None  # no pixel in that set

"""The paper's metric set (si-full, si-env, si-human, si-intra, si-inter): known answers, pairs counted by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mannequin.evaluation.metrics import si_rmse
from mannequin.evaluation.paper_metrics import PAPER_METRICS, pair_rms, paper_errors
from mannequin.evaluation.regions import MIN_GROUP_PIXELS, score_paper


def brute(pred: np.ndarray, gt: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """The definition, pair by pair: RMS over (i, j) of (log p_i - log p_j) - (log g_i - log g_j)."""
    a = list(zip(np.log(pred[first]), np.log(gt[first]), strict=True))
    b = list(zip(np.log(pred[second]), np.log(gt[second]), strict=True))
    errs = [(pi - pj) - (gi - gj) for (pi, gi), (pj, gj) in itertools.product(a, b)]
    return math.sqrt(sum(e * e for e in errs) / len(errs))


def test_every_metric_is_the_rms_over_its_pairs() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(1, 5, (6, 7))
    pred = gt * np.exp(rng.normal(0, 0.3, gt.shape)) * 2.5
    scored = rng.random(gt.shape) > 0.2
    human = rng.random(gt.shape) > 0.6
    sets = {"all": scored, "env": scored & ~human, "human": scored & human}
    got = paper_errors(pred, gt, scored, human)
    assert set(got) == {m.name for m in PAPER_METRICS}
    for m in PAPER_METRICS:
        assert got[m.name] == pytest.approx(brute(pred, gt, sets[m.first], sets[m.second]), rel=1e-9)


def test_a_person_twice_too_far_on_a_perfect_background() -> None:
    gt = np.ones((4, 5))
    human = np.zeros((4, 5), bool)
    human[1:3, 1:3] = True  # 4 of 20 pixels
    pred = np.where(human, 2.0, 1.0) * 7.0  # any global scale: the metrics are scale-invariant
    got = paper_errors(pred, gt, np.ones_like(human), human)
    p = 4 / 20
    assert got["si_env"] == pytest.approx(0.0, abs=1e-12) and got["si_intra"] == pytest.approx(0.0, abs=1e-12)
    assert got["si_inter"] == pytest.approx(math.log(2))  # every human-environment pair is off by log 2
    assert got["si_human"] == pytest.approx(math.sqrt(1 - p) * math.log(2))  # 16 of each human's 20 partners
    assert got["si_full"] == pytest.approx(math.sqrt(2 * p * (1 - p)) * math.log(2))


def test_si_full_is_root_two_times_si_rmse() -> None:
    rng = np.random.default_rng(1)
    gt = rng.uniform(1, 3, 50)
    pred = rng.uniform(1, 3, 50)
    assert pair_rms(np.log(pred / gt), np.log(pred / gt)) == pytest.approx(math.sqrt(2) * si_rmse(gt, pred))


def test_without_people_only_the_whole_and_the_environment_are_scored() -> None:
    gt = np.full((8, 8), 2.0)
    pred = np.linspace(1, 3, 64).reshape(8, 8)
    got = score_paper(pred, gt, None, 1e-3, 10.0)
    assert set(got) == {"si_full", "si_env"} and got["si_full"] == pytest.approx(got["si_env"])
    few = np.zeros((8, 8), bool)
    few[0, : MIN_GROUP_PIXELS - 1] = True  # fewer human pixels than a group needs
    assert set(score_paper(pred, gt, few, 1e-3, 10.0)) == {"si_full", "si_env"}
    pred_nan = pred.copy()
    pred_nan[:4] = np.nan  # where a prediction has no depth (the raw parallax), its pixels are not scored
    assert score_paper(pred_nan, gt, None, 1e-3, 10.0)["si_full"] == pytest.approx(
        paper_errors(pred[4:], gt[4:], np.ones((4, 8), bool), None)["si_full"]
    )

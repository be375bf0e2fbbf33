"""The bins model's uncertainty field: error of the most confident half of the pixels against all pixels."""

from __future__ import annotations

import numpy as np
import pytest

from mannequin.evaluation.evaluate import ModelInfo, ModelRun, evaluate_models
from mannequin.evaluation.metrics import uncertainty_ranking
from mannequin.evaluation.testset import HeldOutClip


def test_a_spread_that_ranks_errors_halves_them_and_a_random_one_does_not() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(1, 5, 10_000)
    noise = rng.uniform(0, 0.4, gt.shape)
    pred = gt * (1 + noise)
    ranked = uncertainty_ranking(gt, pred, noise)
    assert ranked["abs_rel_all"] == pytest.approx(0.2, abs=0.01)
    assert ranked["abs_rel_confident_half"] == pytest.approx(0.1, abs=0.01)  # the lower half of U(0, 0.4)
    assert ranked["ratio"] == pytest.approx(0.5, abs=0.03)
    assert uncertainty_ranking(gt, pred, rng.uniform(size=gt.shape))["ratio"] == pytest.approx(1.0, abs=0.03)


class _Predictor:
    """Predicts depth with a known per-pixel error and, optionally, that error as its spread."""

    def __init__(self, gt: np.ndarray, with_spread: bool) -> None:
        self.noise = np.linspace(0, 0.4, gt[0].size).reshape(gt.shape[1:]).astype(np.float32)
        self.gt, self.meta = gt, {}
        if with_spread:
            self.predict_spread = lambda images: np.repeat(self.noise[None], len(images), 0)

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.gt[: len(images)] * (1 + self.noise)


def test_evaluate_reports_the_field_for_models_with_a_spread_only() -> None:
    gt = np.full((2, 6, 8), 2.0, np.float32)
    clip = HeldOutClip("t0", [0, 1], np.zeros((2, 6, 8, 3), np.uint8), gt)
    runs = [
        ModelRun(ModelInfo(n, "finetune"), _Predictor(gt, s), "none") for n, s in (("bins", True), ("value", False))
    ]
    results, _ = evaluate_models(runs, [clip], min_depth=1e-3, max_depth=10.0, examples=0)
    assert "uncertainty" not in results["value"]
    u = results["bins"]["uncertainty"]
    assert u["abs_rel_all"] == pytest.approx(results["bins"]["metrics"]["abs_rel"])
    assert u["ratio"] < 0.6

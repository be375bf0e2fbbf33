"""Depth metrics: the Eigen et al. set as Monodepth2 computes it, plus the Mannequin Challenge si-RMSE.

For one image, with ``gt`` and ``pred`` the depths at the N valid pixels (after alignment and clipping):

- ``abs_rel  = mean(|gt - pred| / gt)``
- ``sq_rel   = mean((gt - pred)² / gt)``
- ``rmse     = sqrt(mean((gt - pred)²))``
- ``rmse_log = sqrt(mean((log gt - log pred)²))``
- ``a1, a2, a3 = mean(max(gt / pred, pred / gt) < 1.25 ** k)`` for k = 1, 2, 3 (the δ thresholds)
- ``si_rmse  = sqrt(mean(d²) - mean(d)²)`` with ``d = log pred - log gt`` (Li et al. 2019, the square root of
  Eigen's scale-invariant error with λ = 1); it is the standard deviation of the log ratio, so it ignores any
  global scale of the prediction.

A pixel is valid when its ground truth is finite and ``min_depth < gt < max_depth`` (``max_depth`` is the depth cap).
Predictions are aligned to the valid ground truth (see :mod:`mannequin.evaluation.alignment`) and then clipped to
``[min_depth, max_depth]``, as Monodepth2 does. Non-finite predictions are an error: a model that emits NaN is broken.
"""

from __future__ import annotations

import numpy as np

from mannequin.evaluation.alignment import align

METRICS: tuple[str, ...] = ("abs_rel", "sq_rel", "rmse", "rmse_log", "si_rmse", "a1", "a2", "a3")
LOWER_IS_BETTER = {"abs_rel": True, "sq_rel": True, "rmse": True, "rmse_log": True, "si_rmse": True}
LOWER_IS_BETTER.update({"a1": False, "a2": False, "a3": False})


def valid_mask(gt: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """Pixels with finite ground truth strictly between ``min_depth`` and the cap ``max_depth``."""
    gt = np.asarray(gt)
    with np.errstate(invalid="ignore"):
        return np.isfinite(gt) & (gt > min_depth) & (gt < max_depth)


def si_rmse(gt: np.ndarray, pred: np.ndarray) -> float:
    """Scale-invariant RMSE: ``sqrt(mean(d²) - mean(d)²)``, ``d = log pred - log gt`` (both positive)."""
    d = np.log(np.asarray(pred, dtype=np.float64)) - np.log(np.asarray(gt, dtype=np.float64))
    return float(np.sqrt(max(float(np.mean(d * d) - np.mean(d) ** 2), 0.0)))


def compute_errors(gt: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """All metrics of :data:`METRICS` on matching 1-D arrays of positive depths."""
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    thresh = np.maximum(gt / pred, pred / gt)
    diff = gt - pred
    log_diff = np.log(gt) - np.log(pred)
    return {
        "abs_rel": float(np.mean(np.abs(diff) / gt)),
        "sq_rel": float(np.mean(diff * diff / gt)),
        "rmse": float(np.sqrt(np.mean(diff * diff))),
        "rmse_log": float(np.sqrt(np.mean(log_diff * log_diff))),
        "si_rmse": si_rmse(gt, pred),
        "a1": float(np.mean(thresh < 1.25)),
        "a2": float(np.mean(thresh < 1.25**2)),
        "a3": float(np.mean(thresh < 1.25**3)),
    }


def score_image(
    pred: np.ndarray, gt: np.ndarray, alignment: str = "none", min_depth: float = 1e-3, max_depth: float = 10.0
) -> dict | None:
    """Score one predicted depth map against ground truth of the same shape.

    Returns the metrics, ``n_pixels`` (valid pixels) and the alignment fit (``scale``, maybe ``shift``), or ``None``
    when the image has no valid ground-truth pixel.
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} does not match ground truth {gt.shape}")
    mask = valid_mask(gt, min_depth, max_depth)
    n = int(mask.sum())
    if n == 0:
        return None
    p = pred[mask].astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"prediction has {int((~np.isfinite(p)).sum())} non-finite values at valid pixels")
    g = gt[mask].astype(np.float64)
    aligned, fit = align(p, g, alignment, min_depth, max_depth)
    aligned = np.clip(aligned, min_depth, max_depth)
    return {**compute_errors(g, aligned), "n_pixels": n, **fit}


def mean_metrics(scores: list[dict]) -> dict[str, float]:
    """Per-image means of :data:`METRICS` (every image counts once, as in Monodepth2)."""
    if not scores:
        return {}
    return {name: float(np.mean([s[name] for s in scores])) for name in METRICS}

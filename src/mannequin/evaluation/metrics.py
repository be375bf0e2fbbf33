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

Two metrics look at the frame as a whole rather than at its pixels one by one: the depth-boundary errors of
iBims-1 (:mod:`mannequin.evaluation.boundaries`), ``dbe_acc`` (ε_acc, how far predicted depth edges lie from the
true ones, in pixels) and ``dbe_comp`` (ε_comp, how far the true edges lie from the predicted ones). A blurred
prediction can keep its abs_rel and lose its completeness. They need the maps (``frame`` metrics): a
:class:`DepthPair` built from pixels alone has only the others.

Each metric is declared once, in :data:`DEPTH_METRICS` (name, report header, direction, formula): the metrics files,
the report's columns and which way the report counts as better all derive from it. A new metric is one more entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mannequin.evaluation.alignment import align, apply_fit
from mannequin.evaluation.boundaries import Boundaries


@dataclass(frozen=True)
class FrameMaps:
    """A whole frame: true depth and the aligned, clipped prediction (same-shape 2-D maps), and where the truth is
    valid."""

    gt: np.ndarray
    pred: np.ndarray
    valid: np.ndarray


class DepthPair:
    """Ground truth and prediction at the valid pixels (matching 1-D float64 arrays of positive depths), with the
    terms several metrics share, each computed once when first asked for; ``frame`` the whole maps, for the metrics
    that need them."""

    def __init__(self, gt: np.ndarray, pred: np.ndarray, frame: FrameMaps | None = None) -> None:
        self.gt = np.asarray(gt, dtype=np.float64)
        self.pred = np.asarray(pred, dtype=np.float64)
        self.frame = frame

    @cached_property
    def boundaries(self) -> Boundaries:
        """The frame's true and predicted depth edges (needs ``frame``)."""
        if self.frame is None:
            raise ValueError("boundary errors need the whole frame (a DepthPair with frame maps)")
        return Boundaries.of(self.frame.gt, self.frame.pred, self.frame.valid)

    @cached_property
    def diff(self) -> np.ndarray:
        return self.gt - self.pred

    @cached_property
    def log_diff(self) -> np.ndarray:
        return np.log(self.gt) - np.log(self.pred)

    @cached_property
    def ratio(self) -> np.ndarray:
        """``max(gt / pred, pred / gt)``, what the δ thresholds count."""
        return np.maximum(self.gt / self.pred, self.pred / self.gt)


@dataclass(frozen=True)
class Metric:
    """One depth metric, declared once: its key in every metrics file, its report header, its direction, its formula
    (``compute`` turns one image's :class:`DepthPair` into its value)."""

    name: str
    header: str
    lower_is_better: bool
    compute: Callable[[DepthPair], float]
    #: computed from the whole frame's maps (``DepthPair.frame``), not from the valid pixels alone
    frame: bool = False

    @property
    def better(self) -> str:
        """``"lower is better"`` or ``"higher is better"``."""
        return "lower is better" if self.lower_is_better else "higher is better"

    def improvement(self, base: float, other: float) -> float | None:
        """How much better ``other`` is than ``base``, relative to ``base`` (positive when better; None at base <= 0).

        For a lower-is-better metric that is the relative reduction ``(base - other) / base``.
        """
        if not base > 0:
            return None
        return (base - other) / base if self.lower_is_better else (other - base) / base


def si_rmse(gt: np.ndarray, pred: np.ndarray) -> float:
    """Scale-invariant RMSE: ``sqrt(mean(d²) - mean(d)²)``, ``d = log pred - log gt`` (both positive)."""
    d = np.log(np.asarray(pred, dtype=np.float64)) - np.log(np.asarray(gt, dtype=np.float64))
    return float(np.sqrt(max(float(np.mean(d * d) - np.mean(d) ** 2), 0.0)))


DEPTH_METRICS: tuple[Metric, ...] = (
    Metric("abs_rel", "abs_rel", True, lambda p: np.mean(np.abs(p.diff) / p.gt)),
    Metric("sq_rel", "sq_rel", True, lambda p: np.mean(p.diff * p.diff / p.gt)),
    Metric("rmse", "rmse", True, lambda p: np.sqrt(np.mean(p.diff * p.diff))),
    Metric("rmse_log", "rmse_log", True, lambda p: np.sqrt(np.mean(p.log_diff * p.log_diff))),
    Metric("si_rmse", "si_rmse", True, lambda p: si_rmse(p.gt, p.pred)),
    Metric("a1", "δ<1.25", False, lambda p: np.mean(p.ratio < 1.25)),
    Metric("a2", "δ<1.25²", False, lambda p: np.mean(p.ratio < 1.25**2)),
    Metric("a3", "δ<1.25³", False, lambda p: np.mean(p.ratio < 1.25**3)),
    Metric("dbe_acc", "ε_acc", True, lambda p: p.boundaries.accuracy, frame=True),
    Metric("dbe_comp", "ε_comp", True, lambda p: p.boundaries.completeness, frame=True),
)
METRIC: dict[str, Metric] = {m.name: m for m in DEPTH_METRICS}
METRICS: tuple[str, ...] = tuple(METRIC)


def valid_mask(gt: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """Pixels with finite ground truth strictly between ``min_depth`` and the cap ``max_depth``."""
    gt = np.asarray(gt)
    with np.errstate(invalid="ignore"):
        return np.isfinite(gt) & (gt > min_depth) & (gt < max_depth)


def compute_errors(gt: np.ndarray, pred: np.ndarray, frame: FrameMaps | None = None) -> dict[str, float]:
    """The metrics of :data:`DEPTH_METRICS` on matching 1-D arrays of positive depths; the ``frame`` ones too when
    the whole ``frame`` is given."""
    pair = DepthPair(gt, pred, frame)
    return {m.name: float(m.compute(pair)) for m in DEPTH_METRICS if frame is not None or not m.frame}


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
    frame = FrameMaps(np.where(mask, gt, np.nan), apply_fit(pred, fit, alignment, min_depth, max_depth), mask)
    return {**compute_errors(g, aligned, frame), "n_pixels": n, **fit}


def mean_metrics(scores: list[dict]) -> dict[str, float]:
    """Per-image means of :data:`METRICS` (every image counts once, as in Monodepth2); the metrics every score
    holds (scores from pixels alone have no ``frame`` metrics)."""
    if not scores:
        return {}
    return {name: float(np.mean([s[name] for s in scores])) for name in METRICS if all(name in s for s in scores)}


#: the uncertainty field of a ``bins`` model's metrics file: how well its per-pixel spread ranks its errors
UNCERTAINTY_FIELDS: tuple[str, ...] = ("abs_rel_all", "abs_rel_confident_half", "ratio")


def uncertainty_ranking(gt: np.ndarray, pred: np.ndarray, spread: np.ndarray) -> dict[str, float]:
    """abs_rel of all valid pixels against that of the most confident half (smallest ``spread``) of one image.

    Matching 1-D arrays; ``ratio`` below 1 means the spread ranks errors (1: no better than chance).
    """
    err = np.abs(np.asarray(gt, np.float64) - np.asarray(pred, np.float64)) / np.asarray(gt, np.float64)
    order = np.argsort(np.asarray(spread, np.float64), kind="stable")
    half = err[order[: max(1, len(err) // 2)]]
    all_, conf = float(err.mean()), float(half.mean())
    return {"abs_rel_all": all_, "abs_rel_confident_half": conf, "ratio": conf / all_ if all_ > 0 else 1.0}

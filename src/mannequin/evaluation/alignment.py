"""Aligning a prediction to ground truth before scoring: none, median scaling, least-squares scale and shift.

All fits use only the valid ground-truth pixels handed in (1-D arrays), one image at a time.

- ``none``: the prediction is metric; used as is.
- ``median``: ``pred * median(gt) / median(pred)`` (Monodepth2's per-image median scaling).
- ``lstsq``: MiDaS-style scale and shift fitted in **disparity** space: ``s, t = argmin Σ (s / pred + t - 1 / gt)²``,
  then ``aligned = 1 / (s / pred + t)``; the aligned disparity is clamped to ``[1 / max_depth, 1 / min_depth]`` first
  (as MiDaS does with its depth cap), so a fit that crosses zero cannot produce negative depth.
- ``lstsq_depth``: the same fit in depth space: ``s, t = argmin Σ (s * pred + t - gt)²``, ``aligned = s * pred + t``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Alignment = Literal["none", "median", "lstsq", "lstsq_depth"]
ALIGNMENTS: tuple[str, ...] = ("none", "median", "lstsq", "lstsq_depth")


def fit_scale_shift(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares ``s, t`` minimising ``Σ (s x + t - y)²`` (closed form of the 2x2 normal equations).

    With fewer than two distinct values of ``x`` the shift is 0 and the scale is a plain ratio of sums.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    if n == 0:
        return 1.0, 0.0
    sx, sy = x.sum(), y.sum()
    sxx, sxy = (x * x).sum(), (x * y).sum()
    det = n * sxx - sx * sx
    if det <= 1e-12 * max(n * sxx, 1e-300):
        return (float(sxy / sxx) if sxx > 0 else 1.0), 0.0
    s = (n * sxy - sx * sy) / det
    t = (sy - s * sx) / n
    return float(s), float(t)


def median_scale(pred: np.ndarray, gt: np.ndarray) -> float:
    """The factor ``median(gt) / median(pred)``; 1 when the prediction's median is not positive."""
    med = float(np.median(pred)) if pred.size else 0.0
    if not np.isfinite(med) or med <= 0:
        return 1.0
    return float(np.median(gt)) / med


def align(pred: np.ndarray, gt: np.ndarray, mode: str, min_depth: float, max_depth: float) -> tuple[np.ndarray, dict]:
    """Align the valid-pixel predictions ``pred`` to ``gt`` (same shape); returns the aligned values and the fit.

    The fit is a dict (``scale`` and, for the least-squares modes, ``shift``) recorded per image by the evaluator.
    The result is not yet clipped to the depth range; :func:`mannequin.evaluation.metrics.score_image` does that.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if mode == "none":
        return pred, {"scale": 1.0}
    if mode == "median":
        scale = median_scale(pred, gt)
        return pred * scale, {"scale": scale}
    if mode == "lstsq":
        disp = 1.0 / np.maximum(pred, min_depth)
        s, t = fit_scale_shift(disp, 1.0 / gt)
        aligned_disp = np.clip(s * disp + t, 1.0 / max_depth, 1.0 / min_depth)
        return 1.0 / aligned_disp, {"scale": s, "shift": t}
    if mode == "lstsq_depth":
        s, t = fit_scale_shift(pred, gt)
        return s * pred + t, {"scale": s, "shift": t}
    raise ValueError(f"unknown alignment {mode!r}; expected one of {', '.join(ALIGNMENTS)}")


def apply_fit(pred: np.ndarray, fit: dict, mode: str, min_depth: float, max_depth: float) -> np.ndarray:
    """Apply a fit returned by :func:`align` to a whole depth map and clip it to ``[min_depth, max_depth]``."""
    pred = np.asarray(pred, dtype=np.float64)
    scale, shift = fit.get("scale", 1.0), fit.get("shift", 0.0)
    if mode in ("none", "median"):
        out = pred * scale
    elif mode == "lstsq":
        disp = scale / np.maximum(pred, min_depth) + shift
        out = 1.0 / np.clip(disp, 1.0 / max_depth, 1.0 / min_depth)
    elif mode == "lstsq_depth":
        out = scale * pred + shift
    else:
        raise ValueError(f"unknown alignment {mode!r}; expected one of {', '.join(ALIGNMENTS)}")
    return np.clip(out, min_depth, max_depth)

"""The Mannequin Challenge paper's metric set: scale-invariant RMSE over pairs of pixels (Li et al. 2019, sec. 6).

With ``d = log pred - log gt`` at a frame's scored pixels, the error of a pair ``(i, j)`` is how wrong the
prediction gets their depth ratio: ``(log pred_i - log pred_j) - (log gt_i - log gt_j) = d_i - d_j``. Each metric is
the root mean square of that error over every ordered pair with ``i`` in a first set of pixels and ``j`` in a
second one (pairs of a pixel with itself included, as the paper's evaluation code counts them):

- ``si_full``: all pixels with all pixels;
- ``si_env``: environment (non-human) pixels with environment pixels;
- ``si_human``: human pixels with all pixels;
- ``si_intra``: human pixels with human pixels;
- ``si_inter``: human pixels with environment pixels.

Over sets ``A`` and ``B`` that is ``sqrt(mean_A(d²) + mean_B(d²) - 2 mean_A(d) mean_B(d))`` (:func:`pair_rms`),
computed without forming the pairs. For ``A = B`` it is ``sqrt(2) *`` the standard deviation of ``d``, so
``si_full`` is ``sqrt(2)`` times :func:`mannequin.evaluation.metrics.si_rmse` of the same pixels. Every value
ignores a global scale of the prediction. A metric is left out of a frame when one of its sets has fewer than
``min_pixels`` pixels (a frame without people has no ``si_human``, ``si_intra`` or ``si_inter``).

Each metric is declared once in :data:`PAPER_METRICS` (name, report header, the two pixel sets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairMetric:
    """One metric of the set: its key, its report header, and the pixel sets its pairs are drawn from."""

    name: str
    header: str
    first: str  # all | env | human
    second: str


PAPER_METRICS: tuple[PairMetric, ...] = (
    PairMetric("si_full", "si-full", "all", "all"),
    PairMetric("si_env", "si-env", "env", "env"),
    PairMetric("si_human", "si-human", "human", "all"),
    PairMetric("si_intra", "si-intra", "human", "human"),
    PairMetric("si_inter", "si-inter", "human", "env"),
)
PAPER_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in PAPER_METRICS)


def pair_rms(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square of ``a_i - b_j`` over every pair (i, j) of two 1-D arrays (closed form)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    value = np.mean(a * a) + np.mean(b * b) - 2.0 * np.mean(a) * np.mean(b)
    return float(np.sqrt(max(float(value), 0.0)))


def paper_errors(
    pred: np.ndarray, gt: np.ndarray, scored: np.ndarray, human: np.ndarray | None, min_pixels: int = 1
) -> dict[str, float]:
    """The metrics of :data:`PAPER_METRICS` of one frame: ``pred`` and ``gt`` (H, W) positive where ``scored``
    (bool (H, W)); ``human`` (H, W) bool or None (nobody marked). Metrics whose sets are too small are absent."""
    scored = np.asarray(scored, bool)
    human = np.zeros_like(scored) if human is None else np.asarray(human, bool)
    d = np.zeros(scored.shape, np.float64)
    d[scored] = np.log(np.asarray(pred, np.float64)[scored]) - np.log(np.asarray(gt, np.float64)[scored])
    sets = {"all": scored, "env": scored & ~human, "human": scored & human}
    values = {name: d[mask] for name, mask in sets.items()}
    out = {}
    for metric in PAPER_METRICS:
        a, b = values[metric.first], values[metric.second]
        if a.size >= min_pixels and b.size >= min_pixels:
            out[metric.name] = pair_rms(a, b)
    return out

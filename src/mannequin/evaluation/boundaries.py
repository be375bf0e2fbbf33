"""Depth-boundary errors (iBims-1, Koch et al. 2018): are the depth edges where the true ones are, and all there?

Edges are found the same way in the true depth and in the prediction: Canny on **log depth** (so a global scale,
an alignment, changes nothing), Gaussian sigma :data:`EDGE_SIGMA`, hysteresis thresholds on the smoothed gradient
given as the **height of an ideal log-depth step** whose peak gradient reaches them (:data:`EDGE_LOW_STEP`,
:data:`EDGE_HIGH_STEP`: a depth ratio of about 1.16 to seed an edge, 1.08 to continue one). A person 2 m in front
of a wall 4 m away is a log step of 0.69; a crease between two walls is no step, and a slope of log depth smaller
than a sharp step spread over several pixels is none either. Only pixels where the true depth is valid count, and
no edge is taken along the border of that region.

With ``D_true`` (``D_pred``) the distance in pixels to the nearest true (predicted) edge, truncated at
:data:`MAX_DISTANCE_PX`:

- ``dbe_acc`` (accuracy, ε_acc): the mean of ``D_true`` over the predicted edge pixels: how far drawn edges are
  from true ones (spurious edges count the truncation distance).
- ``dbe_comp`` (completeness, ε_comp): the mean of ``D_pred`` over the true edge pixels: how far true edges are
  from the nearest drawn one (a missed edge counts the truncation distance).

Empty sets: a frame without true edges has ε_comp 0 (nothing to miss); a prediction without edges has ε_acc of
the truncation distance, as in iBims-1 (drawing nothing is not accurate). A blurred step keeps its centre, so its
accuracy stays, but its gradient falls under the thresholds: it loses completeness. That is what the pair sees and
abs_rel does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import ndimage
from skimage.feature import canny

#: Canny's Gaussian smoothing (pixels)
EDGE_SIGMA = 1.0
#: log-depth step heights whose peak smoothed gradient is Canny's low and high threshold
EDGE_LOW_STEP = 0.08
EDGE_HIGH_STEP = 0.15
#: distances are truncated here (pixels; iBims-1 uses 10)
MAX_DISTANCE_PX = 10.0


@cache
def _unit_step_response(sigma: float) -> float:
    """The largest gradient magnitude Canny measures (Gaussian ``sigma``, then Sobel) on a sharp step of height 1."""
    step = np.zeros((9, 32))
    step[:, 16:] = 1.0
    smoothed = ndimage.gaussian_filter(step, sigma, mode="nearest")
    return float(np.abs(ndimage.sobel(smoothed, axis=1)).max())


def step_gradient(height: float, sigma: float = EDGE_SIGMA) -> float:
    """Canny's gradient magnitude (its threshold units) across a sharp log-depth step of ``height``."""
    return height * _unit_step_response(sigma)


def depth_edges(depth: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Boolean (H, W) edges of a positive depth map, found on its log inside ``valid`` (see the module docstring)."""
    valid = np.asarray(valid, bool)
    if valid.sum() < 9:
        return np.zeros(valid.shape, bool)
    log = np.log(np.where(valid, np.asarray(depth, np.float64), 1.0))
    log = np.where(valid, log, float(np.median(log[valid])))  # invalid pixels are masked out below
    return canny(
        log,
        sigma=EDGE_SIGMA,
        low_threshold=step_gradient(EDGE_LOW_STEP),
        high_threshold=step_gradient(EDGE_HIGH_STEP),
        mask=valid,
    )


@dataclass(frozen=True)
class Boundaries:
    """The edges of one frame's true depth and prediction, and the truncated distances between them."""

    true_edges: np.ndarray
    pred_edges: np.ndarray

    @classmethod
    def of(cls, gt: np.ndarray, pred: np.ndarray, valid: np.ndarray) -> Boundaries:
        """Edges of ``gt`` and ``pred`` (same-shape positive depth maps) inside ``valid``."""
        return cls(depth_edges(gt, valid), depth_edges(pred, valid))

    @staticmethod
    def _distance_to(edges: np.ndarray) -> np.ndarray:
        if not edges.any():
            return np.full(edges.shape, MAX_DISTANCE_PX)
        return np.minimum(ndimage.distance_transform_edt(~edges), MAX_DISTANCE_PX)

    @property
    def accuracy(self) -> float:
        """ε_acc: mean truncated distance from predicted edges to true edges (the truncation if none predicted)."""
        if not self.pred_edges.any():
            return MAX_DISTANCE_PX
        return float(self._distance_to(self.true_edges)[self.pred_edges].mean())

    @property
    def completeness(self) -> float:
        """ε_comp: mean truncated distance from true edges to predicted edges (0 when there are no true edges)."""
        if not self.true_edges.any():
            return 0.0
        return float(self._distance_to(self.pred_edges)[self.true_edges].mean())

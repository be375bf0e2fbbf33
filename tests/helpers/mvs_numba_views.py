"""The compiled MVS kernels seen the way the tests compare them: (H,W,D) volumes, one SGM path at a time.

The product calls :func:`mannequin.curation.mvs_numba.sweep_and_select` (planes in the middle axis, fused selection);
these views hold the torch reference's layout (:mod:`mannequin.curation.mvs_cost`) and the plain statement of the
SGM recurrence, so that each step of the fused kernel can be checked against a known answer.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from mannequin.config.curate import MvsParams
from mannequin.curation import mvs_cost
from mannequin.curation.mvs import _ClipMvs
from mannequin.curation.mvs_numba import _BIG, _check_paths, _sgm, select_planes, sgm_select_planes, sweep_planes


def frame_inputs(scene, i: int = 2):
    """The sweep inputs of frame ``i`` of an analytic scene: the clip MVS, source views, geometry, inverse depths."""
    mvs = _ClipMvs(scene.images, scene.cameras, MvsParams(planes=32), torch.device("cpu"))
    plan, rig = mvs.plan(i), mvs.rig
    src = list(plan.sources)
    rel = [rig.relative(i, j) for j in src]
    R, t = np.stack([r for r, _ in rel]), np.stack([t for _, t in rel])
    geometry = mvs_cost.sweep_geometry(rig.K[i], rig.K[src], R, t, rig.height, rig.width, "cpu")
    inv = torch.linspace(1.0 / plan.far, 1.0 / plan.near, 32, dtype=torch.float64)
    return mvs, src, geometry, inv


def sweep_volume(
    ref: np.ndarray,
    sources: np.ndarray,
    A: np.ndarray,
    q: np.ndarray,
    inv_depths: np.ndarray,
    window: int,
    best_k: int,
    eps: float,
    bound: tuple[float, float],
) -> np.ndarray:
    """``sweep_planes`` as (H,W,D)."""
    return np.ascontiguousarray(
        sweep_planes(ref, sources, A, q, inv_depths, window, best_k, eps, bound).transpose(0, 2, 1)
    )


def _planes_last(volume: np.ndarray) -> np.ndarray:
    """(H,W,D) <-> (H,D,W)."""
    return np.ascontiguousarray(np.asarray(volume, np.float32).transpose(0, 2, 1))


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)  # min and add only: exact in any order
def _step(before: np.ndarray, has_prev: bool, score: np.ndarray, p1: np.float32, p2: np.float32, out: np.ndarray):
    """One SGM step: path costs ``out`` (D+2, padded) of a pixel from those ``before`` it and its scores."""
    D = score.shape[0]
    if not has_prev:
        for d in range(D):
            out[d + 1] = (np.float32(1) - score[d]) / np.float32(2)
        return
    low = before[1]
    for d in range(2, D + 1):
        low = min(low, before[d])
    jump = low + p2
    for d in range(D):
        best = min(min(before[d + 1], min(before[d + 2], before[d]) + p1), jump)
        out[d + 1] = best - low + (np.float32(1) - score[d]) / np.float32(2)


@njit(cache=True, nogil=True, error_model="numpy")
def _one_path(scores: np.ndarray, dy: int, dx: int, p1: float, p2: float, out: np.ndarray) -> None:
    H, W = scores.shape[:2]
    for step in range(H):
        y = step if dy >= 0 else H - 1 - step
        for xstep in range(W):
            x = xstep if dx >= 0 else W - 1 - xstep
            py, px = y - dy, x - dx
            ok = 0 <= py < H and 0 <= px < W
            _step(out[py if ok else y, px if ok else x], ok, scores[y, x], np.float32(p1), np.float32(p2), out[y, x])


def path_costs(scores: np.ndarray, dy: int, dx: int, p1: float, p2: float) -> np.ndarray:
    """SGM path costs (H,W,D) of one direction (dy, dx) of a score volume (H,W,D): cost (1 - score) / 2.

    A pixel at a time: the plain statement of the recurrence that ``_row_horizontal`` and ``_row_vertical``
    vectorise, for the tests."""
    H, W, D = scores.shape
    out = np.full((H, W, D + 2), _BIG, np.float32)
    _one_path(np.ascontiguousarray(scores, np.float32), dy, dx, float(p1), float(p2), out)
    return out[:, :, 1:-1]


def aggregate_paths(scores: np.ndarray, p1: float, p2: float, paths: int = 4) -> np.ndarray:
    """Semi-global aggregation of a score volume (H,W,D) in [-1,1] over 4 or 8 paths.

    As ``mvs_cost.aggregate_paths``: cost (1 - score) / 2, penalties ``p1`` (one-plane step) and ``p2``
    (larger jump); returns 1 - 2 * mean path cost.
    """
    _check_paths(paths)
    planes = _planes_last(scores)
    total = np.empty_like(planes)
    _sgm(planes, float(p1), float(p2), paths == 8, False, 0.0, 0.0, np.empty((3, 1, 1), np.float32), total)
    return _planes_last(total)


def aggregate_and_select(
    scores: np.ndarray, inv_depths: np.ndarray, p1: float, p2: float, paths: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``winner_take_all(aggregate_paths(scores, ...))`` of (H,W,D) ``scores`` in one pass less: each pixel is
    decided as soon as its last path is in (the aggregated volume is never written back as scores)."""
    return sgm_select_planes(_planes_last(scores), inv_depths, p1, p2, paths)


def winner_take_all(scores: np.ndarray, inv_depths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best plane per pixel of (H,W,D) ``scores``, refined by a parabola: (inv_depth, best score, confidence)."""
    return select_planes(_planes_last(scores), inv_depths)

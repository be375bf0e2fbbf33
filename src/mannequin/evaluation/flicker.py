"""Temporal consistency: how much a depth prediction flickers between consecutive frames.

For consecutive frames ``t`` and ``t+1``, each static pixel ``p`` of ``t`` is carried to ``t+1`` (a
:class:`Correspondence`), and the flicker of the pair is the mean over the static, co-visible pixels of

    ``|log d_t(p) + dlog(p) - log d_{t+1}(q)|``

where ``q`` is where ``p`` lands in ``t+1`` (bilinear sampling) and ``dlog(p)`` the change of ``p``'s log depth that
the camera's own motion explains (0 for optical flow). The clip's figure is the mean over its pairs.

Before that every frame is median-aligned: its log depth is shifted so that its median over the static pixels
is the reference's there (a per-frame reference, e.g. the ground truth or the parallax input, in the poses'
units), or 0 without a reference. A per-frame scale jitter therefore costs nothing; what is left is how the
*shape* of the depth changes, which a static scene does not.

Two ways to carry pixels, both declared here once:

- :func:`pose_correspondence`: through the clip's cameras and frame ``t``'s (aligned) depth, which must then be
  in the poses' units (a reference is needed); ``dlog`` is the log ratio of the point's depth in ``t+1`` to
  ``t``;
- :func:`flow_correspondence`: OpenCV's DIS optical flow from ``t`` to ``t+1``, kept where the backward flow
  brings the pixel back within :data:`FB_TOL_PX` (co-visible); ``dlog = 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mannequin.clips.cameras import reproject

#: forward-backward flow disagreement (pixels) above which a pixel counts as not co-visible
FB_TOL_PX = 1.0
#: a pair counts only when at least this fraction of the frame is static, co-visible and has depth in both
MIN_PIXELS = 0.05


@dataclass(frozen=True)
class Correspondence:
    """Where frame ``t``'s pixels land in ``t+1``: ``u``, ``v`` (H,W) float32, NaN where they do not (outside, behind
    the camera, not co-visible); ``dlog`` (H,W) the log-depth change the camera motion explains (0 for flow)."""

    u: np.ndarray
    v: np.ndarray
    dlog: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.u) & np.isfinite(self.v)


def _sample(image: np.ndarray, u: np.ndarray, v: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """``image`` at (u, v) (edge pixels repeat outside), NaN where u or v is NaN or ``image`` is NaN nearby."""
    where = np.isfinite(u) & np.isfinite(v)
    mu = np.where(where, u, 0).astype(np.float32)
    mv = np.where(where, v, 0).astype(np.float32)
    out = cv2.remap(image.astype(np.float32), mu, mv, interpolation, borderMode=cv2.BORDER_REPLICATE)
    return np.where(where, out, np.float32(np.nan))


def pose_correspondence(depth_t: np.ndarray, cam_t, cam_next) -> Correspondence:
    """Frame ``t``'s pixels carried into ``t+1`` through ``depth_t`` (poses' units, NaN unknown) and the cameras
    (:class:`mannequin.clips.cameras.Camera`, world-to-camera)."""
    h, w = depth_t.shape
    known = np.isfinite(depth_t) & (depth_t > 0)
    un, vn, z_next = reproject(depth_t, cam_t, cam_next)
    with np.errstate(divide="ignore", invalid="ignore"):
        dlog = np.log(z_next / np.where(known, depth_t, 1.0))
    eps = 1e-3  # a pixel carried onto itself may land a rounding error outside the frame
    ok = known & (z_next > 0) & (un > -eps) & (un < w - 1 + eps) & (vn > -eps) & (vn < h - 1 + eps)
    nan = np.float32(np.nan)
    return Correspondence(
        np.where(ok, np.clip(un, 0, w - 1), nan).astype(np.float32),
        np.where(ok, np.clip(vn, 0, h - 1), nan).astype(np.float32),
        np.where(ok, dlog, 0.0).astype(np.float32),
    )  # fmt: skip


def _dis_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None)


def flow_correspondence(image_t: np.ndarray, image_next: np.ndarray, fb_tol_px: float = FB_TOL_PX) -> Correspondence:
    """Frame ``t``'s pixels carried into ``t+1`` by DIS optical flow (RGB uint8 frames), kept where the backward
    flow brings them back within ``fb_tol_px``."""
    a = cv2.cvtColor(image_t, cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(image_next, cv2.COLOR_RGB2GRAY)
    forward, backward = _dis_flow(a, b), _dis_flow(b, a)
    h, w = a.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    un, vn = u + forward[..., 0], v + forward[..., 1]
    back_u = _sample(backward[..., 0], un, vn)
    back_v = _sample(backward[..., 1], un, vn)
    err = np.hypot(forward[..., 0] + back_u, forward[..., 1] + back_v)
    ok = (un >= 0) & (un <= w - 1) & (vn >= 0) & (vn <= h - 1) & (err <= fb_tol_px)
    nan = np.float32(np.nan)
    return Correspondence(np.where(ok, un, nan), np.where(ok, vn, nan), np.zeros((h, w), np.float32))


def median_aligned_log(
    depth: np.ndarray, static: np.ndarray | None = None, reference: np.ndarray | None = None
) -> np.ndarray:
    """``log depth`` (NaN where unknown) shifted so that its median over the static pixels where ``reference`` is
    known too is the reference's log median there (0 without a reference)."""
    depth = np.asarray(depth, np.float64)
    known = np.isfinite(depth) & (depth > 0)
    log = np.full(depth.shape, np.nan)
    log[known] = np.log(depth[known])
    use = known if static is None else known & static
    target = 0.0
    if reference is not None:
        ref = np.asarray(reference, np.float64)
        ref_known = np.isfinite(ref) & (ref > 0)
        use = use & ref_known
        if use.any():
            target = float(np.median(np.log(ref[use])))
    if not use.any():
        return np.full(depth.shape, np.nan)
    return log - float(np.median(log[use])) + target


def pair_flicker(
    log_t: np.ndarray,
    log_next: np.ndarray,
    corr: Correspondence,
    static_t: np.ndarray | None = None,
    static_next: np.ndarray | None = None,
    min_pixels: float = MIN_PIXELS,
) -> float:
    """Mean ``|log_t + dlog - log_next(q)|`` over the static, co-visible pixels with depth in both (NaN when fewer
    than ``min_pixels`` of the frame)."""
    sampled = _sample(log_next, corr.u, corr.v)
    if static_next is not None:
        moving_next = _sample((~np.asarray(static_next, bool)).astype(np.float32), corr.u, corr.v, cv2.INTER_NEAREST)
        sampled = np.where(moving_next > 0, np.nan, sampled)
    use = corr.valid & np.isfinite(log_t) & np.isfinite(sampled)
    if static_t is not None:
        use &= np.asarray(static_t, bool)
    if use.sum() < min_pixels * use.size:
        return float("nan")
    return float(np.mean(np.abs(log_t[use] + corr.dlog[use] - sampled[use])))


def clip_flicker(
    depth: np.ndarray,
    images: np.ndarray,
    masks: np.ndarray | None = None,
    cameras: Sequence | None = None,
    reference: np.ndarray | None = None,
) -> dict:
    """The flicker of a clip's consecutive frames: ``{"mean": over the pairs (None without any), "pairs": n,
    "warp": "poses" | "flow"}``.

    ``depth`` (N,H,W) predictions (NaN or <= 0 unknown), ``images`` (N,H,W,3) uint8, ``masks`` (N,H,W) True where
    something may move (left out), ``cameras`` one per frame at this size, ``reference`` (N,H,W) depth in the
    poses' units for the alignment. Pixels are carried by the poses when both cameras and a reference are given
    (the aligned depth is then in the poses' units), else by optical flow.
    """
    depth = np.asarray(depth)
    n = len(depth)
    static = None if masks is None else ~np.asarray(masks, bool)
    by_poses = cameras is not None and reference is not None
    logs = [
        median_aligned_log(depth[k], None if static is None else static[k], None if reference is None else reference[k])
        for k in range(n)
    ]
    values = []
    for k in range(n - 1):
        if by_poses:
            corr = pose_correspondence(np.exp(logs[k]), cameras[k], cameras[k + 1])
        else:
            corr = flow_correspondence(images[k], images[k + 1])
        s_t, s_n = (None, None) if static is None else (static[k], static[k + 1])
        value = pair_flicker(logs[k], logs[k + 1], corr, s_t, s_n)
        if np.isfinite(value):
            values.append(value)
    return {
        "mean": float(np.mean(values)) if values else None,
        "pairs": len(values),
        "warp": "poses" if by_poses else "flow",
    }

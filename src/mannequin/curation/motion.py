"""Motion score: what frames far apart in time see where a static scene says they must agree.

The MVS checks (forward-backward consistency, photometric agreement) compare a frame with nearby
source views, between which a slowly moving thing barely moves, and the MVS leaves moving things
without confident depth. This score compares frames far apart in time instead. Each confident pixel
of frame ``i`` is a 3D point; seen from a distant frame ``j`` of a static scene it is either

- hidden behind a nearer surface that ``j`` reconstructed (allowed: occlusion), or
- visible, so that ``j`` sees the same texture there and, where ``j`` has depth, the same depth.

Evidence of motion is the rest: ``j`` sees *through* the point (a free-space violation, ``j``'s depth
clearly larger) or sees different texture there (windowed ZNCC below ``MAX_ZNCC``) without having a
nearer surface to explain it: where something stood in ``i``, ``j`` sees the wall behind it; where
``i`` saw the wall, ``j`` sees something that walked in front of it (and has no depth, as moving
things get none). Scattered depth and matching errors also make isolated evidence, so only blobs of
at least ``MIN_AREA`` of the image count.

Everything is a ratio (relative depth tolerance, ZNCC, pixel fractions): the score does not depend on
the pose scale, the resolution or the frame count. ``motion_fraction`` is a high percentile, over
distant frame pairs, of the fraction of checked pixels in evidence blobs.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mannequin.clips.cameras import Camera, reproject

#: Relative depth difference that counts as a nearer occluder or a seen-through point.
REL_TOL = 0.15
#: Windowed ZNCC below it: frame j does not see frame i's texture there.
MAX_ZNCC = 0.3
#: A window lies on one surface when its known depths span less than this relative range.
EDGE_TOL = 0.3
#: ZNCC window side, pixels.
WINDOW = 7
#: Windows of frame i with a smaller intensity std (0..1) carry no texture to compare.
MIN_TEXTURE = 0.02
#: Smallest evidence blob that counts, as a fraction of the image.
MIN_AREA = 0.005
#: Pairs are at least this fraction of the clip apart in time.
MIN_GAP = 1.0 / 3.0
#: Partner frames per frame.
PARTNERS = 3
#: The clip score is this percentile of the per-pair fractions.
PERCENTILE = 90.0
#: A pair counts only when this fraction of the image could be checked.
MIN_CHECKED = 0.02


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0


def pair_evidence(
    depth_i: np.ndarray,
    cam_i: Camera,
    gray_i: np.ndarray,
    depth_j: np.ndarray,
    cam_j: Camera,
    gray_j: np.ndarray,
    rel_tol: float = REL_TOL,
    max_zncc: float = MAX_ZNCC,
    window: int = WINDOW,
    edge_tol: float = EDGE_TOL,
) -> tuple[np.ndarray, np.ndarray]:
    """Motion evidence on frame ``i`` from frame ``j``: ``(evidence, checked)`` (H,W) bool.

    ``checked``: confident in ``i``, its whole window lands inside ``j`` in front of the camera, and ``j``
    has no confident nearer surface there (``depth_j < z (1 - rel_tol)``, nearest pixel).
    ``evidence``: checked and either ``depth_j > z (1 + rel_tol)`` (seen through) or textured with a
    ZNCC below ``max_zncc`` between ``i``'s window and ``j`` warped into ``i`` through ``i``'s depth (only
    where the window's known depths lie on one surface, within ``edge_tol``: the warp is wrong across edges).
    Depths are NaN where unknown, in the poses' units; gray images in [0, 1].
    """
    known = np.isfinite(depth_i) & (depth_i > 0)
    z = np.where(known, depth_i, 1.0).astype(np.float64)
    uj, vj, zj = reproject(depth_i, cam_i, cam_j)
    Hj, Wj = depth_j.shape
    inside = known & (zj > 0) & (uj >= 0) & (uj <= Wj - 1) & (vj >= 0) & (vj <= Hj - 1)
    map_u = np.where(inside, uj, -10.0).astype(np.float32)
    map_v = np.where(inside, vj, -10.0).astype(np.float32)
    warped = cv2.remap(gray_j, map_u, map_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    seen = cv2.remap(np.nan_to_num(depth_j, nan=0.0).astype(np.float32), map_u, map_v, cv2.INTER_NEAREST, borderValue=0)
    has_j = inside & (seen > 0)
    occluded = has_j & (seen < zj * (1.0 - rel_tol))
    through = has_j & (seen > zj * (1.0 + rel_tol))
    a, b = np.where(inside, gray_i, 0.0).astype(np.float32), np.where(inside, warped, 0.0).astype(np.float32)
    box = (window, window)
    ma, mb = cv2.blur(a, box), cv2.blur(b, box)
    var_a = np.maximum(cv2.blur(a * a, box) - ma * ma, 0.0)
    var_b = np.maximum(cv2.blur(b * b, box) - mb * mb, 0.0)
    zncc = (cv2.blur(a * b, box) - ma * mb) / np.sqrt(np.maximum(var_a * var_b, 1e-12))
    kernel = np.ones(box, np.uint8)
    whole = cv2.erode(inside.astype(np.uint8), kernel, borderValue=0) > 0
    checked = whole & ~occluded
    # the warp of a window is only right on one surface: no ZNCC across a depth edge (unknown depths ignored)
    z32 = np.where(known, z, np.nan).astype(np.float32)
    near = cv2.erode(np.nan_to_num(z32, nan=np.inf), kernel, borderValue=np.inf)
    far = cv2.dilate(np.nan_to_num(z32, nan=0.0), kernel, borderValue=0.0)
    one_surface = far <= near * (1.0 + edge_tol)
    differs = one_surface & (np.sqrt(var_a) >= MIN_TEXTURE) & (zncc < max_zncc)
    return checked & (through | differs), checked


def clustered(mask: np.ndarray, min_area: float = MIN_AREA) -> np.ndarray:
    """The pixels of ``mask`` that survive a 3x3 opening in connected blobs of at least ``min_area`` of the image."""
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area * mask.size)
    return np.isin(labels, big[big > 0])


def distant_pairs(n: int, min_gap: float = MIN_GAP, partners: int = PARTNERS) -> list[tuple[int, int]]:
    """Up to ``partners`` frames ``j`` per frame ``i``, at least ``min_gap * n`` frames away, spread evenly."""
    gap = max(1, int(np.ceil(min_gap * n)))
    pairs = []
    for i in range(n):
        far = [j for j in range(n) if abs(i - j) >= gap]
        if len(far) > partners:
            far = [far[k] for k in sorted({round(float(x)) for x in np.linspace(0, len(far) - 1, partners)})]
        pairs += [(i, j) for j in far]
    return pairs


def pair_motion_fractions(
    depth: np.ndarray, images: np.ndarray, cameras: Sequence[Camera], min_area: float = MIN_AREA, **kwargs
) -> np.ndarray:
    """Per distant pair ``(i, j)``, the fraction of ``i``'s checked pixels in evidence blobs (NaN: too few checked).

    ``depth`` (N,H,W) NaN where unconfident, ``images`` (N,H,W,3) uint8, ``kwargs`` go to :func:`pair_evidence`.
    """
    gray = [_gray(im) for im in images]
    pairs = distant_pairs(len(depth))
    out = np.full(len(pairs), np.nan)
    for k, (i, j) in enumerate(pairs):
        evidence, checked = pair_evidence(depth[i], cameras[i], gray[i], depth[j], cameras[j], gray[j], **kwargs)
        n_checked = int(checked.sum())
        if n_checked >= MIN_CHECKED * checked.size:
            out[k] = float(clustered(evidence, min_area).sum()) / n_checked
    return out


def motion_fraction(
    depth: np.ndarray, images: np.ndarray, cameras: Sequence[Camera], percentile: float = PERCENTILE, **kwargs
) -> float:
    """The clip's motion score: a high percentile of :func:`pair_motion_fractions`; 0 when nothing could be checked."""
    fractions = pair_motion_fractions(depth, images, cameras, **kwargs)
    fractions = fractions[np.isfinite(fractions)]
    return float(np.percentile(fractions, percentile)) if len(fractions) else 0.0


def _carry(
    mask_j: np.ndarray, depth_j: np.ndarray, cam_j: Camera, cam_i: Camera, shape_i: tuple[int, int]
) -> np.ndarray:
    """The pixels of frame ``i`` where frame ``j``'s ``mask_j`` pixels land through ``j``'s depth (nearest pixel)."""
    out = np.zeros(shape_i, bool)
    v, u = np.nonzero(mask_j & np.isfinite(depth_j) & (depth_j > 0))
    if len(u) == 0:
        return out
    rays = np.stack([u, v, np.ones_like(u)], axis=1).astype(np.float64) @ np.linalg.inv(cam_j.K).T
    R = cam_i.R @ cam_j.R.T
    Xi = (rays * depth_j[v, u][:, None]) @ R.T + (cam_i.t - R @ cam_j.t)
    front = Xi[:, 2] > 0
    uvw = Xi[front] @ cam_i.K.T
    ui = np.round(uvw[:, 0] / uvw[:, 2]).astype(np.int64)
    vi = np.round(uvw[:, 1] / uvw[:, 2]).astype(np.int64)
    inside = (ui >= 0) & (ui < shape_i[1]) & (vi >= 0) & (vi < shape_i[0])
    out[vi[inside], ui[inside]] = True
    return out


def motion_masks(
    depth: np.ndarray,
    images: np.ndarray,
    cameras: Sequence[Camera],
    dilate_px: int = 2,
    fill_px: int = 8,
    min_area: float = MIN_AREA,
    **kwargs,
) -> np.ndarray:
    """Per frame, where something may move, from the evidence behind :func:`motion_fraction`: (N,H,W) bool.

    Frame ``i``'s mask is the union over its distant partners ``j`` (:func:`distant_pairs`) of the evidence
    blobs on ``i`` from ``j`` (where ``i``'s surface is seen through or looks different from ``j``: where the
    mover stands in ``j``) and of the evidence blobs on ``j`` from ``i`` carried into ``i`` through ``j``'s
    depth (where ``j`` saw the background and ``i`` sees something in front of it: where the mover stands in
    ``i``), closed, grown by ``dilate_px`` and then by up to ``fill_px`` more through pixels of ``i`` without
    depth (a mover gets none, so this reaches the rest of it). Both places matter for a parallax depth.
    Inputs as for :func:`pair_motion_fractions`; the scores themselves are unchanged.
    """
    n = len(depth)
    gray = [_gray(im) for im in images]
    shape = depth.shape[1:]
    masks = np.zeros(depth.shape, bool)
    for i, j in distant_pairs(n):
        on_i, _ = pair_evidence(depth[i], cameras[i], gray[i], depth[j], cameras[j], gray[j], **kwargs)
        on_j, _ = pair_evidence(depth[j], cameras[j], gray[j], depth[i], cameras[i], gray[i], **kwargs)
        masks[i] |= clustered(on_i, min_area)
        masks[i] |= _carry(clustered(on_j, min_area), depth[j], cameras[j], cameras[i], shape)
    close = np.ones((5, 5), np.uint8)
    grow = np.ones((2 * dilate_px + 1, 2 * dilate_px + 1), np.uint8)
    step = np.ones((3, 3), np.uint8)
    for i in range(n):
        m = cv2.morphologyEx(masks[i].astype(np.uint8), cv2.MORPH_CLOSE, close)
        m = cv2.dilate(m, grow) if dilate_px > 0 else m
        unknown = (~(np.isfinite(depth[i]) & (depth[i] > 0))).astype(np.uint8)
        for _ in range(fill_px):
            m = m | (cv2.dilate(m, step) & unknown)
        masks[i] = m > 0
    return masks

"""Clip quality scores. Every score is scale-free: angles, fractions and a normalised sharpness.

Poses from SLAM have an arbitrary scale, clips come at any resolution, frame rate and field of
view, so no score is ever in pose units or pixels:

- ``pose_jump``: the largest step between consecutive camera centres over the median step
  (a teleport in a SLAM track is a step many times the usual one).
- ``translation``: camera-centre spread over the largest translation norm; exactly 0 when the
  camera only rotates or stands still (a pose-only test, before any depth is known).
- ``rotation_deg``: the largest rotation between any frame and the first.
- ``sharpness``: ``1 - blur_effect`` (Crété-Roffet et al. 2007, scikit-image), the median over the
  frames read at the curation width: in [0, 1], invariant to exposure and contrast.
- ``parallax_deg``: median triangulation angle of the confident MVS pixels (median over frames).
- ``inconsistent_fraction``: median over frames of the fraction of photometrically confident
  pixels that fail the forward-backward geometric check; moving things make it high.
- ``disagreement_fraction``: median over frames of the fraction of confident pixels where a source
  view does not match the image at the chosen depth (photometric sign of motion, from the MVS).
- ``motion_fraction``: blobs where frames far apart in time see through each other's confident surfaces
  or see other texture there with no nearer surface to explain it (``mannequin.curation.motion``): the
  sign of motion that the MVS checks between neighbouring frames miss.
- ``coverage``: mean over frames of the fraction of pixels with confident depth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from skimage.measure import blur_effect

from mannequin.clips.cameras import Camera


@dataclass(frozen=True)
class PoseScores:
    """Pose-only sanity scores of a whole clip (all pose lines)."""

    pose_jump: float
    translation: float
    rotation_deg: float
    jump_at: int  # index of the pose line after the largest step


def rotation_angle_deg(Ra: np.ndarray, Rb: np.ndarray) -> float:
    """Angle of the rotation taking frame ``a`` to frame ``b``, in degrees."""
    cos = (np.trace(Rb @ Ra.T) - 1.0) / 2.0
    return math.degrees(math.acos(float(np.clip(cos, -1.0, 1.0))))


def pose_scores(cameras: list[Camera]) -> PoseScores:
    """Scale-free pose sanity scores from the camera track alone."""
    centers = np.stack([c.center for c in cameras])
    steps = np.linalg.norm(np.diff(centers, axis=0), axis=1)
    t_norm = max(float(np.max([np.linalg.norm(c.t) for c in cameras])), float(np.max(np.linalg.norm(centers, axis=1))))
    spread = float(np.max(np.linalg.norm(centers - centers.mean(axis=0), axis=1))) if len(centers) else 0.0
    translation = spread / t_norm if t_norm > 0 else 0.0
    median_step = float(np.median(steps)) if len(steps) else 0.0
    if len(steps) and median_step > 0:
        jump = float(steps.max() / median_step)
        jump_at = int(np.argmax(steps)) + 1
    else:
        jump, jump_at = (1.0, 0) if not len(steps) or steps.max() == 0 else (math.inf, int(np.argmax(steps)) + 1)
    rotation = max((rotation_angle_deg(cameras[0].R, c.R) for c in cameras), default=0.0)
    return PoseScores(pose_jump=jump, translation=min(translation, 1.0), rotation_deg=rotation, jump_at=jump_at)


def frame_sharpness(image: np.ndarray) -> float:
    """``1 - blur_effect`` of one RGB frame: ~0.8 crisp texture, lower when blurred; contrast-invariant."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    if float(gray.std()) < 1e-6:
        return 0.0  # a uniform image has no detail at all
    return float(1.0 - blur_effect(gray, h_size=11))


def clip_sharpness(images: np.ndarray) -> float:
    """Median frame sharpness of a clip's frames (N,H,W,3)."""
    return float(np.median([frame_sharpness(im) for im in images]))


def depth_scores(
    depth: np.ndarray,
    median_angle_deg: np.ndarray,
    inconsistent_fraction: np.ndarray,
    disagreement_fraction: np.ndarray | None = None,
) -> dict:
    """Parallax, static-scene and coverage scores from a clip's MVS output."""
    frame_cov = np.isfinite(depth).mean(axis=(1, 2))
    has_depth = frame_cov > 0  # frames without a confident pixel have no parallax to measure
    angles = np.asarray(median_angle_deg, dtype=np.float64)
    angles = angles[has_depth & np.isfinite(angles)]
    incons = np.asarray(inconsistent_fraction, dtype=np.float64)
    incons = incons[np.isfinite(incons)]
    disagree = np.asarray(disagreement_fraction if disagreement_fraction is not None else [], dtype=np.float64)
    disagree = disagree[np.isfinite(disagree)]
    return {
        "parallax_deg": float(np.median(angles)) if len(angles) else None,
        "inconsistent_fraction": float(np.median(incons)) if len(incons) else 0.0,
        "disagreement_fraction": float(np.median(disagree)) if len(disagree) else 0.0,
        "coverage": float(frame_cov.mean()),
    }


def even_indices(n: int, k: int) -> list[int]:
    """Up to ``k`` frame indices spread evenly over ``n`` frames, first and last included."""
    if n <= k:
        return list(range(n))
    return sorted({round(float(x)) for x in np.linspace(0, n - 1, k)})

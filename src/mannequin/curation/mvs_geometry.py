"""Camera arrays for MVS: the clip's poses as stacked numpy arrays, normalised to a unit scale.

SLAM poses have an arbitrary scale, so the MVS works on poses divided by a scale read from the
poses alone (the RMS distance of the camera centres from their mean). Depth found on the
normalised poses is multiplied back by that scale, which makes the output exactly covariant
with any rescaling of the translations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mannequin.clips.cameras import Camera


@dataclass(frozen=True)
class Rig:
    """Stacked cameras of a clip: ``K`` (N,3,3), ``R`` (N,3,3), ``t`` (N,3), image ``width`` x ``height``."""

    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.K)

    @property
    def centers(self) -> np.ndarray:
        """Camera centres (N,3) in world coordinates."""
        return -np.einsum("nji,nj->ni", self.R, self.t)

    def projection(self, i: int) -> np.ndarray:
        """The 3x4 projection matrix ``K [R|t]`` of frame ``i``."""
        return self.K[i] @ np.hstack([self.R[i], self.t[i][:, None]])

    def relative(self, ref: int, src: int) -> tuple[np.ndarray, np.ndarray]:
        """Rotation and translation taking ``ref`` camera coordinates to ``src`` camera coordinates."""
        R = self.R[src] @ self.R[ref].T
        return R, self.t[src] - R @ self.t[ref]


def pose_scale(cameras: Sequence[Camera]) -> float:
    """RMS distance of the camera centres from their mean; 1.0 when all centres coincide."""
    centers = np.stack([c.center for c in cameras])
    scale = float(np.sqrt(np.mean(np.sum((centers - centers.mean(axis=0)) ** 2, axis=1))))
    return scale if scale > 0 and np.isfinite(scale) else 1.0


def build_rig(cameras: Sequence[Camera], width: int, height: int, scale: float) -> Rig:
    """Stack ``cameras`` for images of ``width`` x ``height``, translations divided by ``scale``."""
    cams = [c if (c.width, c.height) == (width, height) else c.resized(width, height) for c in cameras]
    return Rig(
        K=np.stack([c.K for c in cams]),
        R=np.stack([c.R for c in cams]),
        t=np.stack([c.t for c in cams]) / scale,
        width=width,
        height=height,
    )


def ray_angle_deg(point: np.ndarray, center_a: np.ndarray, center_b: np.ndarray) -> np.ndarray:
    """Angle in degrees at ``point`` (...,3) between the rays to ``center_a`` and ``center_b``."""
    a = center_a - point
    b = center_b - point
    cos = np.sum(a * b, axis=-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-300)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

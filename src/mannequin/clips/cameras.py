"""Pinhole cameras with world-to-camera poses: a world point X maps to ``R @ X + t`` (x right, y down, z forward)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Camera:
    """One frame's camera: pixel intrinsics ``K`` and world-to-camera ``R``, ``t``.

    A world point X maps to the camera point ``R @ X + t`` and the pixel ``K @ (R @ X + t)``.
    """

    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int
    timestamp_us: int = 0
    dist: tuple[float, ...] = field(default=(0.0, 0.0))

    def __post_init__(self) -> None:
        object.__setattr__(self, "K", np.asarray(self.K, dtype=np.float64).reshape(3, 3))
        object.__setattr__(self, "R", np.asarray(self.R, dtype=np.float64).reshape(3, 3))
        object.__setattr__(self, "t", np.asarray(self.t, dtype=np.float64).reshape(3))

    @property
    def center(self) -> np.ndarray:
        """Camera centre in world coordinates."""
        return -self.R.T @ self.t

    @property
    def extrinsic(self) -> np.ndarray:
        """The 4x4 world-to-camera matrix."""
        m = np.eye(4)
        m[:3, :3] = self.R
        m[:3, 3] = self.t
        return m

    def scaled(self, factor: float) -> Camera:
        """The same camera with the translation multiplied by ``factor`` (a change of units)."""
        return Camera(self.K, self.R, self.t * factor, self.width, self.height, self.timestamp_us, self.dist)

    def resized(self, width: int, height: int) -> Camera:
        """The same camera for an image resized to ``width`` x ``height``."""
        sx, sy = width / self.width, height / self.height
        K = self.K.copy()
        K[0] *= sx
        K[1] *= sy
        # keep the pixel-centre convention: continuous coordinates, pixel i centred at i + 0.5
        K[0, 2] = (self.K[0, 2] + 0.5) * sx - 0.5
        K[1, 2] = (self.K[1, 2] + 0.5) * sy - 0.5
        return Camera(K, self.R, self.t, width, height, self.timestamp_us, self.dist)

    def project(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points (N,3) to pixels (N,2) and their depths (N,)."""
        Xc = X @ self.R.T + self.t
        z = Xc[:, 2]
        uv = (Xc @ self.K.T)[:, :2] / z[:, None]
        return uv, z


def relative_pose(src: Camera, ref: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation taking ``ref`` camera coordinates to ``src`` camera coordinates."""
    R = src.R @ ref.R.T
    t = src.t - R @ ref.t
    return R, t

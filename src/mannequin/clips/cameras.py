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


def reproject(depth: np.ndarray, src: Camera, dst: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pixel of ``src`` lifted by its ``depth`` (H,W; where unknown, not finite or <= 0, at depth 1) and seen
    from ``dst``: ``(u, v, z)`` (H,W) float64, its pixel coordinates and depth in ``dst`` (u, v not finite at z = 0)."""
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w]
    known = np.isfinite(depth) & (depth > 0)
    z = np.where(known, depth, 1.0).astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3) @ np.linalg.inv(src.K).T
    R, t = relative_pose(dst, src)
    X = (rays * z.reshape(-1, 1)) @ R.T + t
    uvw = X @ dst.K.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return (uvw[:, 0] / uvw[:, 2]).reshape(h, w), (uvw[:, 1] / uvw[:, 2]).reshape(h, w), X[:, 2].reshape(h, w)

"""Depth from a depth camera re-projected into a colour camera (registration), and depth rendered from a CAD model.

:func:`register_depth` back-projects every depth pixel with a reading to 3-D, moves it into the colour camera's
frame and fills the colour pixels its footprint covers (the projections of the pixel's corners at its depth,
as librealsense aligns depth to colour), keeping the nearest point where several land (a z-buffer). The value
is the point's depth along the colour camera's optical axis; colour pixels no depth pixel reaches stay NaN.

:func:`render_faces` rasterises planar polygons given in a camera's frame into that camera's depth map: each
face's projected polygon is filled, and every covered pixel gets the depth where its ray meets the face's plane.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def _project(K: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates (N, 2) of camera-frame points (N, 3) with z > 0."""
    uvw = points @ K.T
    return uvw[:, :2] / uvw[:, 2:3]


def register_depth(
    depth: np.ndarray,
    K_depth: np.ndarray,
    K_colour: np.ndarray,
    colour_T_depth: np.ndarray,
    colour_size: tuple[int, int],
) -> np.ndarray:
    """``depth`` (H, W, NaN or <= 0 where no reading) of the depth camera as seen by the colour camera.

    ``colour_T_depth`` (4x4) maps depth-camera coordinates to colour-camera coordinates (same unit as ``depth``);
    ``colour_size`` is ``(width, height)``. Returns (height, width) float32, NaN where no depth pixel lands.
    """
    depth = np.asarray(depth, np.float64)
    width, height = colour_size
    with np.errstate(invalid="ignore"):
        rows, cols = np.nonzero(np.isfinite(depth) & (depth > 0))
    z = depth[rows, cols]
    K_inv = np.linalg.inv(np.asarray(K_depth, np.float64))
    R, t = colour_T_depth[:3, :3], colour_T_depth[:3, 3]

    def to_colour(du: float, dv: float) -> np.ndarray:
        pixels = np.stack([cols + du, rows + dv, np.ones_like(z)], axis=1)
        return (pixels @ K_inv.T) * z[:, None] @ R.T + t

    centre = to_colour(0.0, 0.0)
    front = centre[:, 2] > 0
    corners = [_project(K_colour, to_colour(du, dv)[front]) for du, dv in ((-0.5, -0.5), (0.5, 0.5))]
    middle = np.rint(_project(K_colour, centre[front]))
    z_colour = centre[front, 2]
    lo = np.minimum(np.ceil(np.minimum(corners[0], corners[1])), middle)
    hi = np.maximum(np.floor(np.maximum(corners[0], corners[1])), middle)
    lo = np.clip(lo, -1, [width, height]).astype(np.int64)  # clip first: far outliers would make huge spans
    hi = np.clip(hi, -1, [width, height]).astype(np.int64)
    span = hi - lo
    out = np.full(height * width, np.inf)
    for dy in range(int(span[:, 1].max(initial=-1)) + 1):
        for dx in range(int(span[:, 0].max(initial=-1)) + 1):
            x, y = lo[:, 0] + dx, lo[:, 1] + dy
            keep = (dx <= span[:, 0]) & (dy <= span[:, 1]) & (x >= 0) & (x < width) & (y >= 0) & (y < height)
            np.minimum.at(out, y[keep] * width + x[keep], z_colour[keep])
    out[~np.isfinite(out)] = np.nan
    return out.reshape(height, width).astype(np.float32)


def render_faces(faces: Sequence[np.ndarray], K: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The depth map (height, width) float64 of planar polygons ``faces`` ((K_i, 3), camera frame); NaN = none.

    A face with a vertex at or behind the camera plane is skipped (the models rendered here are in front of it).
    """
    width, height = size
    out = np.full((height, width), np.inf)
    K = np.asarray(K, np.float64)
    K_inv = np.linalg.inv(K)
    for face in faces:
        face = np.asarray(face, np.float64)
        if len(face) < 3 or np.any(face[:, 2] <= 1e-9):
            continue
        normal = np.cross(face[1] - face[0], face[2] - face[0])
        for k in range(3, len(face)):  # the largest normal of the fan: robust to nearly collinear first vertices
            other = np.cross(face[k - 1] - face[0], face[k] - face[0])
            if np.linalg.norm(other) > np.linalg.norm(normal):
                normal = other
        if np.linalg.norm(normal) < 1e-15:
            continue
        offset = float(normal @ face[0])
        mask = np.zeros((height, width), np.uint8)
        polygon = np.round(_project(K, face) * 16).astype(np.int32)  # 4 fractional bits
        cv2.fillPoly(mask, [polygon], 1, lineType=cv2.LINE_8, shift=4)
        rows, cols = np.nonzero(mask)
        if rows.size == 0:
            continue
        rays = np.stack([cols, rows, np.ones_like(cols)], axis=1).astype(np.float64) @ K_inv.T
        along = rays @ normal
        with np.errstate(divide="ignore", invalid="ignore"):
            z = offset / along
        good = np.isfinite(z) & (z > 0)
        flat = rows[good] * width + cols[good]
        np.minimum.at(out.reshape(-1), flat, z[good])
    out[~np.isfinite(out)] = np.nan
    return out

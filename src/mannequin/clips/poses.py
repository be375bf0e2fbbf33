"""The Mannequin Challenge ``poses.txt`` format: a note line, then 19 numbers per frame.

``timestamp_us``, ``fx fy cx cy`` normalised by the image width (fx, cx) and height (fy, cy), ``k1 k2``, and
the world-to-camera ``[R|t]`` (3x4, row-major); translations are in any unit (SLAM scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.clips.cameras import Camera
from mannequin.clips.intrinsics import pixel_intrinsics
from mannequin.errors import InputError, read_user_text

ORTHONORMAL_TOL = 1e-3


@dataclass(frozen=True)
class PoseTable:
    """The parsed contents of a ``poses.txt``: one row per frame."""

    note: str
    timestamps_us: np.ndarray  # (N,) int64
    intrinsics: np.ndarray  # (N, 4) fx, fy, cx, cy normalised by width/height
    distortion: np.ndarray  # (N, 2) k1, k2
    P: np.ndarray  # (N, 3, 4) world-to-camera [R|t]

    def __len__(self) -> int:
        return len(self.timestamps_us)

    def cameras(self, width: int, height: int) -> list[Camera]:
        """Cameras in pixel units for frames of ``width`` x ``height``."""
        out = []
        for ts, normalised, dist, P in zip(self.timestamps_us, self.intrinsics, self.distortion, self.P):
            K = pixel_intrinsics(normalised, width, height)
            out.append(Camera(K, P[:, :3], P[:, 3], width, height, int(ts), tuple(float(d) for d in dist)))
        return out


def _parse_line(path: Path, lineno: int, line: str) -> list[float]:
    parts = line.split()
    if len(parts) != 19:
        raise InputError(path, f"line {lineno}: expected 19 numbers, got {len(parts)}", "bad_poses")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(path, f"line {lineno}: not a number in {line.strip()[:60]!r}", "bad_poses") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError(path, f"line {lineno}: non-finite value (NaN or inf)", "bad_poses")
    return values


def read_pose_table(path: str | Path) -> PoseTable:
    """Parse and validate a ``poses.txt``; every violation names the file and line."""
    path = Path(path)
    text = read_user_text(path, "poses")
    lines = text.splitlines()
    if not lines:
        raise InputError(path, "empty file (line 1 must be a note, then one line per frame)", "bad_poses")
    rows = [(i + 1, ln) for i, ln in enumerate(lines[1:], start=1) if ln.strip()]
    if not rows:
        raise InputError(path, "no pose lines after the first (note) line", "bad_poses")
    values = np.array([_parse_line(path, n, ln) for n, ln in rows], dtype=np.float64)
    ts = values[:, 0]
    if np.any(ts != np.round(ts)):
        n = rows[int(np.argmax(ts != np.round(ts)))][0]
        raise InputError(path, f"line {n}: timestamp is not a whole number of microseconds", "bad_poses")
    for k in range(1, len(rows)):
        if ts[k] <= ts[k - 1]:
            raise InputError(
                path, f"line {rows[k][0]}: timestamp {int(ts[k])} is not after {int(ts[k - 1])}", "bad_poses"
            )
    P = values[:, 7:].reshape(-1, 3, 4)
    for (n, _), Pi in zip(rows, P):
        R = Pi[:, :3]
        err = np.abs(R @ R.T - np.eye(3)).max()
        if err > ORTHONORMAL_TOL or np.linalg.det(R) < 0:
            raise InputError(path, f"line {n}: rotation is not orthonormal (|R R^T - I| = {err:.2g})", "bad_poses")
    intr = values[:, 1:5]
    if np.any(intr[:, :2] <= 0):
        n = rows[int(np.argmax(np.any(intr[:, :2] <= 0, axis=1)))][0]
        raise InputError(path, f"line {n}: focal length must be positive", "bad_poses")
    return PoseTable(lines[0].strip(), ts.astype(np.int64), intr, values[:, 5:7], P)


def read_poses(path: str | Path, width: int, height: int) -> list[Camera]:
    """Read a ``poses.txt`` into cameras for frames of ``width`` x ``height`` pixels."""
    return read_pose_table(path).cameras(width, height)


def format_poses(cameras: list[Camera], note: str = "") -> str:
    """Render cameras as ``poses.txt`` text (normalised intrinsics, row-major [R|t])."""
    out = [" ".join(note.split()) or "mannequin"]
    for cam in cameras:
        K = cam.K
        intr = (K[0, 0] / cam.width, K[1, 1] / cam.height, K[0, 2] / cam.width, K[1, 2] / cam.height)
        dist = tuple(cam.dist[:2]) + (0.0,) * max(0, 2 - len(cam.dist))
        P = np.concatenate([cam.R, cam.t[:, None]], axis=1).reshape(-1)
        nums = [f"{cam.timestamp_us:d}"] + [repr(float(v)) for v in (*intr, *dist, *P)]
        out.append(" ".join(nums))
    return "\n".join(out) + "\n"


def write_poses(path: str | Path, cameras: list[Camera], note: str = "") -> None:
    """Write cameras as ``poses.txt``, atomically."""
    atomic_write_text(Path(path), format_poses(cameras, note))

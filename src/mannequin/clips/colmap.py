"""COLMAP's text model (``cameras.txt``, ``images.txt``) as :class:`Camera` objects.

COLMAP stores world-to-camera poses (``qw qx qy qz tx ty tz``), the same direction as ``poses.txt``.
Its image coordinates put the centre of the top-left pixel at (0.5, 0.5); :class:`Camera` uses the
OpenCV convention (centre at (0, 0)), so the principal point is shifted by half a pixel on the way in
and out. Lens distortion is not modelled: non-zero terms are kept in ``Camera.dist`` with a warning.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from mannequin.atomic import atomic_write_text
from mannequin.clips.cameras import Camera
from mannequin.errors import InputError, read_user_text

# model name -> number of parameters
COLMAP_MODELS: dict[str, int] = {"SIMPLE_PINHOLE": 3, "PINHOLE": 4, "SIMPLE_RADIAL": 4, "RADIAL": 5, "OPENCV": 8}


@dataclass(frozen=True)
class _Intrinsics:
    K: np.ndarray
    width: int
    height: int
    dist: tuple[float, ...]


def _data_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, text)`` of every non-comment line; blank lines are kept (images.txt needs them)."""
    text = read_user_text(path, "colmap")
    return [(n, ln) for n, ln in enumerate(text.splitlines(), start=1) if not ln.lstrip().startswith("#")]


def _numbers(path: Path, lineno: int, parts: list[str], what: str) -> list[float]:
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(path, f"line {lineno}: {what} must be numbers", "bad_colmap") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError(path, f"line {lineno}: non-finite {what}", "bad_colmap")
    return values


def _intrinsics(model: str, width: int, height: int, p: list[float]) -> _Intrinsics:
    if model in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL"):
        fx = fy = p[0]
        cx, cy = p[1], p[2]
        dist = tuple(p[3:])
    else:  # PINHOLE, OPENCV
        fx, fy, cx, cy = p[:4]
        dist = tuple(p[4:])
    K = np.array([[fx, 0.0, cx - 0.5], [0.0, fy, cy - 0.5], [0.0, 0.0, 1.0]])
    return _Intrinsics(K, width, height, dist)


def read_colmap_cameras(path: str | Path) -> dict[int, _Intrinsics]:
    """Parse ``cameras.txt``: ``CAMERA_ID MODEL WIDTH HEIGHT PARAMS...``."""
    path = Path(path)
    cameras: dict[int, _Intrinsics] = {}
    distorted: list[str] = []
    for n, line in _data_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 4:
            raise InputError(path, f"line {n}: expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS...", "bad_colmap")
        model = parts[1].upper()
        if model not in COLMAP_MODELS:
            supported = ", ".join(COLMAP_MODELS)
            raise InputError(path, f"line {n}: camera model {parts[1]!r} is not supported ({supported})", "bad_colmap")
        if len(parts) != 4 + COLMAP_MODELS[model]:
            raise InputError(
                path, f"line {n}: {model} needs {COLMAP_MODELS[model]} parameters, got {len(parts) - 4}", "bad_colmap"
            )
        try:
            cam_id, width, height = int(parts[0]), int(parts[2]), int(parts[3])
        except ValueError:
            raise InputError(path, f"line {n}: CAMERA_ID, WIDTH and HEIGHT must be integers", "bad_colmap") from None
        params = _numbers(path, n, parts[4:], "camera parameters")
        if width <= 0 or height <= 0 or params[0] <= 0 or (model in ("PINHOLE", "OPENCV") and params[1] <= 0):
            raise InputError(path, f"line {n}: image size and focal length must be positive", "bad_colmap")
        if cam_id in cameras:
            raise InputError(path, f"line {n}: camera {cam_id} is defined twice", "bad_colmap")
        intr = _intrinsics(model, width, height, params)
        if any(d != 0.0 for d in intr.dist):
            distorted.append(str(cam_id))
        cameras[cam_id] = intr
    if not cameras:
        raise InputError(path, "no cameras defined", "bad_colmap")
    if distorted:
        warnings.warn(
            f"{path}: lens distortion of camera(s) {', '.join(distorted)} is ignored (pinhole model only)", stacklevel=2
        )
    return cameras


def read_colmap_model(model_dir: str | Path) -> list[tuple[str, Camera]]:
    """Read a COLMAP text model folder into ``(image name, Camera)`` pairs sorted by image name."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise InputError(model_dir, "COLMAP model folder not found", "missing_colmap")
    intrinsics = read_colmap_cameras(model_dir / "cameras.txt")
    path = model_dir / "images.txt"
    lines = _data_lines(path)
    out: dict[str, Camera] = {}
    k = 0
    while k < len(lines):
        n, line = lines[k]
        parts = line.split()
        if not parts:  # stray blank line between records
            k += 1
            continue
        k += 2  # the header line is followed by its POINTS2D line (possibly empty)
        if len(parts) < 10:
            raise InputError(
                path, f"line {n}: expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME, got {len(parts)} fields",
                "bad_colmap",
            )  # fmt: skip
        q = _numbers(path, n, parts[1:5], "quaternion")
        t = _numbers(path, n, parts[5:8], "translation")
        norm = math.sqrt(sum(v * v for v in q))
        if norm < 1e-8:
            raise InputError(path, f"line {n}: zero quaternion", "bad_colmap")
        try:
            cam_id = int(parts[8])
        except ValueError:
            raise InputError(path, f"line {n}: CAMERA_ID must be an integer", "bad_colmap") from None
        if cam_id not in intrinsics:
            raise InputError(path, f"line {n}: camera {cam_id} is not in cameras.txt", "bad_colmap")
        name = " ".join(parts[9:])
        if name in out:
            raise InputError(path, f"line {n}: image {name!r} appears twice", "bad_colmap")
        R = Rotation.from_quat(np.asarray(q) / norm, scalar_first=True).as_matrix()
        intr = intrinsics[cam_id]
        out[name] = Camera(intr.K, R, t, intr.width, intr.height, 0, intr.dist or (0.0, 0.0))
    if not out:
        raise InputError(path, "no images defined", "bad_colmap")
    return sorted(out.items(), key=lambda item: item[0])


def write_colmap_model(model_dir: str | Path, named_cameras: list[tuple[str, Camera]]) -> None:
    """Write cameras as a COLMAP text model (one PINHOLE camera per image, no 3-D points), atomically."""
    model_dir = Path(model_dir)
    cams = ["# CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]"]
    images = ["# IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME", "# POINTS2D[] as (X, Y, POINT3D_ID)"]
    for i, (name, cam) in enumerate(named_cameras, start=1):
        K = cam.K
        params = (K[0, 0], K[1, 1], K[0, 2] + 0.5, K[1, 2] + 0.5)
        cams.append(f"{i} PINHOLE {cam.width} {cam.height} " + " ".join(repr(float(v)) for v in params))
        q = Rotation.from_matrix(cam.R).as_quat(scalar_first=True)
        pose = " ".join(repr(float(v)) for v in (*q, *cam.t))
        images.extend([f"{i} {pose} {i} {name}", ""])
    atomic_write_text(model_dir / "cameras.txt", "\n".join(cams) + "\n")
    atomic_write_text(model_dir / "images.txt", "\n".join(images) + "\n")
    atomic_write_text(model_dir / "points3D.txt", "# POINT3D_ID X Y Z R G B ERROR TRACK[]\n")

"""16-bit sensor-depth PNGs: value / 1000 is metres along the optical axis, 0 means no reading."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from mannequin.clips.ids import validate_clip_id
from mannequin.clips.png import write_png
from mannequin.errors import InputError

_DEPTH_NAME = re.compile(r"[0-9]{6,}\.png")


def depth_to_png_values(depth_m: np.ndarray) -> np.ndarray:
    """Metres (NaN/<=0 invalid) to uint16 millimetres (0 invalid); out-of-range values become 0."""
    d = np.asarray(depth_m, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        mm = np.round(d * 1000.0)
        valid = np.isfinite(d) & (d > 0) & (mm <= 65535.0)
    out = np.zeros(d.shape, dtype=np.uint16)
    out[valid] = np.clip(mm[valid], 1, 65535).astype(np.uint16)
    return out


def write_depth_png(path: str | Path, depth_m: np.ndarray) -> None:
    """Write float metres as a 16-bit PNG, atomically."""
    values = depth_to_png_values(depth_m)
    if values.ndim != 2:
        raise InputError(path, f"depth must be 2-D, got shape {values.shape}", "bad_depth")
    write_png(path, values)


def read_depth_png(path: str | Path, frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a 16-bit depth PNG as float32 metres with NaN where there is no reading.

    With ``frame_size`` (width, height), a depth map of any other size is an InputError naming both sizes:
    sensor depth is the frame's size, never stretched onto it.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "missing_depth")
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise InputError(path, "not a readable PNG", "bad_depth")
    if raw.dtype != np.uint16 or raw.ndim != 2:
        raise InputError(
            path, f"expected a single-channel 16-bit PNG, got {raw.dtype} with shape {raw.shape}", "bad_depth"
        )
    if frame_size is not None and (raw.shape[1], raw.shape[0]) != tuple(frame_size):
        raise InputError(
            path,
            f"depth is {raw.shape[1]}x{raw.shape[0]} but its frame is {frame_size[0]}x{frame_size[1]} "
            "(sensor depth must be the frame's size)",
            "bad_depth",
        )
    depth = raw.astype(np.float32) / 1000.0
    depth[raw == 0] = np.nan
    return depth


def sensor_depth_dir(data_dir: str | Path, clip_id: str) -> Path:
    """``data_dir/depth/<clip_id>``; the id is validated so it cannot escape ``data_dir``."""
    return Path(data_dir) / "depth" / validate_clip_id(clip_id)


def sensor_depth_path(data_dir: str | Path, clip_id: str, frame_index: int) -> Path:
    """``data_dir/depth/<clip_id>/<frame_index:06d>.png``."""
    if frame_index < 0:
        raise ValueError(f"frame index must be non-negative, got {frame_index}")
    return sensor_depth_dir(data_dir, clip_id) / f"{frame_index:06d}.png"


def read_sensor_depth(data_dir: str | Path, clip_id: str, frame_index: int) -> np.ndarray | None:
    """Sensor depth of one frame as float32 metres (NaN = no reading), or None if there is none."""
    path = sensor_depth_path(data_dir, clip_id, frame_index)
    return read_depth_png(path) if path.is_file() else None


def sensor_depth_indices(data_dir: str | Path, clip_id: str) -> list[int]:
    """Sorted frame indices that have a sensor-depth PNG (files not named ``NNNNNN.png`` are ignored)."""
    folder = sensor_depth_dir(data_dir, clip_id)
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("*.png") if _DEPTH_NAME.fullmatch(p.name))

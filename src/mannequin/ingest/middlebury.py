"""A rectified stereo pair with ground-truth disparity (Middlebury 2014 "Motorcycle") converted into one test clip.

scikit-image ships the pair at a quarter of Middlebury's full size (``motorcycle_left.png``,
``motorcycle_right.png``, ``motorcycle_disp.npz``: 741x500, the left view's disparity, non-finite where unknown),
with the calibration in the docstring of ``skimage.data.stereo_motorcycle``: Middlebury's full-size calibration
divided by four (:data:`QUARTER_MOTORCYCLE`). A folder holding those three files and, optionally, Middlebury's
``calib.txt`` of its own size (``cam0=[f 0 cx; 0 f cy; 0 0 1]``, ``doffs``, ``baseline`` in mm) reads the same way.

Depth of the left view in metres: ``z = f * baseline / (d + doffs)``. The clip: ``frames/000000.png`` (left),
``frames/000001.png`` (right), ``poses.txt`` (the calibrated rig: left at the origin, right translated by the
baseline along x, its principal point shifted by ``doffs``; metres) and ``depth/<clip>/000000.png``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mannequin.atomic import atomic_write_bytes
from mannequin.clips.cameras import Camera
from mannequin.clips.depth_png import write_depth_png
from mannequin.clips.poses import write_poses
from mannequin.errors import InputError, read_user_text

SKIMAGE_SOURCE = "scikit-image's Middlebury 2014 Motorcycle (quarter size)"
LEFT, RIGHT, DISPARITY, CALIB = "motorcycle_left.png", "motorcycle_right.png", "motorcycle_disp.npz", "calib.txt"


@dataclass(frozen=True)
class Calibration:
    """A rectified rig at the images' size: focal and principal point (pixels), ``doffs`` (the principal points'
    x difference, right minus left) and the baseline in metres."""

    focal: float
    cx: float
    cy: float
    doffs: float
    baseline_m: float


#: the calibration of the quarter-size pair scikit-image ships, as the docstring of its ``stereo_motorcycle`` states
QUARTER_MOTORCYCLE = Calibration(994.978, 311.193, 254.877, 31.086, 0.193001)


@dataclass(frozen=True)
class StereoPair:
    """Left and right views (H, W, 3) uint8 RGB, the left view's disparity (H, W; NaN unknown) and the rig."""

    left: np.ndarray
    right: np.ndarray
    disparity: np.ndarray
    calibration: Calibration
    source: str

    def depth(self) -> np.ndarray:
        """The left view's depth in metres, NaN where the disparity is unknown."""
        c = self.calibration
        with np.errstate(divide="ignore", invalid="ignore"):
            z = c.focal * c.baseline_m / (self.disparity + c.doffs)
        return np.where(np.isfinite(z) & (z > 0), z, np.nan).astype(np.float32)


def skimage_folder() -> Path:
    """The folder where scikit-image keeps its bundled data (the Motorcycle pair among it)."""
    import skimage.data

    return Path(skimage.data.__file__).parent


def _read_rgb(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(path, "file not found", "missing_frames")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "not a readable image", "bad_frames")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_disparity(path: Path) -> np.ndarray:
    """The disparity array (float64, NaN where unknown or not positive) of a ``.npz`` holding one 2-D array."""
    if not path.is_file():
        raise InputError(path, "file not found", "missing_depth")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = [data[k] for k in data.files]
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(path, f"not a readable .npz ({exc.__class__.__name__})", "bad_depth") from None
    if len(arrays) != 1 or arrays[0].ndim != 2:
        shapes = ", ".join(str(a.shape) for a in arrays) or "none"
        raise InputError(path, f"expected one 2-D disparity array, found {shapes}", "bad_depth")
    disparity = np.asarray(arrays[0], np.float64)
    return np.where(np.isfinite(disparity) & (disparity > 0), disparity, np.nan)


_ENTRY = re.compile(r"^\s*(\w+)\s*=\s*(.+?)\s*$")


def read_calibration(path: Path) -> Calibration:
    """Middlebury 2014's ``calib.txt`` (``cam0``, ``doffs``, ``baseline`` in mm); problems are one line."""
    entries = {}
    for line in read_user_text(path, "calibration").splitlines():
        m = _ENTRY.match(line)
        if m:
            entries[m.group(1)] = m.group(2)
    try:
        cam0 = [float(v) for v in re.split(r"[\s;\[\]]+", entries["cam0"]) if v]
        doffs, baseline = float(entries["doffs"]), float(entries["baseline"])
    except (KeyError, ValueError):
        problem = "expected Middlebury's cam0=[...], doffs= and baseline= lines"
        raise InputError(path, problem, "bad_calibration") from None
    if len(cam0) != 9 or cam0[0] <= 0 or baseline <= 0:
        raise InputError(path, "cam0 must be a 3x3 matrix with a positive focal, baseline positive", "bad_calibration")
    return Calibration(cam0[0], cam0[2], cam0[5], doffs, baseline / 1000.0)


def read_pair(folder: str | Path | None = None) -> StereoPair:
    """The pair in ``folder`` (default: scikit-image's bundled Motorcycle), checked: same sizes everywhere."""
    folder = skimage_folder() if folder is None else Path(folder)
    left, right = _read_rgb(folder / LEFT), _read_rgb(folder / RIGHT)
    disparity = read_disparity(folder / DISPARITY)
    h, w = left.shape[:2]
    if right.shape[:2] != (h, w):
        problem = f"image is {right.shape[1]}x{right.shape[0]}, the left is {w}x{h}"
        raise InputError(folder / RIGHT, problem, "bad_frames")
    if disparity.shape != (h, w):
        raise InputError(
            folder / DISPARITY,
            f"disparity is {disparity.shape[1]}x{disparity.shape[0]} but the left image is {w}x{h}",
            "bad_depth",
        )
    if not np.isfinite(disparity).any():
        raise InputError(folder / DISPARITY, "no finite positive disparity", "bad_depth")
    if (folder / CALIB).is_file():
        return StereoPair(left, right, disparity, read_calibration(folder / CALIB), str(folder))
    return StereoPair(left, right, disparity, QUARTER_MOTORCYCLE, SKIMAGE_SOURCE)


def rig_cameras(pair: StereoPair) -> list[Camera]:
    """The left and right cameras: left at the origin, right ``baseline`` metres along +x (world-to-camera
    ``t = (-baseline, 0, 0)``), its principal point ``doffs`` further right."""
    c = pair.calibration
    h, w = pair.left.shape[:2]
    K_left = np.array([[c.focal, 0.0, c.cx], [0.0, c.focal, c.cy], [0.0, 0.0, 1.0]])
    K_right = K_left.copy()
    K_right[0, 2] += c.doffs
    return [
        Camera(K_left, np.eye(3), np.zeros(3), w, h, 0),
        Camera(K_right, np.eye(3), np.array([-c.baseline_m, 0.0, 0.0]), w, h, 1),
    ]


def _write_png(path: Path, rgb: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(path, "could not encode as PNG", "bad_frames")
    atomic_write_bytes(path, buf.tobytes())


def convert_pair(pair: StereoPair, clip_dir: str | Path, depth_dir: str | Path) -> dict[str, Any]:
    """Write the two-frame clip, its calibrated ``poses.txt`` and the left view's depth; returns its record."""
    clip_dir, depth_dir = Path(clip_dir), Path(depth_dir)
    _write_png(clip_dir / "frames" / "000000.png", pair.left)
    _write_png(clip_dir / "frames" / "000001.png", pair.right)
    write_poses(clip_dir / "poses.txt", rig_cameras(pair), "rectified stereo rig from its calibration (metres)")
    depth = pair.depth()
    write_depth_png(depth_dir / "000000.png", depth)
    c = pair.calibration
    return {
        "source": pair.source,
        "frames": 2,
        "size": [int(pair.left.shape[1]), int(pair.left.shape[0])],
        "poses": "the calibrated rig (left at the origin, right along the baseline)",
        "depth": "z = f * baseline / (disparity + doffs) of the left view's ground-truth disparity",
        "calibration": {"focal": c.focal, "cx": c.cx, "cy": c.cy, "doffs": c.doffs, "baseline_m": c.baseline_m},
        "depth_coverage": float(np.isfinite(depth).mean()),
        "depth_range_m": [float(np.nanmin(depth)), float(np.nanmax(depth))],
    }

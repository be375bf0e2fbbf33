"""A clip's optional ``intrinsics.txt``: one line ``fx fy cx cy``, fx and cx over the width, fy and cy the height."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mannequin.errors import InputError, read_user_text

INTRINSICS_NAME = "intrinsics.txt"


def read_intrinsics(path: str | Path) -> np.ndarray:
    """``(fx, fy, cx, cy)`` normalised by the image width (fx, cx) and height (fy, cy); problems are one line."""
    path = Path(path)
    text = read_user_text(path, "intrinsics")
    parts = text.split()
    if len(parts) != 4:
        raise InputError(path, f"expected 4 numbers 'fx fy cx cy' (normalised), got {len(parts)}", "bad_intrinsics")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(path, f"not a number in {text.strip()[:60]!r}", "bad_intrinsics") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError(path, "non-finite value (NaN or inf)", "bad_intrinsics")
    if values[0] <= 0 or values[1] <= 0:
        raise InputError(path, "focal lengths fx and fy must be positive", "bad_intrinsics")
    return np.asarray(values, dtype=np.float64)


def pixel_intrinsics(normalised: np.ndarray, width: int, height: int) -> np.ndarray:
    """The 3x3 pixel ``K`` of normalised intrinsics for ``width`` x ``height`` frames (as ``poses.txt`` reads them)."""
    fx, fy, cx, cy = (float(v) for v in normalised)
    return np.array([[fx * width, 0.0, cx * width], [0.0, fy * height, cy * height], [0.0, 0.0, 1.0]])

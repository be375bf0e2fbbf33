"""Masks of moving things: ``<clip>/masks/<frame_index:06d>.png`` (optional, in the data layout).

Optional 8-bit single-channel PNGs of the frame's size, nonzero where a person or anything else may move (for
a user who ran a person segmenter). The frame index is the pose line, as for sensor depth. A clip with a
``masks/`` folder needs one mask per frame: fewer files than frames, a mask of the wrong size or a mask that
is not 8-bit is an ``InputError`` naming the file, never a silent fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from mannequin.clips.clip import Clip
from mannequin.clips.png import write_png
from mannequin.errors import InputError

MASKS_NAME = "masks"
_MASK_NAME = re.compile(r"[0-9]{6,}\.png")


def mask_path(clip_dir: str | Path, frame_index: int) -> Path:
    """``clip_dir/masks/<frame_index:06d>.png``."""
    if frame_index < 0:
        raise ValueError(f"frame index must be non-negative, got {frame_index}")
    return Path(clip_dir) / MASKS_NAME / f"{frame_index:06d}.png"


def has_masks(clip_dir: str | Path) -> bool:
    """Whether the clip has a ``masks/`` folder (then every frame needs a mask)."""
    return (Path(clip_dir) / MASKS_NAME).is_dir()


def write_mask_png(path: str | Path, mask: np.ndarray) -> None:
    """Write a bool (H, W) mask as an 8-bit PNG (255 inside, 0 outside), atomically."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {mask.shape}")
    write_png(path, np.where(mask, 255, 0).astype(np.uint8))


def read_mask_png(path: str | Path, width: int, height: int) -> np.ndarray:
    """Read one mask that must be an 8-bit single-channel PNG of ``width`` x ``height``; bool (H, W), True inside."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "mask file not found", "missing_mask")
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise InputError(path, "not a readable PNG", "bad_mask")
    if raw.dtype != np.uint8:
        raise InputError(path, f"mask is not 8-bit (it is {raw.dtype}); write an 8-bit PNG", "bad_mask")
    if raw.ndim != 2:
        raise InputError(path, f"mask has {raw.shape[2]} channels; write a single-channel 8-bit PNG", "bad_mask")
    if raw.shape != (height, width):
        raise InputError(
            path,
            f"mask is {raw.shape[1]}x{raw.shape[0]}, but the clip's frames are {width}x{height}",
            "bad_mask",
        )
    return raw > 0


def mask_indices(clip_dir: str | Path) -> list[int]:
    """Sorted frame indices that have a mask file (files not named ``NNNNNN.png`` are ignored)."""
    folder = Path(clip_dir) / MASKS_NAME
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("*.png") if _MASK_NAME.fullmatch(p.name))


def read_masks(clip: Clip, indices: Sequence[int] | None = None, max_width: int | None = None) -> np.ndarray | None:
    """The masks of pose lines ``indices`` (all by default) at the size frames are read with ``max_width``.

    Returns (N, H, W) bool, or ``None`` when the clip has no ``masks/`` folder. Downscaling is nearest
    neighbour, so a mask stays a mask. Fewer mask files than frames, or a missing, wrong-size or non-8-bit
    mask, is an ``InputError`` naming the file.
    """
    if not has_masks(clip.path):
        return None
    folder = clip.path / MASKS_NAME
    present = mask_indices(clip.path)
    if len(present) < len(clip):
        raise InputError(
            folder,
            f"{len(present)} mask files but the clip has {len(clip)} frames; give one mask per frame",
            "bad_mask",
        )
    order = list(range(len(clip))) if indices is None else [int(i) for i in indices]
    bad = [i for i in order if not 0 <= i < len(clip)]
    if bad:
        raise IndexError(f"{clip.clip_id}: frame {bad[0]} out of range (the clip has {len(clip)} frames)")
    w, h = clip.output_size(max_width)
    out = np.empty((len(order), h, w), dtype=bool)
    for slot, i in enumerate(order):
        mask = read_mask_png(mask_path(clip.path, i), clip.width, clip.height)
        if (w, h) != (clip.width, clip.height):
            mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        out[slot] = mask
    return out


def random_person_mask(rng: np.random.Generator, height: int, width: int, count: int = 1) -> np.ndarray:
    """``count`` random person-sized upright ellipses (a head-to-feet blob 35-80% of the height tall, 2.5-4.5
    times taller than wide): (H, W) bool, for frozen training clips without masks, so that a model keeps
    learning to fill masked regions."""
    out = np.zeros((height, width), np.uint8)
    for _ in range(count):
        tall = rng.uniform(0.35, 0.8) * height
        wide = tall / rng.uniform(2.5, 4.5)
        cx, cy = rng.uniform(0, width - 1), rng.uniform(tall / 2, max(height - tall / 4, tall / 2))
        axes = (max(1, round(wide / 2)), max(1, round(tall / 2)))
        cv2.ellipse(out, (round(cx), round(cy)), axes, 0.0, 0.0, 360.0, 1, thickness=-1)
    return out > 0

"""A clip's masks of people and other movers, made for the user: the library behind ``mannequin masks``.

``segmenter``: the person segmenter (:mod:`mannequin.curation.segmenter`) on every frame at full size (at most
``curate.masks.segmenter.max_width``), united, for a clip with ``poses.txt``, with curation's motion evidence.
``motion``: curation's motion evidence alone (:func:`mannequin.curation.motion.motion_masks`), which needs poses:
``poses.txt`` or structure from motion (``curate.poses``, ``curate.sfm``).

Motion evidence comes from the plane sweep of the parallax input (the ``parallax`` stage's) at
``curate.max_width`` and is scaled up to the frame size (nearest). Masks are indexed as the data layout says:
by pose line where the clip has ``poses.txt``, else by the frame's position in the video or ``frames/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from mannequin.atomic import atomic_dir
from mannequin.clips.clip import POSES_NAME, Clip, open_clip
from mannequin.clips.masks import MASKS_NAME, write_mask_png
from mannequin.config.curate import CurateParams
from mannequin.curation.sfm_poses import open_images
from mannequin.errors import InputError, require_output_dir

Source = Literal["segmenter", "motion"]
_MASK_FILE = re.compile(r"[0-9]{6,}\.png")


@dataclass(frozen=True)
class ClipMasks:
    """Masks of a clip's frames at the frames' size: ``masks`` (N,H,W) bool, their frame ``indices``, the
    ``source`` used and whether motion evidence is in them."""

    masks: np.ndarray
    indices: list[int]
    source: str
    with_motion: bool

    def write(self, out_dir: str | Path) -> list[Path]:
        """``out_dir/<index:06d>.png`` per frame (8-bit, 255 inside); the folder is replaced whole, atomically.

        A folder that holds anything but mask files is refused (an ``InputError``): it is not a masks folder.
        """
        out_dir = check_masks_out(out_dir)
        with atomic_dir(out_dir) as tmp:
            for i, mask in zip(self.indices, self.masks, strict=True):
                write_mask_png(tmp / f"{i:06d}.png", mask)
        return [out_dir / f"{i:06d}.png" for i in self.indices]


def check_masks_out(out_dir: str | Path) -> Path:
    """``out_dir`` when masks may go there: a new or empty folder, or one of mask files only (it is replaced
    whole), and no part of the way to it a file; else an ``InputError`` naming it."""
    out_dir = require_output_dir(out_dir)
    foreign = [p for p in out_dir.iterdir() if not _MASK_FILE.fullmatch(p.name)] if out_dir.is_dir() else []
    if foreign:
        problem = f"holds {foreign[0].name}, not only mask PNGs; give an empty or new folder for the masks"
        raise InputError(out_dir, problem, "bad_output")
    return out_dir


def _upscale(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    if masks.shape[1:] == (h, w):
        return masks
    return np.stack([cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0 for m in masks])


def motion_masks_of(clip: Clip, curate: CurateParams, device: str = "cpu") -> np.ndarray:
    """Curation's motion evidence for every pose line of ``clip``, at the clip's full frame size: (N,H,W) bool."""
    from mannequin.curation.motion import motion_masks
    from mannequin.curation.parallax import sweep_parallax, sweep_params

    images, cameras = clip.read_frames(None, curate.max_width)
    sweep = sweep_parallax(images, cameras, sweep_params(curate.mvs, curate.masks), device)
    masks = motion_masks(
        sweep.depth, images, cameras, dilate_px=curate.masks.motion_dilate_px, fill_px=curate.masks.motion_fill_px
    )
    return _upscale(masks, (clip.width, clip.height))


def _all_frames(clip_dir: Path) -> tuple[np.ndarray, list[int], Clip | None]:
    """Every frame at full size, its index (pose line, else position) and the clip where it has ``poses.txt``."""
    if (clip_dir / POSES_NAME).exists():
        clip = open_clip(clip_dir)
        frames, _ = clip.read_frames(None, None)
        return frames, list(range(len(clip))), clip
    images = open_images(clip_dir)
    order = list(range(len(images)))
    frames = np.empty((len(order), images.height, images.width, 3), np.uint8)
    for i, image in images.iter_frames(order, images.width):
        frames[i] = image
    return frames, order, None


def clip_person_masks(clip_dir: str | Path, source: Source, curate: CurateParams) -> ClipMasks:
    """The masks of every frame of ``clip_dir`` from ``source`` (see the module's docstring)."""
    from mannequin.curation.sfm_store import resolve_clip

    clip_dir = Path(clip_dir)
    device = "cpu" if curate.device == "auto" else curate.device
    if source == "motion":
        clip = resolve_clip(clip_dir, curate.poses, curate.sfm, None).clip
        return ClipMasks(motion_masks_of(clip, curate, device), list(range(len(clip))), "motion", True)
    from mannequin.curation.segmenter import PersonSegmenter

    segmenter = PersonSegmenter(curate.masks.segmenter)  # a missing or corrupt model fails before any decoding
    frames, indices, clip = _all_frames(clip_dir)
    masks = segmenter.masks(frames)
    if clip is not None:
        masks |= motion_masks_of(clip, curate, device)
    return ClipMasks(masks, indices, "segmenter", clip is not None)


def default_out(clip_dir: str | Path) -> Path:
    """Where ``mannequin masks`` writes without ``--out``: the clip's own ``masks/``."""
    return Path(clip_dir) / MASKS_NAME

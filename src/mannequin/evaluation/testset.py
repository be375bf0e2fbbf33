"""The held-out test frames: every frame of a ``test`` clip that has a sensor-depth PNG."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mannequin.errors import InputError

if TYPE_CHECKING:
    from mannequin.curation.sfm_store import PoseSource


@dataclass(frozen=True)
class HeldOutClip:
    """The frames of one test clip that have ground truth, with their sensor depth in metres (NaN invalid)."""

    clip_id: str
    frame_indices: list[int]
    images: np.ndarray  # (N, H, W, 3) uint8
    depth: np.ndarray  # (N, H, W) float32 metres, NaN where the sensor had no reading


def held_out_clip_ids(data_dir: str | Path) -> list[str]:
    """Ids of the ``test`` clips in ``data_dir/splits.csv``, sorted."""
    from mannequin.clips.splits import read_splits

    return sorted(clip_id for clip_id, split in read_splits(data_dir).items() if split == "test")


def load_held_out_clip(data_dir: str | Path, clip_id: str, poses: PoseSource | None = None) -> HeldOutClip | None:
    """Frames and sensor depth of one test clip; ``None`` when it has no depth PNG.

    A depth map of another size than its frame is an InputError naming both sizes (it is never stretched). The
    clip is opened through the one pose resolver, ``poses`` (a ``PoseSource``; default: ``poses.txt``, else SfM).
    """
    from mannequin.clips.depth_png import read_depth_png, sensor_depth_indices, sensor_depth_path
    from mannequin.curation.sfm_store import PoseSource, lines_of_frames

    data_dir = Path(data_dir)
    indices = sensor_depth_indices(data_dir, clip_id)
    if not indices:
        return None
    resolved = (poses or PoseSource()).resolve(data_dir / "clips" / clip_id)
    clip = resolved.clip
    beyond = [i for i in indices if i >= len(clip)] if resolved.source == "given" else []  # SfM: lines_of_frames
    if beyond:
        path = sensor_depth_path(data_dir, clip_id, beyond[0])
        raise InputError(path, f"no frame {beyond[0]} in clip {clip_id} ({len(clip)} frames)", "bad_depth")
    images, _ = clip.read_frames(lines_of_frames(clip, indices, resolved.source))
    h, w = images.shape[1:3]
    depth = np.empty((len(indices), h, w), dtype=np.float32)
    for k, i in enumerate(indices):
        depth[k] = read_depth_png(sensor_depth_path(data_dir, clip_id, i), (w, h))
    return HeldOutClip(clip_id, indices, images, depth)


def iter_held_out_clips(data_dir: str | Path) -> Iterator[HeldOutClip]:
    """Every test clip with ground truth, one at a time, in clip-id order."""
    for clip_id in held_out_clip_ids(data_dir):
        clip = load_held_out_clip(data_dir, clip_id)
        if clip is not None:
            yield clip

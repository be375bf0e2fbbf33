"""Example frames saved by ``mannequin evaluate`` for the report's picture, in byte-reproducible ``.npz`` files.

``<metrics>/examples/frames.npz``: ``clip_ids`` (K,) str, ``frame_indices`` (K,) int64, ``images`` (K,H,W,3) uint8,
``depth`` (K,H,W) float32 ground truth in metres, ``mvs`` (K,H,W) float32 MVS target in pose units (all NaN where the
clip has no curated shard holding that frame, unless evaluate was asked to compute it: ``evaluate.example_mvs``).
``<metrics>/examples/<model>.npz``: ``depth`` (K,H,W) float32, the model's prediction after the same alignment and
clipping as its metrics.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.atomic import atomic_path

EXAMPLES_DIR = "examples"
FRAMES_FILE = "frames.npz"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Like ``np.savez_compressed`` but atomic and byte-identical for identical arrays (fixed zip timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.save(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file (no pickles)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def mvs_for_frame(curated_dir: str | Path | None, clip_id: str, frame_index: int, shape: tuple[int, int]) -> np.ndarray:
    """The curated MVS depth of one frame resized (nearest) to ``shape``, or all NaN when there is none."""
    import cv2

    from mannequin.curation.shards import list_shards

    empty = np.full(shape, np.nan, dtype=np.float32)
    if curated_dir is None:
        return empty
    for shard in list_shards(curated_dir, [clip_id]):
        indices = [int(i) for i in shard.meta.get("frame_indices", [])]
        if frame_index in indices:
            depth = np.asarray(shard.depth[indices.index(frame_index)], dtype=np.float32)
            if depth.shape != shape:
                depth = cv2.resize(depth, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
            return depth
    return empty


def computed_mvs(data_dir: str | Path, clip_id: str, frame_index: int, curate: Any) -> np.ndarray:
    """MVS depth (pose units, NaN unconfident) of one test frame computed on the spot with ``curate``'s MVS settings.

    For the example picture only: a test clip is never curated, so its MVS target does not exist otherwise. It
    never feeds training. Costs one plane sweep of the frame and its source frames (tens of seconds on a CPU).
    """
    from mannequin.curation.mvs import frame_depth
    from mannequin.curation.sfm_store import PoseSource

    clip = PoseSource.of(curate).open(Path(data_dir) / "clips" / clip_id)  # the one pose resolver
    images, cameras = clip.read_frames(max_width=min(curate.max_width, clip.width))
    depth, _ = frame_depth(images, cameras, frame_index, curate.mvs, curate.device)
    return np.asarray(depth, dtype=np.float32)

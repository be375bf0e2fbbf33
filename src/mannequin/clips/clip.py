"""A clip on disk: ``poses.txt`` plus ``video.mp4`` or ``frames/``.

A pose line belongs to the video frame whose presentation time is nearest its timestamp, or to the i-th
image of ``frames/`` in sorted name order.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.clips.frames import iter_frame_files, list_frame_files, read_frame_image
from mannequin.clips.ids import validate_clip_id
from mannequin.clips.poses import PoseTable, read_pose_table
from mannequin.clips.video import VideoInfo, iter_video_frames, probe_video
from mannequin.errors import InputError

POSES_NAME = "poses.txt"
VIDEO_NAME = "video.mp4"
FRAMES_NAME = "frames"
_HASH_CHUNK = 1 << 20


@dataclass(eq=False)
class Clip:
    """An opened clip. Pose line ``i`` is frame ``i`` of the clip; ``cameras[i]`` is its full-resolution camera.

    Frames are decoded only when asked for (``read_frames``/``iter_frames``), so opening is cheap in memory.
    """

    clip_id: str
    path: Path
    source: Literal["video", "frames"]
    width: int
    height: int
    poses: PoseTable
    cameras: list[Camera]
    source_indices: np.ndarray  # (N,) index of each pose line's frame in the video / frames folder
    video: VideoInfo | None = None
    frame_files: list[Path] = field(default_factory=list)
    _hash: str | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.cameras)

    @property
    def poses_path(self) -> Path:
        return self.path / POSES_NAME

    @property
    def video_path(self) -> Path:
        return self.path / VIDEO_NAME

    @property
    def timestamps_us(self) -> np.ndarray:
        """The pose lines' timestamps (microseconds)."""
        return self.poses.timestamps_us

    @property
    def fps(self) -> float | None:
        """Frames per second of the video (None for a ``frames/`` clip)."""
        if self.video is None:
            return None
        if self.video.fps:
            return self.video.fps
        interval = self.video.frame_interval_us
        return 1e6 / interval if interval > 0 else None

    @property
    def duration_s(self) -> float:
        """The video's duration, or the span of the pose timestamps for a ``frames/`` clip."""
        if self.video is not None:
            return self.video.duration_s
        ts = self.poses.timestamps_us
        return float(ts[-1] - ts[0]) / 1e6 if len(ts) > 1 else 0.0

    def output_size(self, max_width: int | None) -> tuple[int, int]:
        """``(width, height)`` of frames read with ``max_width`` (aspect kept, never upscaled)."""
        if max_width is None or max_width >= self.width:
            return self.width, self.height
        if max_width < 1:
            raise ValueError(f"max_width must be positive, got {max_width}")
        return max_width, max(1, round(self.height * max_width / self.width))

    def cameras_for(self, indices: Sequence[int], max_width: int | None = None) -> list[Camera]:
        """Cameras of the pose lines ``indices`` for frames read with ``max_width``."""
        w, h = self.output_size(max_width)
        cams = [self.cameras[i] for i in indices]
        return cams if (w, h) == (self.width, self.height) else [c.resized(w, h) for c in cams]

    def _check_indices(self, indices: Sequence[int] | None) -> list[int]:
        if indices is None:
            return list(range(len(self)))
        out = [int(i) for i in indices]
        bad = [i for i in out if not 0 <= i < len(self)]
        if bad:
            raise IndexError(f"{self.clip_id}: frame {bad[0]} out of range (the clip has {len(self)} frames)")
        return out

    def iter_frames(
        self, indices: Sequence[int] | None = None, max_width: int | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(i, rgb_uint8 HxWx3)`` for pose lines ``indices`` (all by default), lazily, in increasing ``i``.

        One frame is decoded at a time; a decode error raises ``InputError``.
        """
        wanted = sorted(set(self._check_indices(indices)))
        size = self.output_size(max_width)
        by_source = {int(self.source_indices[i]): i for i in wanted}
        order = sorted(by_source)
        if self.source == "video":
            frames = iter_video_frames(self.video_path, order)
        else:
            frames = iter_frame_files(self.frame_files, order, size=(self.width, self.height))
        for src_index, image in frames:
            if self.source == "video" and (image.shape[1], image.shape[0]) != (self.width, self.height):
                raise InputError(self.video_path, "frame size changes within the video", "bad_video")
            if size != (self.width, self.height):
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            yield by_source[src_index], image

    def read_frames(
        self, indices: Sequence[int] | None = None, max_width: int | None = None
    ) -> tuple[np.ndarray, list[Camera]]:
        """Frames ``(N,H,W,3)`` uint8 for pose lines ``indices`` (in the order given) and their cameras."""
        order = self._check_indices(indices)
        w, h = self.output_size(max_width)
        out = np.empty((len(order), h, w, 3), dtype=np.uint8)
        slots: dict[int, list[int]] = {}
        for slot, i in enumerate(order):
            slots.setdefault(i, []).append(slot)
        for i, image in self.iter_frames(order, max_width):
            out[slots[i]] = image
        return out, self.cameras_for(order, max_width)

    def content_hash(self) -> str:
        """:func:`folder_fingerprint` of the clip folder (every file in it); the cache key of its curation."""
        if self._hash is None:
            self._hash = folder_fingerprint(self.path)
        return self._hash


def folder_fingerprint(folder: str | Path) -> str:
    """sha256 over the relative names, sizes and bytes of every file under ``folder`` (readable or not as a clip)."""
    folder = Path(folder)
    digest = hashlib.sha256(b"mannequin-clip-folder-v1\0")
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = f.relative_to(folder).as_posix()
        digest.update(f"{rel}\0{f.stat().st_size}\0".encode())
        with f.open("rb") as fh:
            while chunk := fh.read(_HASH_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def pair_poses_with_video(poses_path: Path, pose_ts: np.ndarray, video: VideoInfo, video_path: Path) -> np.ndarray:
    """Index of the video frame whose presentation time is nearest each pose timestamp.

    A pose more than one frame interval outside the video, or two poses on the same frame, is
    ``InputError(code="pose_frame_mismatch")``.
    """
    frame_ts = video.timestamps_us.astype(np.float64)
    order = np.argsort(frame_ts, kind="stable")
    sorted_ts = frame_ts[order]
    interval = video.frame_interval_us
    ts = pose_ts.astype(np.float64)
    outside = (ts < sorted_ts[0] - interval) | (ts > sorted_ts[-1] + interval)
    if outside.any():
        k = int(np.argmax(outside))
        raise InputError(
            poses_path,
            f"pose {k + 1} at {int(pose_ts[k])} us is outside {video_path.name} "
            f"({int(sorted_ts[0])}..{int(sorted_ts[-1])} us, {video.num_frames} frames)",
            "pose_frame_mismatch",
        )
    right = np.clip(np.searchsorted(sorted_ts, ts), 0, len(sorted_ts) - 1)
    left = np.clip(right - 1, 0, len(sorted_ts) - 1)
    nearest = np.where(np.abs(sorted_ts[left] - ts) <= np.abs(sorted_ts[right] - ts), left, right)
    frames = order[nearest]
    uniq, counts = np.unique(frames, return_counts=True)
    if len(uniq) < len(frames):
        f = int(uniq[np.argmax(counts > 1)])
        a, b = np.flatnonzero(frames == f)[:2]
        raise InputError(
            poses_path,
            f"poses {a + 1} and {b + 1} ({int(pose_ts[a])} and {int(pose_ts[b])} us) both fall on frame {f} "
            f"of {video_path.name}; each pose line needs its own frame",
            "pose_frame_mismatch",
        )
    return frames.astype(np.int64)


def clip_id_of(clip_dir: str | Path) -> str:
    """The clip id of a clip folder: its name (``.`` and ``..`` are resolved lexically, not through links)."""
    return Path(os.path.abspath(clip_dir)).name


def open_clip(clip_dir: str | Path) -> Clip:
    """Open and validate a clip folder; every problem is an ``InputError`` naming the file."""
    clip_dir = Path(clip_dir)
    clip_id = validate_clip_id(clip_id_of(clip_dir), clip_dir)
    if not clip_dir.is_dir():
        raise InputError(clip_dir, "clip folder not found", "missing_clip")
    poses = read_pose_table(clip_dir / POSES_NAME)
    video_path, frames_dir = clip_dir / VIDEO_NAME, clip_dir / FRAMES_NAME
    has_video, has_frames = video_path.exists(), frames_dir.exists()
    if has_video and has_frames:
        raise InputError(clip_dir, f"holds both {VIDEO_NAME} and {FRAMES_NAME}/; keep one", "ambiguous_images")
    if has_video:
        info = probe_video(video_path)
        indices = pair_poses_with_video(clip_dir / POSES_NAME, poses.timestamps_us, info, video_path)
        return Clip(
            clip_id, clip_dir, "video", info.width, info.height, poses, poses.cameras(info.width, info.height),
            indices, video=info,
        )  # fmt: skip
    if has_frames:
        files = list_frame_files(frames_dir)
        if len(files) != len(poses):
            raise InputError(
                clip_dir / POSES_NAME,
                f"{len(poses)} pose lines but {len(files)} images in {FRAMES_NAME}/",
                "pose_frame_mismatch",
            )
        first = read_frame_image(files[0])
        h, w = first.shape[:2]
        return Clip(
            clip_id, clip_dir, "frames", w, h, poses, poses.cameras(w, h), np.arange(len(files)), frame_files=files
        )
    raise InputError(clip_dir, f"neither {VIDEO_NAME} nor a {FRAMES_NAME}/ folder", "missing_images")

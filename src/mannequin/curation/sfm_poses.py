"""Poses for a clip folder without ``poses.txt``: its images, structure from motion, the Mannequin Challenge table.

Frames are decoded one at a time and downscaled to ``sfm.max_width`` before SfM sees them. The estimated
cameras are scaled back to the clip's full resolution, so the table reads like a ``poses.txt``: one line
per registered frame, the frames that did not register left out (and counted), SfM's arbitrary units.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.clips.clip import FRAMES_NAME, VIDEO_NAME, Clip, clip_id_of
from mannequin.clips.frames import iter_frame_files, list_frame_files, read_frame_image
from mannequin.clips.ids import validate_clip_id
from mannequin.clips.intrinsics import INTRINSICS_NAME, pixel_intrinsics, read_intrinsics
from mannequin.clips.poses import PoseTable, format_poses
from mannequin.clips.video import VideoInfo, iter_video_frames, probe_video
from mannequin.config.sfm import SfmParams
from mannequin.curation.quality import even_indices
from mannequin.curation.sfm import SfmStats, focal_note, reconstruct
from mannequin.errors import InputError

FRAMES_FPS = 30.0  # a frames/ clip has no clock: its estimated poses are stamped at this nominal rate


@dataclass(frozen=True)
class ClipImages:
    """A clip folder's images, without poses: ``video.mp4`` or ``frames/``."""

    path: Path
    source: Literal["video", "frames"]
    width: int
    height: int
    timestamps_us: np.ndarray  # (count,) presentation time of each frame (nominal for frames/)
    video: VideoInfo | None = None
    frame_files: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.timestamps_us)

    def size_for(self, max_width: int) -> tuple[int, int]:
        """``(width, height)`` after downscaling to at most ``max_width`` (aspect kept, never upscaled)."""
        if max_width >= self.width:
            return self.width, self.height
        return max_width, max(1, round(self.height * max_width / self.width))

    def iter_frames(self, indices: Sequence[int], max_width: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, rgb_uint8)`` for sorted unique ``indices``, one frame at a time, downscaled as it is decoded."""
        size = self.size_for(max_width)
        if self.source == "video":
            frames = iter_video_frames(self.path / VIDEO_NAME, indices)
        else:
            frames = iter_frame_files(self.frame_files, indices, size=(self.width, self.height))
        for index, image in frames:
            if (image.shape[1], image.shape[0]) != (self.width, self.height):
                raise InputError(self.path / VIDEO_NAME, "frame size changes within the video", "bad_video")
            if size != (self.width, self.height):
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            yield index, image


def open_images(clip_dir: str | Path) -> ClipImages:
    """The images of a clip folder, validated like :func:`mannequin.clips.clip.open_clip` but without poses."""
    clip_dir = Path(clip_dir)
    validate_clip_id(clip_id_of(clip_dir), clip_dir)
    if not clip_dir.is_dir():
        raise InputError(clip_dir, "clip folder not found", "missing_clip")
    video_path, frames_dir = clip_dir / VIDEO_NAME, clip_dir / FRAMES_NAME
    if video_path.exists() and frames_dir.exists():
        raise InputError(clip_dir, f"holds both {VIDEO_NAME} and {FRAMES_NAME}/; keep one", "ambiguous_images")
    if video_path.exists():
        info = probe_video(video_path)
        return ClipImages(clip_dir, "video", info.width, info.height, info.timestamps_us, video=info)
    if frames_dir.exists():
        files = list_frame_files(frames_dir)
        h, w = read_frame_image(files[0]).shape[:2]
        stamps = np.round(np.arange(len(files)) * 1e6 / FRAMES_FPS).astype(np.int64)
        return ClipImages(clip_dir, "frames", w, h, stamps, frame_files=files)
    raise InputError(clip_dir, f"neither {VIDEO_NAME} nor a {FRAMES_NAME}/ folder", "missing_images")


@dataclass(frozen=True)
class EstimatedPoses:
    """SfM poses of a clip: a pose table of the registered frames and where each line's frame is."""

    table: PoseTable
    source_indices: np.ndarray  # (N,) index of each pose line's frame in the video / frames folder
    stats: SfmStats
    width: int  # the clip's frame size, which the table's normalised intrinsics refer to
    height: int
    focal_note: str = ""  # :func:`~mannequin.curation.sfm.focal_note`: the focal length far from its prior

    @property
    def unregistered(self) -> int:
        return self.stats.frames - self.stats.registered

    def note(self, clip_id: str) -> str:
        s = self.stats
        return (
            f"mannequin structure from motion of {clip_id}: {s.registered} of {s.frames} frames registered "
            f"({self.unregistered} left out), {s.points} points, mean reprojection error "
            f"{s.reprojection_error_px:.2f} px, focal {s.focal:.4f} x width; translation in SfM units"
            + (f"; {s.method}" if s.method else "")
            + (f"; NOTE: {self.focal_note}" if self.focal_note else "")
        )

    def text(self, clip_id: str) -> str:
        """The table as ``poses.txt`` text, its first line the registration summary."""
        return format_poses(self.cameras(), self.note(clip_id))

    def cameras(self) -> list[Camera]:
        """Full-resolution cameras of the pose lines."""
        return self.table.cameras(self.width, self.height)


def pose_table(cameras: Sequence[Camera], timestamps_us: Sequence[int], note: str = "") -> PoseTable:
    """A :class:`PoseTable` of full-resolution cameras (intrinsics normalised by width and height)."""
    intr = np.array(
        [[c.K[0, 0] / c.width, c.K[1, 1] / c.height, c.K[0, 2] / c.width, c.K[1, 2] / c.height] for c in cameras]
    )
    P = np.stack([np.concatenate([c.R, c.t[:, None]], axis=1) for c in cameras])
    return PoseTable(note, np.asarray(timestamps_us, dtype=np.int64), intr, np.zeros((len(cameras), 2)), P)


def estimate_clip_poses(clip_dir: str | Path, params: SfmParams) -> EstimatedPoses:
    """Structure from motion over up to ``params.max_frames`` evenly spread frames of a clip folder.

    A clip's ``intrinsics.txt``, when present, fixes the shared camera; otherwise it is estimated. A clip SfM
    cannot reconstruct is ``InputError(code="no_poses")``.
    """
    clip_dir = Path(clip_dir)
    images = open_images(clip_dir)
    K = None
    if (clip_dir / INTRINSICS_NAME).exists():
        full = pixel_intrinsics(read_intrinsics(clip_dir / INTRINSICS_NAME), images.width, images.height)
        K = (
            Camera(full, np.eye(3), np.zeros(3), images.width, images.height)
            .resized(*images.size_for(params.max_width))
            .K
        )
    chosen = even_indices(len(images), params.max_frames)
    frames = (image for _, image in images.iter_frames(chosen, params.max_width))
    result = reconstruct(frames, params, clip_dir, K)
    kept = [(i, c) for i, c in zip(chosen, result.cameras) if c is not None]
    full_res = [c.resized(images.width, images.height) for _, c in kept]
    indices = np.array([i for i, _ in kept], dtype=np.int64)
    table = pose_table(full_res, images.timestamps_us[indices])
    note = focal_note(result.stats, params, images.width, images.height)
    return EstimatedPoses(table, indices, result.stats, images.width, images.height, note)


def clip_with_poses(clip_dir: str | Path, table: PoseTable, source_indices: np.ndarray) -> Clip:
    """A :class:`Clip` whose poses come from SfM: pose line ``i`` is frame ``source_indices[i]`` of the folder."""
    images = open_images(clip_dir)
    if len(source_indices) != len(table) or (len(source_indices) and int(np.max(source_indices)) >= len(images)):
        raise InputError(clip_dir, "estimated poses do not fit the clip's frames (re-run curation)", "bad_poses")
    return Clip(
        clip_id_of(clip_dir), images.path, images.source, images.width, images.height, table,
        table.cameras(images.width, images.height), np.asarray(source_indices, dtype=np.int64),
        video=images.video, frame_files=list(images.frame_files),
    )  # fmt: skip

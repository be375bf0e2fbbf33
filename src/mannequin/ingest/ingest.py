"""``mannequin ingest``: raw videos cut at shot boundaries into clip folders, added to ``splits.csv``.

Every video is planned first (one decode at ``detect_width``: shot cuts, target-rate sampling,
duplicates, blur), so a bad video or a malformed ``splits.csv`` stops the command before anything is
written. Then each video is decoded once more at ``max_width`` and its clips are written, each folder
atomically, one clip's frames in memory at a time; ``splits.csv`` is rewritten atomically last.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from mannequin.atomic import atomic_dir, atomic_write_text
from mannequin.clips.clip import FRAMES_NAME, VIDEO_NAME
from mannequin.clips.ids import validate_clip_id
from mannequin.clips.png import write_png
from mannequin.clips.splits import CLIPS_NAME, SPLITS_NAME, read_splits
from mannequin.clips.video import write_video
from mannequin.config.ingest import IngestParams
from mannequin.errors import InputError
from mannequin.ingest.decode import capped_size, iter_scaled, stream_info
from mannequin.ingest.select import CandidatePicker, shot_clips
from mannequin.ingest.shots import ShotCutter, shot_ranges

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_STEM = 100


@dataclass(frozen=True)
class PlannedClip:
    """One clip to write: its id, the shot it comes from, and the video frames it keeps."""

    clip_id: str
    shot: int
    part: int
    frames: list[int]


@dataclass
class VideoPlan:
    """What ingest found in one video."""

    path: Path
    num_frames: int
    fps: float
    size: tuple[int, int]  # the written clips' frame size
    shots: list[tuple[int, int]]
    clips: list[PlannedClip] = field(default_factory=list)

    @property
    def frames_kept(self) -> int:
        return sum(len(c.frames) for c in self.clips)


def clip_stem(video: Path) -> str:
    """The file name without its suffix, as a clip-id prefix (unsafe characters become ``_``)."""
    stem = _UNSAFE.sub("_", video.stem).strip("._") or "video"
    return stem[:MAX_STEM]


def clip_id_for(stem: str, shot: int, part: int, parts: int) -> str:
    """``<stem>-s<shot>`` and, for a shot split in several clips, ``-p<part>``; valid by the clip-id contract."""
    clip_id = f"{stem}-s{shot:03d}" + (f"-p{part:02d}" if parts > 1 else "")
    return validate_clip_id(clip_id)


def plan_video(path: str | Path, params: IngestParams, progress: bool = False) -> VideoPlan:
    """Shot cuts and the frames of every clip, from one decode at ``detect_width``."""
    from tqdm import tqdm

    path = Path(path)
    info = stream_info(path)
    detect = capped_size(info.width, info.height, params.detect_width)
    cutter = ShotCutter(info.fps, params.cut_threshold, params.min_shot_frames)
    picker = CandidatePicker(info.fps, params)
    count = 0
    bar = tqdm(total=info.declared_frames or None, desc=f"shots {path.name}", unit="frame", file=sys.stderr,
               disable=not progress, leave=False)  # fmt: skip
    with bar:
        for index, bgr in iter_scaled(path, detect, fmt="bgr24"):
            before = len(cutter.cuts)
            cutter.add(index, bgr)
            if len(cutter.cuts) > before:
                picker.cut()
            picker.add(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
            count = index + 1
            bar.update()
    shots = shot_ranges(cutter.finish(count), count)
    plan = VideoPlan(path, count, info.fps, capped_size(info.width, info.height, params.max_width), shots)
    stem = clip_stem(path)
    for shot, (start, end) in enumerate(shots):
        chunks = shot_clips(picker.candidates, start, end, params)
        for part, frames in enumerate(chunks):
            plan.clips.append(PlannedClip(clip_id_for(stem, shot, part, len(chunks)), shot, part, frames))
    return plan


def _write_clip(clip_dir: Path, frames: list[np.ndarray], params: IngestParams) -> None:
    with atomic_dir(clip_dir) as tmp:
        if params.form == "video":
            write_video(tmp / VIDEO_NAME, frames, params.fps)
            return
        for k, frame in enumerate(frames):
            write_png(tmp / FRAMES_NAME / f"{k:06d}.png", frame)


def write_clips(plan: VideoPlan, clips_dir: Path, params: IngestParams, progress: bool = False) -> None:
    """Decode the video once at the clip size and write each planned clip (one clip's frames in memory)."""
    from tqdm import tqdm

    owner = {f: k for k, c in enumerate(plan.clips) for f in c.frames}
    last = max(owner) if owner else -1
    current, frames = -1, []
    bar = tqdm(total=plan.num_frames, desc=f"clips {plan.path.name}", unit="frame", file=sys.stderr,
               disable=not progress, leave=False)  # fmt: skip
    with bar:
        for index, rgb in iter_scaled(plan.path, plan.size):
            bar.update()
            k = owner.get(index)
            if k is not None:
                if k != current and frames:
                    _write_clip(clips_dir / plan.clips[current].clip_id, frames, params)
                    frames = []
                current = k
                frames.append(rgb)
            if index >= last:
                break
    if frames:
        _write_clip(clips_dir / plan.clips[current].clip_id, frames, params)


def _splits_text(out_dir: Path, existing: dict[str, str], new: list[tuple[str, str]]) -> str:
    path = out_dir / SPLITS_NAME
    text = path.read_text(encoding="utf-8-sig") if path.exists() else "clip_id,split\n"
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(f"{c},{s}\n" for c, s in new if c not in existing)


@dataclass(frozen=True)
class IngestSummary:
    """Shots found, clips written and frames kept, per video and in all."""

    videos: list[VideoPlan]
    new_rows: int

    @property
    def shots(self) -> int:
        return sum(len(v.shots) for v in self.videos)

    @property
    def clips(self) -> int:
        return sum(len(v.clips) for v in self.videos)

    @property
    def frames_kept(self) -> int:
        return sum(v.frames_kept for v in self.videos)

    def lines(self) -> list[str]:
        out = [
            f"{v.path.name}: {len(v.shots)} shots, {len(v.clips)} clips, {v.frames_kept} of {v.num_frames} frames kept"
            for v in self.videos
        ]
        out.append(
            f"ingested {len(self.videos)} videos: {self.shots} shots found, {self.clips} clips written, "
            f"{self.frames_kept} frames kept, {self.new_rows} rows added to {SPLITS_NAME}"
        )
        return out


def ingest(
    videos: Sequence[str | Path], out_dir: str | Path, params: IngestParams, progress: bool = False
) -> IngestSummary:
    """Cut ``videos`` into clips under ``out_dir/clips`` and add them to ``out_dir/splits.csv`` (see module doc)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a directory", "bad_output")
    existing = read_splits(out_dir) if (out_dir / SPLITS_NAME).exists() else {}
    plans = [plan_video(v, params, progress) for v in videos]
    owners: dict[str, Path] = {}
    for plan in plans:
        for clip in plan.clips:
            if clip.clip_id in owners:
                raise InputError(
                    plan.path, f"clip id {clip.clip_id} collides with one from {owners[clip.clip_id]}; rename one",
                    "clip_id_collision",
                )  # fmt: skip
            owners[clip.clip_id] = plan.path
    clips_dir = out_dir / CLIPS_NAME
    clips_dir.mkdir(parents=True, exist_ok=True)
    for plan in plans:
        write_clips(plan, clips_dir, params, progress)
    new = [(c.clip_id, params.split) for plan in plans for c in plan.clips]
    added = sum(c not in existing for c, _ in new)
    atomic_write_text(out_dir / SPLITS_NAME, _splits_text(out_dir, existing, new))
    return IngestSummary(plans, added)

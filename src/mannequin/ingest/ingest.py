"""``mannequin ingest``: raw videos cut at shot boundaries into clip folders, added to ``splits.csv``.

Every video is planned first (one decode at ``detect_width``: shot cuts, target-rate sampling,
duplicates, blur), so a bad video, a malformed ``splits.csv`` or a clip id that would replace another video's
clip stops the command before anything is written. Then each video is decoded once more at ``max_width`` and its
clips are written, each folder atomically (staged as a hidden ``clips/.ingest.<id>.*`` folder, which the next
ingest removes if a kill left it), one clip's frames in memory at a time; ``splits.csv`` is rewritten atomically
last. Each clip folder gets ``ingest.json``: the video's name and sha256 and the frames kept, so that ingesting the
same video again rewrites its clips and another video of the same name is refused.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from mannequin.atomic import atomic_dir, atomic_write_text
from mannequin.clips.clip import FRAMES_NAME, VIDEO_NAME
from mannequin.clips.ids import is_valid_clip_id, validate_clip_id
from mannequin.clips.png import write_png
from mannequin.clips.splits import CLIPS_NAME, SPLITS_NAME, read_splits
from mannequin.clips.video import write_video
from mannequin.config.ingest import IngestParams
from mannequin.errors import InputError, naming_a_full_disk, require_output_dir, warn
from mannequin.ingest.decode import capped_size, iter_scaled, stream_info
from mannequin.ingest.select import CandidatePicker, shot_clips
from mannequin.ingest.shots import ShotCutter, shot_ranges

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_STEM = 100
SOURCE_NAME = "ingest.json"  # in each clip folder ingest writes: the video it came from (name, sha256), the frames
STAGING_TAG = "ingest."  # a clip folder being written is clips/.ingest.<id>.<random> until it is complete


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
    sha256: str = ""  # of the video file: which video an existing clip folder came from

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
    if info.declared_frames and count < info.declared_frames:
        warn(
            f"{path}: only {count} of the {info.declared_frames} frames the container declares decode "
            "(a truncated or damaged video): its clips come from those frames"
        )
    shots = shot_ranges(cutter.finish(count), count)
    size = capped_size(info.width, info.height, params.max_width)
    plan = VideoPlan(path, count, info.fps, size, shots, sha256=file_sha256(path))
    stem = clip_stem(path)
    for shot, (start, end) in enumerate(shots):
        chunks = shot_clips(picker.candidates, start, end, params)
        for part, frames in enumerate(chunks):
            plan.clips.append(PlannedClip(clip_id_for(stem, shot, part, len(chunks)), shot, part, frames))
    return plan


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_clip(clip_dir: Path, frames: list[np.ndarray], params: IngestParams, source: dict) -> None:
    with naming_a_full_disk(clip_dir), atomic_dir(clip_dir, tag=STAGING_TAG) as tmp:
        if params.form == "video":
            write_video(tmp / VIDEO_NAME, frames, params.fps)
        else:
            for k, frame in enumerate(frames):
                write_png(tmp / FRAMES_NAME / f"{k:06d}.png", frame)
        (tmp / SOURCE_NAME).write_text(json.dumps(source, indent=1) + "\n", encoding="utf-8")


def _source(plan: VideoPlan, clip: PlannedClip) -> dict:
    return {"video": plan.path.name, "sha256": plan.sha256, "frames": clip.frames}


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
                    clip = plan.clips[current]
                    _write_clip(clips_dir / clip.clip_id, frames, params, _source(plan, clip))
                    frames = []
                current = k
                frames.append(rgb)
            if index >= last:
                break
    if frames:
        clip = plan.clips[current]
        _write_clip(clips_dir / clip.clip_id, frames, params, _source(plan, clip))


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
    out_dir = require_output_dir(out_dir)
    require_output_dir(out_dir / CLIPS_NAME)
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
    check_not_replacing_others(plans, clips_dir)
    clips_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(clips_dir):
        removed = remove_leftovers(clips_dir)
        if removed:
            shown = ", ".join(str(p) for p in removed[:3]) + (", ..." if len(removed) > 3 else "")
            warn(f"removed {len(removed)} partial clip folder(s) left by an interrupted ingest: {shown}")
        for plan in plans:
            write_clips(plan, clips_dir, params, progress)
        new = [(c.clip_id, params.split) for plan in plans for c in plan.clips]
        added = sum(c not in existing for c, _ in new)
        with naming_a_full_disk(out_dir / SPLITS_NAME):
            atomic_write_text(out_dir / SPLITS_NAME, _splits_text(out_dir, existing, new))
    return IngestSummary(plans, added)


def check_not_replacing_others(plans: list[VideoPlan], clips_dir: Path) -> None:
    """Refuse to write over a clip folder that came from another video, or that ingest did not write: a second
    ``street.mp4`` must not replace the first one's ``street-s000``. The same video again (same sha256) is a
    re-ingest and rewrites its clips."""
    for plan in plans:
        for clip in plan.clips:
            folder = clips_dir / clip.clip_id
            if not folder.exists() and not folder.is_symlink():
                continue
            try:
                source = json.loads((folder / SOURCE_NAME).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                source = None
            if not isinstance(source, dict):
                problem = f"would replace {folder}, which was not written by ingest; move it away or rename the video"
            elif source.get("sha256") == plan.sha256:
                continue
            else:
                problem = (
                    f"its clip {clip.clip_id} would replace {folder}, which came from another video "
                    f"({source.get('video')}, sha256 {str(source.get('sha256'))[:12]}...): rename this video "
                    "(clip ids are made from the file name)"
                )
            raise InputError(plan.path, problem, "clip_id_collision")


@contextmanager
def exclusive(clips_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``clips_dir`` (the folder itself, no lock file in the data): two ingests into one
    data folder would remove each other's clips in progress."""
    fd = os.open(clips_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(clips_dir, "another ingest is writing here; wait for it to finish", "busy") from None
        yield
    finally:
        os.close(fd)


def remove_leftovers(clips_dir: Path) -> list[Path]:
    """Remove what a killed ingest left in ``clips_dir``: its half-written hidden folders (``.ingest.<id>.*``), and
    a replaced clip's ``.<id>.old`` copy; a copy whose clip is missing (killed between the two renames) is put
    back. Returns what was removed."""
    removed = []
    for entry in sorted(clips_dir.iterdir()):
        name = entry.name
        if name.startswith("." + STAGING_TAG) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
            removed.append(entry)
        elif name.startswith(".") and name.endswith(".old") and entry.is_dir() and not entry.is_symlink():
            clip = clips_dir / name[1 : -len(".old")]
            if (entry / SOURCE_NAME).is_file() and is_valid_clip_id(clip.name):
                if clip.exists():
                    shutil.rmtree(entry)
                    removed.append(entry)
                else:
                    os.replace(entry, clip)
    return removed

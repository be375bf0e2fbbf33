"""Where a clip's poses come from (``curate.poses``), and where estimated poses live: the one resolver.

``given``: the clip's ``poses.txt``. ``sfm``: structure from motion, whatever the clip holds. ``auto``: the
clip's ``poses.txt`` where there is one, SfM otherwise. Estimated poses are never written into ``data/``:
they live in the curation outputs, ``<curated>/poses/<clip_id>/<key>.txt`` (Mannequin Challenge format)
beside ``<key>.json`` (each pose line's frame and the registration statistics), keyed by the clip's image
content, its ``intrinsics.txt`` and the ``curate.sfm`` settings. A clip SfM could not reconstruct is
remembered the same way, so a re-run does not repeat a failed reconstruction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.clips.clip import FRAMES_NAME, POSES_NAME, VIDEO_NAME, Clip, clip_id_of, open_clip
from mannequin.clips.intrinsics import INTRINSICS_NAME
from mannequin.clips.poses import read_pose_table
from mannequin.config.curate import CurateParams
from mannequin.config.sfm import SfmParams
from mannequin.curation.sfm import NO_POSES, SfmStats
from mannequin.curation.sfm_poses import EstimatedPoses, clip_with_poses, estimate_clip_poses
from mannequin.errors import InputError

PosesMode = Literal["auto", "given", "sfm"]
POSES_DIR = "poses"


@dataclass(frozen=True)
class ResolvedClip:
    """An opened clip, where its poses came from, and the registration statistics of estimated ones."""

    clip: Clip
    source: Literal["given", "sfm"]
    stats: SfmStats | None = None


def images_key(clip_dir: str | Path, sfm: SfmParams) -> str:
    """sha256 over the clip's images (video, or each frame's name and bytes), its intrinsics and the SfM settings."""
    clip_dir = Path(clip_dir)
    digest = hashlib.sha256(b"mannequin-sfm-poses-v1\0")
    digest.update(json.dumps(sfm.model_dump(mode="json"), sort_keys=True).encode())
    files = [clip_dir / VIDEO_NAME, clip_dir / INTRINSICS_NAME]
    if (clip_dir / FRAMES_NAME).is_dir():
        files += sorted(p for p in (clip_dir / FRAMES_NAME).iterdir() if p.is_file())
    for f in files:
        if not f.is_file():
            continue
        digest.update(f"{f.relative_to(clip_dir).as_posix()}\0{f.stat().st_size}\0".encode())
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:32]


def uses_sfm(clip_dir: str | Path, mode: PosesMode) -> bool:
    """Whether the clip's poses come from structure from motion under ``mode``."""
    return mode == "sfm" or (mode == "auto" and not (Path(clip_dir) / POSES_NAME).exists())


def stored_poses(clip_dir: str | Path, sfm: SfmParams, store: str | Path) -> EstimatedPoses:
    """The estimated poses of a clip from ``store`` (``<curated>/poses``), computed and stored on first use.

    A failed reconstruction is stored too and raised again as the same ``InputError(code="no_poses")``.
    """
    clip_dir = Path(clip_dir)
    clip_id = clip_id_of(clip_dir)
    key = images_key(clip_dir, sfm)
    base = Path(store) / clip_id / key
    meta_path = base.with_suffix(".json")
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if "failure" in meta:
            raise InputError(clip_dir, meta["failure"], NO_POSES)
        table = read_pose_table(base.with_suffix(".txt"))
        return EstimatedPoses(table, np.asarray(meta["source_indices"], dtype=np.int64), SfmStats(**meta["stats"]),
                              int(meta["width"]), int(meta["height"]))  # fmt: skip
    for old in base.parent.glob("*") if base.parent.is_dir() else []:
        old.unlink()  # entries of the clip's earlier content or settings
    try:
        est = estimate_clip_poses(clip_dir, sfm)
    except InputError as err:
        if err.code == NO_POSES:
            atomic_write_text(meta_path, json.dumps({"clip_id": clip_id, "failure": err.problem}) + "\n")
        raise
    atomic_write_text(base.with_suffix(".txt"), est.text(clip_id))
    meta = {
        "clip_id": clip_id,
        "source_indices": [int(i) for i in est.source_indices],
        "width": est.width,
        "height": est.height,
        "stats": est.stats.as_dict(),
    }
    atomic_write_text(meta_path, json.dumps(meta, indent=1) + "\n")  # written last: the entry is complete
    return est


@dataclass(frozen=True)
class PoseSource:
    """Where a stage reads clips' poses: ``curate.poses``, ``curate.sfm`` and the store of estimated poses.

    The default (``auto``, default SfM settings, no store) reads ``poses.txt`` where there is one, exactly as
    before SfM existed, and runs SfM (keeping nothing) for a clip without it.
    """

    mode: PosesMode = "auto"
    sfm: SfmParams = field(default_factory=SfmParams)
    store: Path | None = None

    @classmethod
    def of(cls, curate: CurateParams, curated: str | Path | None = None) -> PoseSource:
        """The source curation used: its ``curate`` block, and ``<curated>/poses`` when ``curated`` is given."""
        return cls(curate.poses, curate.sfm, None if curated is None else Path(curated) / POSES_DIR)

    def resolve(self, clip_dir: str | Path) -> ResolvedClip:
        return resolve_clip(clip_dir, self.mode, self.sfm, self.store)

    def open(self, clip_dir: str | Path) -> Clip:
        """The clip with its poses (:func:`resolve_clip`)."""
        return self.resolve(clip_dir).clip


def lines_of_frames(clip: Clip, frames: Sequence[int], source: Literal["given", "sfm"]) -> list[int]:
    """Pose lines of the frames a sensor-depth index names (``data/depth/<id>/<frame_index>.png``).

    With ``poses.txt`` the index is the pose line; with SfM poses, which leave unregistered frames out, it is
    the frame of the video or ``frames/`` folder, whose line is looked up (``InputError`` if it has none).
    """
    if source == "given":
        return [int(i) for i in frames]
    line_of = {int(f): k for k, f in enumerate(clip.source_indices)}
    missing = [int(f) for f in frames if int(f) not in line_of]
    if missing:
        raise InputError(clip.path, f"frame {missing[0]} has no SfM pose (it did not register)", NO_POSES)
    return [line_of[int(f)] for f in frames]


def resolve_clip(clip_dir: str | Path, mode: PosesMode, sfm: SfmParams, store: str | Path | None) -> ResolvedClip:
    """Open a clip with its poses from where ``mode`` says; every stage that needs a clip's poses goes through here.

    ``store`` is the folder of estimated poses (``<curated>/poses``); without one, SfM runs and nothing is kept.
    """
    clip_dir = Path(clip_dir)
    if not uses_sfm(clip_dir, mode):
        return ResolvedClip(open_clip(clip_dir), "given")
    est = estimate_clip_poses(clip_dir, sfm) if store is None else stored_poses(clip_dir, sfm, store)
    return ResolvedClip(clip_with_poses(clip_dir, est.table, est.source_indices), "sfm", est.stats)

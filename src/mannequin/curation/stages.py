"""The stages of one clip's curation, in the order of :data:`mannequin.curation.rules.STAGES`.

Each stage reads what the earlier ones left in the :class:`ClipState`, keeps what later stages need there, and
returns its named values (scores, and what rules read beside them, e.g. ``jump_at``). The rules of
:mod:`mannequin.curation.rules` read those values right after the stage; ``clips.csv`` records the scores.
A reader or the MVS raising ``InputError`` stops the clip with that error's code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.clips.clip import Clip
from mannequin.config.curate import CurateParams
from mannequin.curation.quality import clip_sharpness, depth_scores, even_indices, pose_scores
from mannequin.curation.rules import Registry


@dataclass
class ClipState:
    """What the stages of one clip hand on to each other."""

    clip_dir: Path
    params: CurateParams
    device: str
    clip: Clip | None = None
    indices: list[int] | None = None
    images: np.ndarray | None = None  # (N,H,W,3) uint8, the frames read at curate.max_width
    cameras: list[Camera] | None = None
    depth: Any = None  # mannequin.curation.mvs.ClipDepth
    keep: np.ndarray | None = None  # frames with enough confident depth to go into the shard
    poses_store: Path | None = None  # where estimated poses live (<curated>/poses); None: SfM is not kept


def open_stage(s: ClipState) -> dict[str, Any]:
    """The clip with its poses from where ``curate.poses`` says (``poses.txt`` or SfM), and SfM's statistics."""
    from mannequin.curation.sfm_store import resolve_clip

    resolved = resolve_clip(s.clip_dir, s.params.poses, s.params.sfm, s.poses_store)
    s.clip = resolved.clip
    values: dict[str, Any] = {"num_frames": len(s.clip)}
    if resolved.stats is not None:
        from mannequin.curation.sfm import focal_vs_prior

        st = resolved.stats
        values.update(sfm_registered=st.registered_fraction, sfm_points=st.points)
        values.update(sfm_reprojection_px=st.reprojection_error_px, sfm_focal=st.focal)
        values["sfm_focal_vs_prior"] = focal_vs_prior(st, s.params.sfm, s.clip.width, s.clip.height)
    return values


def poses_stage(s: ClipState) -> dict[str, Any]:
    return asdict(pose_scores(s.clip.cameras))


def frames_stage(s: ClipState) -> dict[str, Any]:
    s.indices = even_indices(len(s.clip), s.params.max_frames)
    s.images, s.cameras = s.clip.read_frames(s.indices, max_width=s.params.max_width)
    return {"frames_used": len(s.indices), "sharpness": clip_sharpness(s.images)}


def mvs_stage(s: ClipState) -> dict[str, Any]:
    from mannequin.curation.mvs import clip_depth

    result = s.depth = clip_depth(s.images, s.cameras, s.params.mvs, device=s.device)
    values: dict[str, Any] = depth_scores(
        result.depth, result.median_angle_deg, result.inconsistent_fraction, result.disagreement_fraction
    )
    values["motion_fraction"] = None
    if values["coverage"] > 0:
        from mannequin.curation.motion import motion_fraction

        values["motion_fraction"] = motion_fraction(result.depth, s.images, s.cameras)
    # frames with almost no confident depth carry no targets: they stay out of the shard
    floor = s.params.gates.min_frame_coverage
    s.keep = np.isfinite(result.depth).mean(axis=(1, 2)) >= floor
    values.update(frames_kept=int(s.keep.sum()), frames_total=len(s.keep), frame_coverage_floor=floor)
    return values


STAGE_FUNCTIONS: dict[str, Callable[[ClipState], dict[str, Any]]] = {
    "open": open_stage,
    "poses": poses_stage,
    "frames": frames_stage,
    "mvs": mvs_stage,
}


def run_stage(stage: str, state: ClipState, registry: Registry) -> dict[str, Any]:
    """Run ``stage``, then the ``compute`` of every score the registry declares for it."""
    values = STAGE_FUNCTIONS[stage](state)
    for score in registry.stage_scores(stage):
        if score.compute is not None:
            values[score.name] = score.compute(state)
    return values

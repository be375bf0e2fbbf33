"""Tiny datasets for the curation tests: rendered sample clips (64x48, a few frames) plus hand-made bad clips, and
the default rules of one curation stage asked directly (what a clip with given scores is rejected for)."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.clips.poses import write_poses
from mannequin.clips.video import write_video
from mannequin.config import load_params
from mannequin.config.curate import CurateParams, QualityParams
from mannequin.curation.quality import PoseScores
from mannequin.curation.rules import DEFAULT, Reason, Values
from mannequin.sample.dataset import render_clip, write_clip
from mannequin.sample.plan import ClipPlan

WIDTH, HEIGHT, FRAMES = 64, 48, 6


def plan(
    clip_id: str, seed: int, split: str = "unlabeled", defect: str = "none", trajectory: str = "sweep"
) -> ClipPlan:
    return ClipPlan(
        clip_id=clip_id, split=split, defect=defect, form="video", trajectory=trajectory, seed=seed,
        n_frames=FRAMES, fps=10, width=WIDTH, height=HEIGHT, hfov_deg=60.0, pose_scale=1.7,
    )  # fmt: skip


def write_splits(data: Path, splits: dict[str, str]) -> None:
    lines = ["clip_id,split", *[f"{k},{v}" for k, v in sorted(splits.items())]]
    (data / "splits.csv").write_text("\n".join(lines) + "\n")


def look_at_cameras(n: int, shift: float = 0.3) -> list[Camera]:
    """``n`` cameras stepping sideways by ``shift`` (units) and looking down +z."""
    K = np.array([[WIDTH * 0.9, 0, WIDTH / 2], [0, WIDTH * 0.9, HEIGHT / 2], [0, 0, 1]])
    return [Camera(K, np.eye(3), np.array([-shift * i, 0.0, 0.0]), WIDTH, HEIGHT, i * 100_000) for i in range(n)]


def write_plain_clip(data: Path, clip_id: str, frames: np.ndarray, cameras: list[Camera]) -> Path:
    clip_dir = data / "clips" / clip_id
    write_video(clip_dir / "video.mp4", list(frames), fps=10)
    write_poses(clip_dir / "poses.txt", cameras, f"test clip {clip_id}")
    return clip_dir


def write_clean_data(data: Path) -> Path:
    """Two clean rendered clips, one test clip."""
    for p in (plan("good_a", 11), plan("good_b", 12, trajectory="arc"), plan("held_t", 13, split="test")):
        write_clip(render_clip(p), data)
    write_splits(data, {"good_a": "unlabeled", "good_b": "labeled", "held_t": "test"})
    return data


def copy_data(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def tiny_curate_params() -> CurateParams:
    """The real params.yaml composed with overrides for tiny clips (few frames, small images)."""
    return load_params(
        Path(__file__).resolve().parents[2] / "params.yaml",
        {
            "curate.max_width": WIDTH,
            "curate.max_frames": FRAMES,
            "curate.device": "cpu",
            "curate.workers": 2,
            "curate.quality.min_coverage": 0.1,  # 64x48 frames give less confident depth than the sample's 160x120
            # 6 frames over the whole path: 12-22° baselines, where occlusions make source views disagree
            "curate.quality.max_disagreement_fraction": 1.0,
        },
    ).curate


def stage_reason(stage: str, values: Values, q: QualityParams) -> Reason | None:
    """The first default rule of ``stage`` that rejects a clip with these values."""
    found = DEFAULT.first_failure(stage, values, q)
    return found[1] if found else None


def pose_reason(p: PoseScores, q: QualityParams) -> Reason | None:
    """Teleports, and cameras that do not translate, from the poses alone."""
    return stage_reason("poses", asdict(p), q)


def sharpness_reason(sharpness: float, q: QualityParams) -> Reason | None:
    """Blurred frames."""
    return stage_reason("frames", {"sharpness": sharpness}, q)


def depth_reason(scores: dict, q: QualityParams) -> Reason | None:
    """Parallax, moving things and coverage from the MVS output, in that order (frames kept aside)."""
    return stage_reason("mvs", {"frames_kept": 1, "frames_total": 1, "frame_coverage_floor": 0.0, **scores}, q)

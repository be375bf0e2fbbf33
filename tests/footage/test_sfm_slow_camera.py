"""A slow, smooth camera at a high frame rate is motion over the clip, not a static camera (issue 26, item 7).

Features shift less than half a pixel between neighbouring frames of these clips, but steadily: over 24 frames
at 30 fps the scene moves about ten pixels, plenty for SfM and MVS. Rendered with the sample's renderer along a
sideways path with the hand-held wobble of its position (a few millimetres) but none of its angle, so the true
poses are known and not all on one line.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.png import write_png
from mannequin.config.sfm import SfmParams
from mannequin.curation.sfm_accuracy import pose_errors
from mannequin.curation.sfm_poses import estimate_clip_poses
from mannequin.errors import InputError
from mannequin.sample.dataset import _camera, build_clip_scene, intrinsics
from mannequin.sample.plan import make_plan
from mannequin.sample.render import render, to_uint8


def slow_clip(root: Path, px_per_frame: float, frames: int = 24, seed_index: int = 0):
    """A clip whose camera slides sideways at ``px_per_frame`` of median image motion; (clip dir, true cameras)."""
    plan = [p for p in make_plan(24, seed=0) if p.defect == "none" and p.split == "unlabeled"][seed_index]
    plan = replace(plan, n_frames=frames, fps=30, trajectory="sweep")
    scene, traj, _ = build_clip_scene(plan)
    traj = replace(traj, pan=0.0, jitter_ang=())
    K = intrinsics(plan)
    _, depth = render(scene, _camera(replace(traj, length=0.0), 0.5, K, plan))
    # a sideways step b shifts a point at depth z by f b / z pixels: pick the length that gives px_per_frame
    length = px_per_frame * (frames - 1) * float(np.median(depth)) / K[0, 0]
    traj = replace(traj, length=length)
    clip_dir = root / "slow"
    cameras = []
    for i, s in enumerate(np.linspace(0.0, 1.0, frames)):
        cam = _camera(traj, float(s), K, plan)
        write_png(clip_dir / "frames" / f"{i:06d}.png", to_uint8(render(scene, cam)[0]))
        cameras.append(cam)
    return clip_dir, cameras


def _matched_pairs(n: int = 24, overlap: int = 10) -> list[tuple[int, int]]:
    """The pairs sequential matching makes: each frame with the next ``overlap`` and those 2, 4, 8, ... on."""
    pairs = {(i, j) for i in range(n) for j in range(i + 1, min(n, i + overlap + 1))}
    pairs |= {(i, i + 2**k) for i in range(n) for k in range(6) if i + 2**k < n}
    return sorted(pairs)


def _report(shift) -> dict:
    pairs = _matched_pairs()
    neighbours = [{"i": k, "j": k + 1, "inliers": 200, "config": "CALIBRATED", "flow_px": shift(k, k + 1)}
                  for k in range(23)]  # fmt: skip
    return {"keypoints": [900] * 24, "pairs": neighbours, "pair_shifts": [[i, j, shift(i, j)] for i, j in pairs]}


def test_motion_is_judged_over_the_clip_not_between_neighbours() -> None:
    from mannequin.curation.sfm import _check_inputs, clip_motion

    params = SfmParams()
    slow = _report(lambda i, j: 0.4 * (j - i))  # 0.4 px a frame: moving
    assert clip_motion(slow["pair_shifts"]) == pytest.approx(3.6)  # the pairs 8 to 16 frames apart: 3.2 to 6.4 px
    _check_inputs(slow, 24, params, "slow")
    with pytest.raises(InputError, match=r"a median 0.30 px between frames far apart in the clip"):
        _check_inputs(_report(lambda i, j: 0.3), 24, params, "still")
    # a still camera with a car passing close: the car dominates a few pairs' features, not the clip
    car = _report(lambda i, j: 17.0 if (i, j) in {(4, 20), (5, 21)} else 0.3)
    with pytest.raises(InputError, match="does not move"):
        _check_inputs(car, 24, params, "car")


@pytest.mark.slow
@pytest.mark.parametrize("px_per_frame", [0.4])
def test_a_slow_steady_camera_gets_its_poses(tmp_path: Path, px_per_frame: float) -> None:
    clip_dir, true = slow_clip(tmp_path, px_per_frame)
    est = estimate_clip_poses(clip_dir, SfmParams())
    assert est.stats.registered >= 0.9 * len(true), est.stats
    err = pose_errors(est.cameras(), [true[i] for i in est.source_indices])
    assert err.max_rotation_deg < 1.0, err
    assert err.ate_ratio < 0.05, err


def test_a_camera_that_stays_put_is_still_static(tmp_path: Path) -> None:
    clip_dir, _ = slow_clip(tmp_path, 0.0, frames=12)
    with pytest.raises(InputError) as info:
        estimate_clip_poses(clip_dir, SfmParams())
    assert info.value.code == "no_poses" and "does not move" in str(info.value), str(info.value)
    assert "frames far apart" in str(info.value)

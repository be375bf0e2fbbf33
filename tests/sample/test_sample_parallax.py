"""Clean clips of the default set have real parallax; rotation-only and static clips have none."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.sample.dataset import build_clip_scene, intrinsics
from mannequin.sample.plan import make_plan
from mannequin.sample.render import render


def _median_triangulation_angle(plan) -> float:
    """Median angle (degrees) at the surface points of the first frame, seen from the first and last centres."""
    plan = replace(plan, width=40, height=30)
    scene, traj, _ = build_clip_scene(plan)
    K = intrinsics(plan)
    (c0, r0), (c1, _) = traj.pose(0.0), traj.pose(1.0)
    _, depth = render(scene, Camera(K, r0, -r0 @ c0, plan.width, plan.height), 0.0)
    u, v = np.meshgrid(np.arange(plan.width), np.arange(plan.height))
    rays = np.stack([u, v, np.ones_like(u)], -1).reshape(-1, 3) @ np.linalg.inv(K).T
    points = (rays * depth.reshape(-1, 1)) @ r0 + c0
    a, b = points - c0, points - c1
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return float(np.degrees(np.median(np.arccos(np.clip(cos, -1.0, 1.0)))))


def test_parallax_of_clean_and_degenerate_clips() -> None:
    angles = {p.clip_id: (p.defect, _median_triangulation_angle(p)) for p in make_plan()}
    clean = [a for d, a in angles.values() if d == "none"]
    assert len(clean) == 96 and min(clean) > 3.0
    assert all(a < 1e-3 for d, a in angles.values() if d in ("rotation_only", "static_camera"))

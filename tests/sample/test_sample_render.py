"""Known answers for the ray caster, and the reprojection test: renderer, pose convention and depth units agree."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from mannequin.clips.cameras import Camera
from mannequin.clips.clip import open_clip
from mannequin.sample.dataset import write_sample_data
from mannequin.sample.render import render
from mannequin.sample.scene import Box, Cylinder, Material, Scene, SceneObject, Sphere, room_planes
from mannequin.sample.trajectory import look_rotation

W, H, HFOV = 65, 49, 60.0  # odd sizes put the principal point on a pixel centre
MAT = Material(texture=0, texel_m=0.004)


def _camera(centre: tuple[float, float, float], yaw: float = 0.0) -> Camera:
    f = (W / 2) / np.tan(np.radians(HFOV) / 2)
    K = np.array([[f, 0, (W - 1) / 2], [0, f, (H - 1) / 2], [0, 0, 1]])
    R = look_rotation(yaw, 0.0)
    return Camera(K, R, -R @ np.asarray(centre), W, H)


def _scene(*parts) -> Scene:
    room = room_planes((4.0, 3.0, 10.0), [MAT] * 6)
    return Scene(size=(4.0, 3.0, 10.0), objects=(room, *(SceneObject((p,)) for p in parts)))


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (Sphere((0.0, 1.5, 5.0), 1.0, MAT), 3.0),
        (Box((0.0, 1.5, 4.5), (0.5, 0.5, 0.5), 0.0, MAT), 3.0),
        (Box((0.0, 1.5, 4.5), (0.5, 0.5, 0.5), np.pi / 2, MAT), 3.0),
        (Cylinder((0.0, 0.0, 5.0), 0.5, 3.0, MAT), 3.5),
        (None, 9.0),  # the far wall at z = 10
    ],
)
def test_centre_depth_of_each_primitive(part, expected: float) -> None:
    cam = _camera((0.0, 1.5, 1.0))
    colour, depth = render(_scene(*([part] if part else [])), cam)
    assert colour.shape == (H, W, 3) and depth.shape == (H, W)
    assert depth[(H - 1) // 2, (W - 1) // 2] == pytest.approx(expected, abs=1e-5)


def test_room_depth_is_z_along_the_optical_axis() -> None:
    cam = _camera((0.0, 1.5, 1.0))
    _, depth = render(_scene(), cam)
    f, cx, cy = cam.K[0, 0], cam.K[0, 2], cam.K[1, 2]
    # side walls 2 m off the axis, floor 1.5 m below it: z = offset * f / pixel offset, whatever the column/row
    assert depth[(H - 1) // 2, 0] == pytest.approx(2.0 * f / cx, rel=1e-5)
    assert depth[(H - 1) // 2, W - 1] == pytest.approx(2.0 * f / cx, rel=1e-5)
    assert depth[H - 1, (W - 1) // 2] == pytest.approx(1.5 * f / cy, rel=1e-5)


def test_a_surface_point_has_the_same_colour_from_two_views() -> None:
    sphere = Sphere((0.3, 1.4, 5.0), 0.8, Material(texture=2, texel_m=0.01))
    scene = _scene(sphere)
    a, b = _camera((0.0, 1.5, 1.0)), _camera((0.6, 1.5, 1.2), yaw=0.1)
    ca, da = render(scene, a)
    cb, _ = render(scene, b)
    v, u = (H - 1) // 2, (W - 1) // 2 + 5
    X = a.center + da[v, u] * (a.R.T @ np.linalg.inv(a.K) @ np.array([u, v, 1.0]))
    uv, _ = b.project(X[None])
    ub, vb = np.round(uv[0]).astype(int)
    np.testing.assert_allclose(cb[vb, ub], ca[v, u], atol=0.08)


def _warp(ref: np.ndarray, src: np.ndarray, d_ref: np.ndarray, d_src: np.ndarray, cam_r: Camera, cam_s: Camera):
    """|ref - src warped into ref| through ref depth (pose units), and the pixels visible in both views."""
    h, w = d_ref.shape
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    rays = np.stack([u, v, np.ones_like(u)], -1).reshape(-1, 3) @ np.linalg.inv(cam_r.K).T
    X = (rays * d_ref.reshape(-1, 1) - cam_r.t) @ cam_r.R  # camera -> world: R^T (x - t)
    uv, z = cam_s.project(X)
    mx = uv[:, 0].reshape(h, w).astype(np.float32)
    my = uv[:, 1].reshape(h, w).astype(np.float32)
    warped = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    seen = cv2.remap(d_src.astype(np.float32), mx, my, cv2.INTER_NEAREST, borderValue=0.0)
    inside = (mx > 1) & (mx < w - 2) & (my > 1) & (my < h - 2)
    edges = cv2.dilate(
        (np.abs(cv2.Laplacian(d_ref.astype(np.float32), cv2.CV_32F)) > 0.05 * d_ref).astype(np.uint8), None
    )
    visible = inside & (np.abs(seen - z.reshape(h, w)) < 0.02 * seen) & (edges == 0)
    return np.abs(ref.astype(np.float32) - warped.astype(np.float32)).mean(axis=2), visible


@pytest.fixture(scope="module")
def written_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """One clean clip of 3 frames at 128x96, written as H.264 video with scaled poses."""
    out = tmp_path_factory.mktemp("reproj")
    (plan,) = write_sample_data(out, n_clips=1, seed=5, width=128, height=96, frames=(3, 3), progress=False)
    assert plan.defect == "none" and plan.form == "video"
    rows = list(csv.DictReader((out / "sample_truth.csv").open()))
    return out / "clips" / plan.clip_id, float(rows[0]["pose_scale"])


def test_frames_reproject_through_exact_depth_and_scaled_poses(written_clip: tuple[Path, float]) -> None:
    clip_dir, scale = written_clip
    clip = open_clip(clip_dir)
    frames, cams = clip.read_frames([0, 2])
    truth = np.load(clip_dir.parent.parent / "truth" / clip.clip_id / "depth.npz")
    depth = truth["depth"][[0, 2]] * scale  # metres -> pose units
    assert np.linalg.norm(cams[0].center - cams[1].center) > 0.2 * scale  # real parallax
    diff, visible = _warp(frames[0], frames[1], depth[0], depth[1], cams[0], cams[1])
    diff_back, visible_back = _warp(frames[1], frames[0], depth[1], depth[0], cams[1], cams[0])
    assert visible.mean() > 0.3 and visible_back.mean() > 0.3
    err, back = float(diff[visible].mean()), float(diff_back[visible_back].mean())
    assert err < 6.0 and back < 6.0, (err, back)
    # the same check fails when the depth units disagree with the poses (here off by 1.5x)
    wrong, _ = _warp(frames[0], frames[1], depth[0] * 1.5, depth[1] * 1.5, cams[0], cams[1])
    assert float(wrong[visible].mean()) > 2 * err + 3.0, (float(wrong[visible].mean()), err)

"""Camera geometry: projection, resizing and the world-to-camera convention."""

from __future__ import annotations

import numpy as np

from mannequin.clips.cameras import Camera, relative_pose


def rot_y(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def test_project_world_to_camera_convention() -> None:
    K = np.array([[100.0, 0, 50], [0, 100, 40], [0, 0, 1]])
    cam = Camera(K, np.eye(3), [0, 0, 2], 100, 80)  # world origin is 2 units in front
    uv, z = cam.project(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 2.0]]))
    np.testing.assert_allclose(z, [2, 4])
    np.testing.assert_allclose(uv, [[50, 40], [75, 40]])
    np.testing.assert_allclose(cam.center, [0, 0, -2])


def test_resize_keeps_rays() -> None:
    K = np.array([[100.0, 0, 63.5], [0, 100, 47.5], [0, 0, 1]])
    cam = Camera(K, rot_y(10), [0.1, 0, 1], 128, 96)
    small = cam.resized(64, 48)
    X = np.array([[0.3, -0.2, 3.0]])
    uv, _ = cam.project(X)
    uv2, _ = small.project(X)
    # pixel centres: u_small + 0.5 == (u + 0.5) / 2
    np.testing.assert_allclose(uv2 + 0.5, (uv + 0.5) / 2, atol=1e-9)


def test_scaled_moves_centre_not_rotation() -> None:
    cam = Camera(np.eye(3), rot_y(30), [1, 2, 3], 10, 10)
    np.testing.assert_allclose(cam.scaled(2.5).center, cam.center * 2.5)
    np.testing.assert_allclose(cam.scaled(2.5).R, cam.R)


def test_relative_pose_maps_ref_to_src() -> None:
    ref = Camera(np.eye(3), rot_y(5), [0.2, 0, 1], 10, 10)
    src = Camera(np.eye(3), rot_y(-7), [-0.3, 0.1, 1.2], 10, 10)
    R, t = relative_pose(src, ref)
    X = np.array([0.5, -0.4, 2.0])
    np.testing.assert_allclose(R @ (ref.R @ X + ref.t) + t, src.R @ X + src.t)

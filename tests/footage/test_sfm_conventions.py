"""Known answers for the conversions between COLMAP and mannequin, and for the pose-error measure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mannequin.clips.cameras import Camera
from mannequin.clips.poses import read_pose_table
from mannequin.config.sfm import SfmParams
from mannequin.curation.sfm import (
    SfmStats,
    camera_from_colmap,
    camera_matrix,
    colmap_pinhole_params,
)
from mannequin.curation.sfm_accuracy import pose_errors
from mannequin.curation.sfm_poses import EstimatedPoses, pose_table


def _colmap_project(params: list[float], R: np.ndarray, t: np.ndarray, X: np.ndarray) -> np.ndarray:
    """COLMAP's PINHOLE projection: pixel centres at +0.5."""
    fx, fy, cx, cy = params
    Xc = R @ X + t
    return np.array([fx * Xc[0] / Xc[2] + cx, fy * Xc[1] / Xc[2] + cy])


def test_cam_from_world_is_world_to_camera_and_pixel_origin_moves_half_a_pixel():
    R = Rotation.from_euler("xyz", [5, -20, 3], degrees=True).as_matrix()
    t = np.array([0.3, -0.1, 2.0])
    params = [200.0, 210.0, 80.0, 60.0]  # COLMAP fx fy cx cy
    cam = camera_from_colmap(camera_matrix("PINHOLE", params), R, t, 160, 120)
    X = np.array([0.4, 0.2, 1.5])
    uv, z = cam.project(X[None])
    np.testing.assert_allclose(uv[0], _colmap_project(params, R, t, X) - 0.5, atol=1e-9)
    np.testing.assert_allclose(z[0], (R @ X + t)[2])
    np.testing.assert_allclose(cam.center, -R.T @ t)
    assert colmap_pinhole_params(cam.K) == pytest.approx(params)


def test_simple_pinhole_has_one_focal():
    K = camera_matrix("SIMPLE_PINHOLE", [150.0, 80.0, 60.0])
    np.testing.assert_allclose(K, [[150.0, 0, 79.5], [0, 150.0, 59.5], [0, 0, 1]])


def test_estimated_table_is_the_mannequin_challenge_format(tmp_path):
    K = np.array([[120.0, 0, 79.5], [0, 120.0, 59.5], [0, 0, 1]])
    cams = [
        Camera(K, Rotation.from_euler("y", 2 * i, degrees=True).as_matrix(), [0.1 * i, 0, 0], 160, 120)
        for i in range(3)
    ]
    table = pose_table(cams, [0, 40000, 80000])
    np.testing.assert_allclose(table.intrinsics[0], [120 / 160, 120 / 120, 79.5 / 160, 59.5 / 120])
    stats = SfmStats(frames=4, registered=3, models=1, points=50, reprojection_error_px=0.3, focal=0.75, seconds=1.0)
    est = EstimatedPoses(table, np.array([0, 1, 3]), stats, 160, 120)
    (tmp_path / "poses.txt").write_text(est.text("c1"))
    back = read_pose_table(tmp_path / "poses.txt")
    assert "3 of 4 frames registered (1 left out)" in back.note
    np.testing.assert_allclose(back.P, np.stack([c.extrinsic[:3] for c in cams]))
    np.testing.assert_array_equal(back.timestamps_us, [0, 40000, 80000])
    for a, b in zip(back.cameras(160, 120), cams):
        np.testing.assert_allclose(a.K, b.K)


def _path(n: int = 8) -> list[Camera]:
    K = np.array([[100.0, 0, 80], [0, 100.0, 60], [0, 0, 1]])
    out = []
    for i in range(n):
        R = Rotation.from_euler("xy", [i * 1.5, -i * 3.0], degrees=True).as_matrix()
        centre = np.array([0.2 * i, 0.05 * i * i, 0.1 * i])
        out.append(Camera(K, R, -R @ centre, 160, 120))
    return out


def test_pose_errors_undo_a_similarity_exactly():
    true = _path()
    S_R = Rotation.from_euler("zyx", [30, -10, 50], degrees=True).as_matrix()
    s, shift = 0.37, np.array([4.0, -2.0, 1.0])
    # world' = s S_R world + shift: camera R' = R S_R^T, centre' = s S_R c + shift
    moved = []
    for c in true:
        R2 = c.R @ S_R.T
        moved.append(Camera(c.K, R2, -R2 @ (s * S_R @ c.center + shift), 160, 120))
    err = pose_errors(moved, true)
    assert err.ate_ratio < 1e-9
    assert err.max_rotation_deg < 1e-6
    assert err.scale == pytest.approx(1 / s)


def test_pose_errors_see_a_rotation_error():
    true = _path()
    bad = list(true)
    tilt = Rotation.from_euler("z", 2.0, degrees=True).as_matrix()
    bad[4] = Camera(true[4].K, tilt @ true[4].R, tilt @ true[4].t, 160, 120)  # same centre, turned 2 degrees
    err = pose_errors(bad, true)
    assert err.ate_ratio < 1e-9
    assert err.max_rotation_deg == pytest.approx(2.0, abs=1e-6)


def test_defaults_suit_short_hand_held_clips():
    p = SfmParams()
    assert p.init_min_tri_angle <= 2.0 and p.min_model_size <= 3

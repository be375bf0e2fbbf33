"""Known answers of the flicker figure (mannequin.evaluation.flicker): a static sequence, a scale jitter, a jumping
depth edge, and a camera that moves towards a wall."""

from __future__ import annotations

import numpy as np
import pytest

from mannequin.clips.cameras import Camera
from mannequin.evaluation.flicker import clip_flicker, flow_correspondence, pose_correspondence

H, W = 60, 80
K = np.array([[70.0, 0, W / 2], [0, 70.0, H / 2], [0, 0, 1]])


def _camera(z: float = 0.0, x: float = 0.0) -> Camera:
    """A camera at (x, 0, z) looking down +z (world-to-camera t = -centre)."""
    return Camera(K, np.eye(3), np.array([-x, 0.0, -z]), W, H)


def _texture(seed: int = 0) -> np.ndarray:
    import cv2

    small = np.random.default_rng(seed).integers(0, 256, size=(H // 4, W // 4, 3), dtype=np.uint8)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)


def _scene(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` identical textured frames and a slanted depth (2 to 4 across the frame)."""
    depth = np.tile(np.linspace(2.0, 4.0, W, dtype=np.float32), (H, 1))
    return np.stack([_texture()] * n), np.stack([depth] * n)


@pytest.mark.parametrize("by_poses", [True, False])
def test_identical_predictions_of_a_static_sequence_give_zero(by_poses):
    images, depth = _scene(4)
    cams = [_camera()] * 4 if by_poses else None
    out = clip_flicker(depth, images, cameras=cams, reference=depth if by_poses else None)
    assert out["warp"] == ("poses" if by_poses else "flow")
    assert out["pairs"] == 3
    assert out["mean"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("by_poses", [True, False])
def test_a_per_frame_scale_jitter_is_removed_by_the_alignment(by_poses):
    images, depth = _scene(5)
    scales = np.array([1.0, 1.7, 0.6, 2.5, 1.1], np.float32)
    jittered = depth * scales[:, None, None]
    cams = [_camera()] * 5 if by_poses else None
    out = clip_flicker(jittered, images, cameras=cams, reference=depth if by_poses else None)
    assert out["mean"] == pytest.approx(0.0, abs=1e-6)
    # without alignment the same pairs would differ by |log s_t - log s_t+1| everywhere (0.53 on average)
    assert np.mean(np.abs(np.diff(np.log(scales)))) > 0.5


@pytest.mark.parametrize("by_poses", [True, False])
def test_a_depth_edge_that_jumps_between_frames_raises_it_by_the_area_it_sweeps(by_poses):
    images, _ = _scene(2)
    depth = np.full((2, H, W), 4.0, np.float32)
    depth[0, 20:40, 10:30] = 1.0  # a near box ...
    depth[1, 20:40, 20:40] = 1.0  # ... 10 px further right in the next frame, while the images do not change
    cams = [_camera()] * 2 if by_poses else None
    out = clip_flicker(depth, images, cameras=cams, reference=depth if by_poses else None)
    # the background's median is 4 in both frames, so the alignment moves nothing; the edge sweeps 2 x 20 x 10 px
    expected = 2 * 20 * 10 / (H * W) * np.log(4.0)
    assert out["mean"] == pytest.approx(expected, rel=0.05 if not by_poses else 1e-5)
    quiet = clip_flicker(np.stack([depth[0], depth[0]]), images, cameras=cams, reference=depth if by_poses else None)
    assert quiet["mean"] == pytest.approx(0.0, abs=1e-6)


def test_a_camera_moving_towards_a_wall_is_not_flicker_when_the_poses_explain_it():
    wall = 5.0
    cams = [_camera(z=0.0), _camera(z=0.5)]
    depth = np.stack([np.full((H, W), wall, np.float32), np.full((H, W), wall - 0.5, np.float32)])
    images = np.stack([_texture()] * 2)
    out = clip_flicker(depth, images, cameras=cams, reference=depth)
    assert out["warp"] == "poses"
    assert out["mean"] == pytest.approx(0.0, abs=1e-5)
    # the pixel centre stays, the corners move outwards by the ratio of depths
    corr = pose_correspondence(depth[0], cams[0], cams[1])
    assert np.isnan(corr.u[0, 0])  # the corner leaves the frame: not co-visible
    assert corr.dlog[H // 2, W // 2] == pytest.approx(np.log(4.5 / 5.0), abs=1e-6)


def test_masked_pixels_do_not_count():
    images, _ = _scene(2)
    depth = np.full((2, H, W), 4.0, np.float32)
    depth[1, 10:30, 10:30] = 1.0  # something moved in, where the mask says so
    masks = np.zeros((2, H, W), bool)
    masks[:, 8:32, 8:32] = True
    out = clip_flicker(depth, images, masks=masks)
    assert out["mean"] == pytest.approx(0.0, abs=1e-6)


def test_flow_follows_a_shifted_image_and_drops_what_leaves_the_frame():
    image = _texture(3)
    shifted = np.roll(image, 3, axis=1)
    corr = flow_correspondence(image, shifted)
    inner = corr.valid[10:-10, 10:-10]
    assert inner.mean() > 0.9
    du = corr.u[10:-10, 10:-10][inner] - np.mgrid[0:H, 0:W][1][10:-10, 10:-10][inner]
    assert np.median(du) == pytest.approx(3.0, abs=0.2)

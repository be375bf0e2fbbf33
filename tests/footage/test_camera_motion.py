"""The still-camera check before SfM, against known shifts of a real photograph (scikit-image's coffee)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from mannequin.curation.camera_motion import STILL_SHARE, clip_shift, still_camera

H, W = 240, 320


def _photo() -> np.ndarray:
    return cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2GRAY)  # 400x600, real texture


def _window(image: np.ndarray, x: float, y: float = 40.0) -> np.ndarray:
    """The W x H window of ``image`` whose top-left corner is at (x, y): sub-pixel shifts by bilinear warping."""
    shift = np.float32([[1, 0, -x], [0, 1, -y]])
    return cv2.warpAffine(image, shift, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _noisy(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(frame + rng.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)


def test_a_panning_camera_shifts_by_its_speed_times_half_the_clip() -> None:
    photo, rng = _photo(), np.random.default_rng(0)
    frames = [_noisy(_window(photo, 20 + 0.25 * k), rng) for k in range(41)]  # 0.25 px a frame: 5 px in 20
    assert clip_shift(frames) == pytest.approx(5.0, abs=0.15)
    assert still_camera(frames, 2.0) is None  # a slow camera is a moving camera over the clip


def test_a_still_camera_with_a_walker_is_still() -> None:
    """A fixed view with a textured figure (a crop of another photo) crossing a third of the frame."""
    photo, rng = _photo(), np.random.default_rng(1)
    walker = cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2GRAY)[60:200, 120:200]  # 140 x 80 px: 15% of the frame
    frames = []
    for k in range(20):
        frame = _window(photo, 60).copy()
        x = 40 + 6 * k
        frame[60:200, x : x + 80] = walker
        frames.append(_noisy(frame, rng))
    shift = clip_shift(frames)
    assert shift is not None and shift < 0.1
    assert still_camera(frames, 0.5) == shift


def test_the_verdict_is_a_share_of_min_flow_px() -> None:
    photo, rng = _photo(), np.random.default_rng(2)
    frames = [_noisy(_window(photo, 20 + 0.05 * k), rng) for k in range(21)]  # 0.5 px over half the clip
    shift = clip_shift(frames)
    assert shift == pytest.approx(0.5, abs=0.1)
    assert still_camera(frames, 2.0) == shift  # under STILL_SHARE of 2 px
    assert still_camera(frames, shift / STILL_SHARE * 0.9) is None  # just above the share: left to SfM


def test_a_camera_moving_past_tracking_counts_as_moving() -> None:
    """40 px a frame: between frames half the clip apart the corners do not track back: infinite, never still."""
    photo, rng = _photo(), np.random.default_rng(3)
    frames = [_noisy(_window(photo, 10 + 40 * k, 10), rng) for k in range(7)]
    assert clip_shift(frames) == float("inf")
    assert still_camera(frames, 2.0) is None


def test_frames_without_texture_have_no_verdict() -> None:
    frames = [np.full((H, W), 90 + k, np.uint8) for k in range(6)]
    assert clip_shift(frames) is None
    assert still_camera(frames, 2.0) is None

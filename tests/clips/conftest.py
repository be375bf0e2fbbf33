"""Tiny clips built in tmp_path: a few 32x24 frames, random cameras, real H.264 video or PNG frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mannequin.clips.cameras import Camera
from mannequin.clips.poses import write_poses
from mannequin.clips.video import write_video

W, H, FPS = 32, 24, 10


def random_cameras(n: int, seed: int = 0, width: int = W, height: int = H, step_us: int = 100_000) -> list[Camera]:
    """``n`` cameras with random rotations, translations and intrinsics, timestamps every ``step_us``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        f = rng.uniform(0.6, 1.4) * width
        K = np.array([[f, 0, rng.uniform(0.4, 0.6) * width], [0, f * rng.uniform(0.95, 1.05), 0.5 * height], [0, 0, 1]])
        R = Rotation.random(random_state=rng).as_matrix()
        out.append(Camera(K, R, rng.normal(size=3), width, height, i * step_us))
    return out


def ramp_frames(n: int, width: int = W, height: int = H) -> list[np.ndarray]:
    """Frames that are easy to tell apart after lossy coding: a flat grey level per frame plus a gradient."""
    ramp = np.linspace(0, 40, width, dtype=np.float64)[None, :, None]
    return [np.clip(20 + 20 * i + ramp + np.zeros((height, width, 3)), 0, 255).astype(np.uint8) for i in range(n)]


@pytest.fixture
def make_clip(tmp_path: Path) -> Callable[..., Path]:
    """Build ``tmp_path/<name>`` with ``poses.txt`` and ``video.mp4`` or ``frames/``."""

    def build(
        name: str = "clip_a",
        n_frames: int = 6,
        pose_frames: list[int] | None = None,
        source: str = "video",
        seed: int = 0,
    ) -> Path:
        clip = tmp_path / name
        clip.mkdir(parents=True)
        frames = ramp_frames(n_frames)
        pose_frames = list(range(n_frames)) if pose_frames is None else pose_frames
        cams = random_cameras(len(pose_frames), seed)
        cams = [
            Camera(c.K, c.R, c.t, W, H, round(f * 1_000_000 / FPS), c.dist)
            for c, f in zip(cams, pose_frames, strict=True)
        ]
        write_poses(clip / "poses.txt", cams, "test clip")
        if source == "video":
            write_video(clip / "video.mp4", frames, FPS)
        else:
            (clip / "frames").mkdir()
            for i, frame in enumerate(frames):
                cv2.imwrite(str(clip / "frames" / f"{i:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        return clip

    return build


@pytest.fixture
def cameras() -> Callable[..., list[Camera]]:
    """The ``random_cameras`` factory."""
    return random_cameras


@pytest.fixture
def frames() -> Callable[..., list[np.ndarray]]:
    """The ``ramp_frames`` factory."""
    return ramp_frames

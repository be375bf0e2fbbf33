"""Tiny evaluation fixtures: a data dir with two test clips holding known sensor depth, and stand-in predictors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.cameras import Camera
from mannequin.clips.depth_png import write_depth_png
from mannequin.clips.poses import write_poses
from mannequin.clips.video import write_video
from mannequin.sample.dataset import write_sample_data
from tests.helpers.people import PAPER

W, H, FPS = 32, 24, 10


class ConstantPredictor:
    """Predicts the same depth everywhere: a stand-in with DepthPredictor's interface."""

    def __init__(self, value: float, meta: dict) -> None:
        self.value = value
        self.meta = meta
        self.calls = 0

    def predict(self, images: np.ndarray) -> np.ndarray:
        assert images.dtype == np.uint8 and images.ndim == 4 and images.shape[-1] == 3
        self.calls += 1
        return np.full(images.shape[:3], self.value, dtype=np.float32)


def write_clip(data: Path, clip_id: str, n_frames: int) -> None:
    clip = data / "clips" / clip_id
    clip.mkdir(parents=True)
    K = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1.0]])
    cams = [Camera(K, np.eye(3), np.array([0.1 * i, 0, 0]), W, H, i * 100_000) for i in range(n_frames)]
    write_poses(clip / "poses.txt", cams, "evaluation test clip")
    frames = [np.full((H, W, 3), 30 + 25 * i, dtype=np.uint8) for i in range(n_frames)]
    write_video(clip / "video.mp4", frames, FPS)


def depth_map(value: float, holes: int = 0, far_rows: int = 0) -> np.ndarray:
    """``value`` metres everywhere; the first ``holes`` rows have no reading, the last ``far_rows`` are at 20 m."""
    d = np.full((H, W), value, dtype=np.float32)
    d[:holes] = 0.0
    if far_rows:
        d[-far_rows:] = 20.0
    return d


@pytest.fixture
def eval_data(tmp_path: Path) -> Path:
    """``clip_a`` (test; depth 1 m at frame 0, 4 m at frame 2, no reading at frame 4), ``clip_b`` (test; 2 m at
    frame 1), ``clip_c`` (test, no depth) and ``clip_l`` (labeled, with depth that must be ignored)."""
    data = tmp_path / "data"
    for clip_id in ("clip_a", "clip_b", "clip_c", "clip_l"):
        write_clip(data, clip_id, 5)
    (data / "splits.csv").write_text("clip_id,split\nclip_a,test\nclip_b,test\nclip_c,test\nclip_l,labeled\n")
    write_depth_png(data / "depth/clip_a/000000.png", depth_map(1.0, holes=4))
    write_depth_png(data / "depth/clip_a/000002.png", depth_map(4.0, far_rows=2))
    write_depth_png(data / "depth/clip_a/000004.png", depth_map(0.0))
    write_depth_png(data / "depth/clip_b/000001.png", depth_map(2.0))
    write_depth_png(data / "depth/clip_l/000000.png", depth_map(9.0))
    return data


@pytest.fixture
def constant_predictor():
    return ConstantPredictor


@pytest.fixture(scope="session")
def paper_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny paper-like sample of the people tests."""
    out = tmp_path_factory.mktemp("paper") / "data"
    write_sample_data(out, progress=False, **PAPER)
    return out

"""Helpers of the real-footage tests: clean sample clips and their true cameras, and videos with known shot cuts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.sample.plan import make_plan


def clean_plan(index: int = 0):
    """The ``index``-th clean unlabeled clip of the default-size plan (a moving hand-held camera)."""
    plans = [p for p in make_plan(24, seed=0) if p.defect == "none" and p.split == "unlabeled"]
    return plans[index]


def true_cameras(root: Path, clip_id: str) -> list[Camera]:
    with np.load(root / "truth" / clip_id / "depth.npz") as z:
        depth, K, R, t = z["depth"], z["K"], z["R"], z["t"]
    h, w = depth.shape[1:]
    return [Camera(K, Ri, ti, w, h) for Ri, ti in zip(R, t)]


def textured_frame(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random texture (what SIFT and the shot detector both see as content)."""
    import cv2

    small = rng.integers(0, 256, size=(h // 8 + 2, w // 8 + 2, 3), dtype=np.uint8)
    return cv2.resize(small, (w + 64, h + 64), interpolation=cv2.INTER_CUBIC)


def shot_video(path: Path, lengths: list[int], size: tuple[int, int] = (160, 96), fps: int = 25) -> list[int]:
    """Write a video of shots with unrelated textures, each panning slowly; returns the true cut frames."""
    from mannequin.clips.video import write_video

    w, h = size
    rng = np.random.default_rng(7)
    frames = []
    for n in lengths:
        texture = textured_frame(rng, h, w)
        frames.extend(texture[8 : 8 + h, 2 * k % 60 : 2 * k % 60 + w] for k in range(n))
    write_video(path, frames, fps)
    return list(np.cumsum(lengths)[:-1])

"""Tiny synthetic curated shards and labelled clips for the learning tests, and their params."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.clips.depth_png import write_depth_png
from mannequin.clips.poses import write_poses
from mannequin.curation.parallax import ParallaxInput, normalise_depth
from mannequin.curation.shards import write_shard
from mannequin.stages.params import load_params

W, H = 64, 48


def synthetic_frame(rng: np.random.Generator, w: int = W, h: int = H) -> tuple[np.ndarray, np.ndarray]:
    """A room-like frame: a receding floor and a box; darker and finer texture where farther. Depth in metres."""
    v = np.linspace(0, 1, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    depth = 1.0 + 4.0 * (1.0 - v) ** 2
    x0, y0 = rng.integers(0, w // 2), rng.integers(0, h // 2)
    depth[y0 : y0 + h // 3, x0 : x0 + w // 3] = rng.uniform(1.0, 2.0)
    texture = rng.uniform(0.6, 1.0, (h, w)).astype(np.float32)
    shade = np.clip(1.3 / depth, 0.1, 1.0) * texture
    tint = rng.uniform(0.7, 1.0, 3).astype(np.float32)
    image = np.clip(shade[..., None] * tint * 255, 0, 255).astype(np.uint8)
    return image, depth.astype(np.float32)


def _camera(w: int, h: int, k: int = 0) -> Camera:
    K = np.array([[w, 0, w / 2 - 0.5], [0, w, h / 2 - 0.5], [0, 0, 1]])
    return Camera(K, np.eye(3), np.array([0.01 * k, 0.0, 0.0]), w, h, timestamp_us=k * 100_000)


def make_curated(
    root: Path, clip_ids: list[str], frames: int = 6, seed: int = 0, w: int = W, h: int = H, parallax: bool = False
) -> Path:
    """Shards with MVS-like depth (an arbitrary per-clip scale, NaN holes) and confidence; with ``parallax``, a
    parallax input too (the depth itself, normalised, unmasked), as curation stores for the rgb+parallax model."""
    rng = np.random.default_rng(seed)
    for c in clip_ids:
        images, depths = zip(*(synthetic_frame(rng, w, h) for _ in range(frames)), strict=True)
        depth = np.stack(depths) * rng.uniform(0.2, 5.0)  # pose units: scale differs per clip
        conf = rng.uniform(0.3, 1.0, depth.shape).astype(np.float32)
        hole = rng.uniform(size=depth.shape) < 0.1
        depth[hole] = np.nan
        conf[hole] = 0.0
        cams = [_camera(w, h, k) for k in range(frames)]
        par = _parallax_input(depth.astype(np.float32), conf) if parallax else None
        write_shard(root, c, np.stack(images), depth.astype(np.float32), conf, cams, list(range(frames)), parallax=par)
    return root


def _parallax_input(depth: np.ndarray, conf: np.ndarray) -> ParallaxInput:
    """The parallax input of a shard's depth: normalised per frame, nothing masked."""
    par, shift = zip(*(normalise_depth(d) for d in depth), strict=True)
    n = len(depth)
    return ParallaxInput(np.stack(par), conf, np.zeros(depth.shape, bool), np.array(shift), depth,
                         np.zeros(n, np.int64), np.arange(n), "none")  # fmt: skip


def make_clip(data: Path, clip_id: str, frames: int, rng: np.random.Generator, depth: bool = True) -> None:
    """A ``frames/`` clip with poses.txt and (optionally) sensor-depth PNGs for every frame."""
    folder = data / "clips" / clip_id / "frames"
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(frames):
        image, d = synthetic_frame(rng)
        cv2.imwrite(str(folder / f"{k:04d}.png"), image[..., ::-1])
        if depth:
            write_depth_png(data / "depth" / clip_id / f"{k:06d}.png", d)
    write_poses(data / "clips" / clip_id / "poses.txt", [_camera(W, H, k) for k in range(frames)], "synthetic")


def write_splits(data: Path, splits: dict[str, str]) -> None:
    data.mkdir(parents=True, exist_ok=True)
    (data / "splits.csv").write_text("clip_id,split\n" + "".join(f"{c},{s}\n" for c, s in splits.items()))


def poison_clip(data: Path, curated: Path, clip_id: str) -> None:
    """Make every file of a clip unreadable garbage, so that any attempt to load it fails loudly."""
    targets = [*(curated / "shards" / clip_id).glob("*.npy"), *(data / "clips" / clip_id / "frames").glob("*.png")]
    targets += [*(data / "depth" / clip_id).glob("*.png"), data / "clips" / clip_id / "poses.txt"]
    for f in targets:
        f.write_bytes(b"poisoned: a test clip must never be read by training")


SPLITS = {"u0": "unlabeled", "u1": "unlabeled", "u2": "unlabeled", "l0": "labeled", "l1": "labeled", "t0": "test"}


def tiny_params(tmp: Path, **overrides: object):
    """The real config, overridden for speed (tiny net, few steps, CPU, 64x48)."""
    base = {
        "pretrain.net.width": 4,
        "pretrain.net.depth": 3,
        "pretrain.batch_size": 4,
        "pretrain.num_workers": 0,
        "pretrain.image_size": [W, H],
        "pretrain.trainer.accelerator": "cpu",
        "pretrain.trainer.max_steps": 6,
        "pretrain.trainer.val_every_n_epochs": 1,
        "pretrain.trainer.log_every_n_steps": 2,
        "pretrain.trainer.image_every_n_steps": 3,
        "pretrain.runs": str(tmp / "runs"),
        "pretrain.out": str(tmp / "models" / "pretrain"),
        "finetune.batch_size": 4,
        "finetune.image_size": [W, H],
        "finetune.val_frames": 2,
        "finetune.trainer.accelerator": "cpu",
        "finetune.trainer.max_steps": 4,
        "finetune.trainer.log_every_n_steps": 2,
        "finetune.runs": str(tmp / "runs"),
        "finetune.out": str(tmp / "models" / "finetune"),
        "finetune.pretrained": str(tmp / "models" / "pretrain"),
    }
    base.update(overrides)
    return load_params(None, base)

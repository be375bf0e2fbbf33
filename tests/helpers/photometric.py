"""Rendered clips for the photometric tests: the sample renderer's frames, exact depth, true cameras and masks, as
batches for the loss and as curated shards for the data path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mannequin.clips.cameras import Camera
from mannequin.curation.parallax import ParallaxInput, normalise_depth
from mannequin.curation.shards import ClipShard, write_shard
from mannequin.sample.dataset import (
    RenderedClip,
    build_clip_scene,
    clip_times,
    intrinsics,
    movable_objects,
    render_clip,
)
from mannequin.sample.plan import ClipPlan
from mannequin.sample.render import render_layers, to_uint8

SIZE = (96, 72)


def rendered(trajectory: str = "sweep", walking: bool = False, seed: int = 3, frames: int = 6) -> RenderedClip:
    """A sample-renderer clip at 96x72 (a room with figures); ``static`` is a still camera."""
    defect = "static_camera" if trajectory == "static" else "none"
    plan = ClipPlan("clip", "unlabeled", defect, "frames", trajectory, seed, frames, 10, *SIZE, 65.0, 1.0, walking,
                    True)  # fmt: skip
    return render_clip(plan)


def rendered_translation(seed: int = 3, frames: int = 6) -> RenderedClip:
    """A ``sweep`` clip whose camera slides sideways without turning (no pan, no angular jitter)."""
    plan = ClipPlan("clip", "unlabeled", "none", "frames", "sweep", seed, frames, 10, *SIZE, 65.0, 1.0, False, True)
    scene, trajectory, _ = build_clip_scene(plan)
    trajectory = replace(trajectory, pan=0.0, jitter_ang=())
    movable = movable_objects(scene)
    K = intrinsics(plan)
    images, depths, masks, cameras = [], [], [], []
    for s in clip_times(plan):
        centre, R = trajectory.pose(float(s))
        camera = Camera(K, R, -R @ centre, *SIZE)
        colour, depth, objects = render_layers(scene, camera, float(s))
        images.append(to_uint8(colour))
        depths.append(depth)
        masks.append(np.isin(objects, movable))
        cameras.append(camera)
    return RenderedClip(plan, np.stack(images), np.stack(depths).astype(np.float32), cameras, cameras, np.stack(masks))


def image(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame).permute(2, 0, 1).float() / 255.0


def relative_pose(source: Camera, target: Camera) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = source.R @ target.R.T
    pose[:3, 3] = source.t - pose[:3, :3] @ target.t
    return pose


def view_batch(clip: RenderedClip, target: int, sources: list[int]) -> dict[str, torch.Tensor]:
    """A batch of one target frame and its sources, with the true depth as ``depth`` and the clip's mask."""
    cams = clip.cameras
    f32 = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)[None]  # noqa: E731
    return {
        "image": image(clip.frames[target])[None],
        "target": image(clip.frames[target])[None],
        "sources": torch.stack([image(clip.frames[s]) for s in sources])[None],
        "K": f32(cams[target].K),
        "source_K": f32(np.stack([cams[s].K for s in sources])),
        "source_pose": f32(np.stack([relative_pose(cams[s], cams[target]) for s in sources])),
        "depth": torch.from_numpy(clip.depth[target])[None, None],
        "confidence": torch.ones(1, 1, *clip.depth.shape[1:]),
        "mask": torch.from_numpy(clip.masks[target].astype(np.float32))[None, None],
    }


def write_rendered_shard(root: Path, clip_id: str, clip: RenderedClip, scale: float = 1.0) -> ClipShard:
    """A curated shard of ``clip`` whose pose units are ``scale`` x metres (cameras and depth alike), with its masks
    stored in the parallax input as curation stores them."""
    depth = clip.depth * scale
    cams = [c.scaled(scale) for c in clip.cameras]
    par, shift = zip(*(normalise_depth(d) for d in depth), strict=True)
    n = len(depth)
    conf = np.ones(depth.shape, np.float32)
    parallax = ParallaxInput(np.stack(par), conf, clip.masks.astype(bool), np.array(shift), depth.astype(np.float32),
                             np.zeros(n, np.int64), np.arange(n), "given")  # fmt: skip
    return write_shard(root, clip_id, clip.frames, depth.astype(np.float32), conf, cams, list(range(n)),
                       parallax=parallax)  # fmt: skip

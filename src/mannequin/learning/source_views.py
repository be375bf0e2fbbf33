"""Source frames for the photometric objective: which frames of a curated clip warp into each frame, and the
tensors an item carries for it (the sources, every frame's intrinsics at the training size, the relative poses,
the clip's mask).

Sources are chosen as the MVS chooses its own (:func:`mannequin.curation.mvs_sources.select_sources`): frames whose
triangulation angle at the scene (the frame's median curated depth along its central ray) lies within the bounds,
spread over directions. Angles do not depend on the pose units. A frame with fewer usable sources than asked is not
a training target (it can still be another frame's source); a clip with none, or a single frame, is skipped with its
reason, and a training set left without targets is an error naming one such clip.

Item keys (:func:`views_item`): ``target`` (3, H, W), the frame again, which augmentation flips but never recolours
(the loss compares true colours; the net reads the recoloured ``image``); ``sources`` (S, 3, H, W); ``K`` (3, 3) and
``source_K`` (S, 3, 3) pixel intrinsics at (H, W); ``source_pose`` (S, 4, 4) target-camera to source-camera in pose
units; ``mask`` (1, H, W), 1 where the clip's masks (given or from motion, stored with the shard's parallax input)
say something may move, 0 elsewhere and for shards without one. Augmentation that moves pixels must move these
too (:mod:`mannequin.learning.augment`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from mannequin.clips.cameras import Camera
from mannequin.config.curate import MvsParams
from mannequin.curation.mvs_geometry import Rig
from mannequin.curation.mvs_sources import select_sources
from mannequin.curation.parallax import CHANNELS
from mannequin.curation.shards import ClipShard
from mannequin.errors import InputError

CAMERAS_NAME = "cameras.npz"
#: the keys a photometric item adds
VIEW_KEYS = ("target", "sources", "K", "source_K", "source_pose", "mask")


@dataclass(frozen=True)
class SourceViews:
    """How many source frames each target frame needs, and the triangulation angles that make one usable."""

    count: int
    min_angle_deg: float
    max_angle_deg: float

    def describe(self) -> str:
        return f"{self.count} usable source frame{'s' * (self.count > 1)} (triangulation angle " \
               f"{self.min_angle_deg:g}-{self.max_angle_deg:g} degrees)"  # fmt: skip


def shard_cameras(shard: ClipShard) -> list[Camera]:
    """The shard's cameras, one per frame; a shard without them is an InputError naming its cameras file."""
    path = shard.path / CAMERAS_NAME
    if not path.is_file():
        raise InputError(path, "no cameras: the photometric objective warps frames with each frame's intrinsics and "
                         "pose (a shard written without them: curate again)", "no_cameras")  # fmt: skip
    try:
        cameras = shard.cameras
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(path, f"unreadable cameras ({type(exc).__name__})", "no_cameras") from None
    if len(cameras) != len(shard):
        raise InputError(path, f"{len(cameras)} cameras for {len(shard)} frames", "no_cameras")
    return cameras


def scene_point(camera: Camera, depth: float) -> np.ndarray:
    """The world point at ``depth`` (along the optical axis) on the ray through the image centre of ``camera``."""
    centre = np.array([(camera.width - 1) / 2, (camera.height - 1) / 2, 1.0])
    ray = np.linalg.solve(camera.K, centre)
    return camera.R.T @ (ray / ray[2] * depth - camera.t)


def frame_sources(shard: ClipShard, views: SourceViews) -> list[tuple[int, ...]]:
    """For each frame of ``shard``, up to ``views.count`` source frames (MVS's choice); none for a frame without
    curated depth (its scene depth is unknown)."""
    cameras = shard_cameras(shard)
    rig = Rig(np.stack([c.K for c in cameras]), np.stack([c.R for c in cameras]), np.stack([c.t for c in cameras]),
              cameras[0].width, cameras[0].height)  # fmt: skip
    choose = MvsParams(num_sources=views.count, best_k=1, min_angle_deg=views.min_angle_deg,
                       max_angle_deg=views.max_angle_deg)  # fmt: skip
    out: list[tuple[int, ...]] = []
    for f, camera in enumerate(cameras):
        depth = np.asarray(shard.depth[f])
        known = depth[np.isfinite(depth) & (depth > 0)]
        if len(cameras) < 2 or known.size == 0:
            out.append(())
            continue
        out.append(select_sources(rig, f, scene_point(camera, float(np.median(known))), choose))
    return out


def usable_targets(shard: ClipShard, views: SourceViews) -> tuple[dict[int, tuple[int, ...]], str]:
    """The frames of ``shard`` with ``views.count`` sources (frame -> sources), and why there are none ("" if any)."""
    if len(shard) < 2:
        return {}, "a single frame: the photometric objective warps other frames of the same clip into each frame"
    sources = frame_sources(shard, views)
    targets = {f: s for f, s in enumerate(sources) if len(s) >= views.count}
    if targets:
        return targets, ""
    most = max((len(s) for s in sources), default=0)
    return {}, (
        f"no frame has {views.describe()}: at most {most} found; lower pretrain.objective.photometric.sources or "
        "widen its angles"
    )


def views_item(
    shard: ClipShard, frame: int, sources: tuple[int, ...], size: tuple[int, int], image: Callable[[int], torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The photometric keys of ``frame`` (module docstring) at ``size`` = (W, H); ``image(f)`` is frame ``f`` of the
    shard as the dataset reads it, (3, H, W) in [0, 1]."""
    w, h = size
    cams = [c.resized(w, h) for c in shard_cameras(shard)]
    target = cams[frame]
    poses = []
    for s in sources:
        pose = np.eye(4)
        pose[:3, :3] = cams[s].R @ target.R.T
        pose[:3, 3] = cams[s].t - pose[:3, :3] @ target.t
        poses.append(pose)
    mask = np.zeros((h, w), np.float32)
    if shard.has_parallax:
        mask = np.ascontiguousarray(shard.parallax[frame][..., CHANNELS.index("mask")], dtype=np.float32)
        if mask.shape != (h, w):
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return {
        "target": image(frame),
        "sources": torch.stack([image(s) for s in sources]),
        "K": torch.from_numpy(target.K.astype(np.float32)),
        "source_K": torch.from_numpy(np.stack([cams[s].K for s in sources]).astype(np.float32)),
        "source_pose": torch.from_numpy(np.stack(poses).astype(np.float32)),
        "mask": torch.from_numpy((mask > 0.5).astype(np.float32))[None],
    }

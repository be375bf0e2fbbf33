"""Vectorised ray casting of a ``Scene``: colour and exact z-depth from the same geometry.

Shading is Lambertian under a fixed directional plus ambient light, so a surface point has the same colour
from every view (up to texture filtering). Depth is the distance along the optical axis, in metres. All the
arithmetic is element-wise (:mod:`~mannequin.sample.portable_math`), so a frame has the same bits on every CPU.
"""

from __future__ import annotations

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.sample import portable_math as pm
from mannequin.sample.scene import Scene
from mannequin.sample.textures import sample_texture, texture_bank


def pixel_rays(camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray origin (3,), unit world directions (H*W, 3) and their z in the camera frame (H*W,).

    ``camera.K`` must be a pinhole matrix without skew (the renderer's own cameras are)."""
    K = camera.K
    if K[0, 1] != 0 or K[1, 0] != 0 or K[2, 0] != 0 or K[2, 1] != 0 or K[2, 2] != 1:
        raise ValueError("the renderer takes pinhole cameras without skew")
    u, v = np.meshgrid(np.arange(camera.width, dtype=np.float64), np.arange(camera.height, dtype=np.float64))
    x, y = (u.ravel() - K[0, 2]) / K[0, 0], (v.ravel() - K[1, 2]) / K[1, 1]
    rays_cam = np.stack([x, y, np.ones(u.size)], axis=1)
    rays_cam /= pm.norm3(rays_cam)[:, None]
    origin = -pm.matmul3(camera.t, camera.R)  # -R^T t, the camera centre
    return origin, pm.matmul3(rays_cam, camera.R), rays_cam[:, 2]


def render(scene: Scene, camera: Camera, s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Render ``scene`` at clip time ``s`` seen by ``camera`` (translation in metres).

    Returns linear colour (H, W, 3) float32 in [0, 1] and depth (H, W) float32 in metres (inf where nothing is hit).
    """
    colour, depth, _ = render_layers(scene, camera, s)
    return colour, depth


def render_layers(scene: Scene, camera: Camera, s: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`render` plus the object buffer: the index in ``scene.objects`` seen at each pixel (H, W) int64,
    -1 where nothing is hit. Colour and depth are exactly those of :func:`render`."""
    origin, dirs, dir_z = pixel_rays(camera)
    owner = np.array([k for k, obj in enumerate(scene.objects) for _ in obj.parts], dtype=np.int64)
    prims = scene.primitives(s)
    t = np.full(len(dirs), np.inf)
    winner = np.zeros(len(dirs), dtype=np.int64)
    for index, prim in enumerate(prims):  # keep the nearest hit so far
        hit = prim.intersect(origin, dirs)
        closer = hit < t
        t[closer] = hit[closer]
        winner[closer] = index
    colour = np.zeros((len(dirs), 3), np.float32)
    light = np.asarray(scene.light.direction, dtype=np.float64)
    light = light / pm.norm3(light)
    focal = float(np.sqrt(camera.K[0, 0] * camera.K[1, 1]))
    bank = texture_bank()
    for index in np.unique(winner[np.isfinite(t)]):
        sel = np.flatnonzero((winner == index) & np.isfinite(t))
        prim = prims[index]
        points = origin + t[sel, None] * dirs[sel]
        normals, uv = prim.surface(points)
        cos_view = np.abs(pm.dot3(normals, dirs[sel]))
        footprint = t[sel] / (focal * np.sqrt(np.maximum(cos_view, 0.05)))
        mat = prim.material
        albedo = sample_texture(bank[mat.texture], uv + np.asarray(mat.offset), mat.texel_m, footprint)
        shade = scene.light.ambient + scene.light.diffuse * np.maximum(pm.dot3(normals, light), 0.0)
        colour[sel] = albedo * np.asarray(mat.tint, np.float32) * shade[:, None].astype(np.float32)
    depth = (t * dir_z).astype(np.float32)
    shape = (camera.height, camera.width)
    objects = np.where(np.isfinite(t), owner[winner] if len(owner) else -1, -1).reshape(shape)
    return np.clip(colour, 0.0, 1.0).reshape(*shape, 3), depth.reshape(shape), objects


def to_uint8(colour: np.ndarray) -> np.ndarray:
    """Float colour in [0, 1] to uint8 RGB."""
    return np.clip(np.round(colour * 255.0), 0, 255).astype(np.uint8)

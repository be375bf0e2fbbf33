"""Vectorised ray casting of a ``Scene``: colour and exact z-depth from the same geometry.

Shading is Lambertian under a fixed directional plus ambient light, so a surface point has the same colour
from every view (up to texture filtering). Depth is the distance along the optical axis, in metres.
"""

from __future__ import annotations

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.sample.scene import Scene
from mannequin.sample.textures import sample_texture, texture_bank


def pixel_rays(camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ray origin (3,), unit world directions (H*W, 3) and their z in the camera frame (H*W,)."""
    u, v = np.meshgrid(np.arange(camera.width, dtype=np.float64), np.arange(camera.height, dtype=np.float64))
    pix = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], axis=1)
    rays_cam = pix @ np.linalg.inv(camera.K).T
    rays_cam /= np.linalg.norm(rays_cam, axis=1, keepdims=True)
    return camera.center, rays_cam @ camera.R, rays_cam[:, 2]


def render(scene: Scene, camera: Camera, s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Render ``scene`` at clip time ``s`` seen by ``camera`` (translation in metres).

    Returns linear colour (H, W, 3) float32 in [0, 1] and depth (H, W) float32 in metres (inf where nothing is hit).
    """
    origin, dirs, dir_z = pixel_rays(camera)
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
    light /= np.linalg.norm(light)
    focal = float(np.sqrt(camera.K[0, 0] * camera.K[1, 1]))
    bank = texture_bank()
    for index in np.unique(winner[np.isfinite(t)]):
        sel = np.flatnonzero((winner == index) & np.isfinite(t))
        prim = prims[index]
        points = origin + t[sel, None] * dirs[sel]
        normals, uv = prim.surface(points)
        cos_view = np.abs(np.einsum("ij,ij->i", normals, dirs[sel]))
        footprint = t[sel] / (focal * np.sqrt(np.maximum(cos_view, 0.05)))
        mat = prim.material
        albedo = sample_texture(bank[mat.texture], uv + np.asarray(mat.offset), mat.texel_m, footprint)
        shade = scene.light.ambient + scene.light.diffuse * np.maximum(normals @ light, 0.0)
        colour[sel] = albedo * np.asarray(mat.tint, np.float32) * shade[:, None].astype(np.float32)
    depth = (t * dir_z).astype(np.float32)
    shape = (camera.height, camera.width)
    return np.clip(colour, 0.0, 1.0).reshape(*shape, 3), depth.reshape(shape)


def to_uint8(colour: np.ndarray) -> np.ndarray:
    """Float colour in [0, 1] to uint8 RGB."""
    return np.clip(np.round(colour * 255.0), 0, 255).astype(np.uint8)

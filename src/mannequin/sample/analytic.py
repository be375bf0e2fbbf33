"""A tiny analytic scene with exact depth: the known answer that MVS is checked against (tests, benchmarks).

A textured room (back wall, floor, side walls) with a box in it, ray-cast in numpy from cameras moving
on a path that looks at the box. Everything is scaled by ``scale``, so depth is known exactly in any units.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mannequin.clips.cameras import Camera


@dataclass(frozen=True)
class SceneClip:
    """Rendered frames (N,H,W,3) uint8, exact z-depth (N,H,W) float32 and the cameras."""

    images: np.ndarray
    depth: np.ndarray
    cameras: list[Camera]


def _noise_texture(rng: np.random.Generator, size: int = 1024) -> np.ndarray:
    """Multi-octave value noise with detail down to a few texels, (size, size) float32 in [0,1]."""
    out = np.zeros((size, size), np.float32)
    for octave in range(7):
        cells = 4 * 2**octave
        grid = rng.random((cells, cells)).astype(np.float32)
        out += cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC) / 1.25**octave
    out -= out.min()
    return out / out.max()


def _bilinear_wrap(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear lookup of a periodic texture at texel coordinates (u = column, v = row)."""
    size = tex.shape[0]
    u0, v0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fu, fv = (u - u0).astype(np.float32), (v - v0).astype(np.float32)
    u0, v0, u1, v1 = u0 % size, v0 % size, (u0 + 1) % size, (v0 + 1) % size
    top = tex[v0, u0] * (1 - fu) + tex[v0, u1] * fu
    bottom = tex[v1, u0] * (1 - fu) + tex[v1, u1] * fu
    return top * (1 - fv) + bottom * fv


def look_at(center: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera R, t of a camera at ``center`` looking at ``target`` (world y is down)."""
    forward = (target - center) / np.linalg.norm(target - center)
    right = np.cross(np.array([0.0, 1.0, 0.0]), forward)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])
    return R, -R @ center


def _planes(scale: float) -> list[tuple[np.ndarray, float, int, int, int]]:
    """(normal, offset, texture index, in-plane axis u, axis v): n . X = offset, all scaled."""
    return [
        (np.array([0.0, 0.0, 1.0]), 6.0 * scale, 0, 0, 1),  # back wall z = 6
        (np.array([0.0, 1.0, 0.0]), 1.5 * scale, 1, 0, 2),  # floor y = 1.5
        (np.array([1.0, 0.0, 0.0]), -3.0 * scale, 2, 2, 1),  # left wall x = -3
        (np.array([1.0, 0.0, 0.0]), 3.0 * scale, 3, 2, 1),  # right wall x = 3
        (np.array([0.0, 1.0, 0.0]), -2.5 * scale, 1, 0, 2),  # ceiling y = -2.5
    ]


def _raycast(origin: np.ndarray, dirs: np.ndarray, scale: float, textures: list[np.ndarray], tex_scale: float):
    """Distance along each ray (M,) to the nearest surface and its intensity (M,)."""
    M = len(dirs)
    best_t = np.full(M, np.inf)
    value = np.zeros(M, np.float32)

    def shade(t: np.ndarray, hit_mask: np.ndarray, tex: np.ndarray, a: int, b: int) -> None:
        X = origin + dirs[hit_mask] * t[hit_mask, None]
        size = tex.shape[0]
        u = (X[:, a] / (scale * tex_scale)) * size % size
        v = (X[:, b] / (scale * tex_scale)) * size % size
        value[hit_mask] = _bilinear_wrap(tex, u, v)
        best_t[hit_mask] = t[hit_mask]

    for normal, offset, tex_i, a, b in _planes(scale):
        denom = dirs @ normal
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (offset - origin @ normal) / denom
        hit = np.isfinite(t) & (t > 0) & (t < best_t)
        shade(t, hit, textures[tex_i], a, b)
    # an axis-aligned box: x in [-1, 0.6], y in [0.2, 1.5], z in [3.2, 4.2]
    lo = np.array([-1.0, 0.2, 3.2]) * scale
    hi = np.array([0.6, 1.5, 4.2]) * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = (lo - origin) / dirs
        t1 = (hi - origin) / dirs
    t_near = np.nanmax(np.minimum(t0, t1), axis=1)
    t_far = np.nanmin(np.maximum(t0, t1), axis=1)
    hit = (t_near <= t_far) & (t_near > 0) & (t_near < best_t)
    axis = np.argmax(np.minimum(t0, t1), axis=1)
    for ax in range(3):
        m = hit & (axis == ax)
        a, b = [k for k in range(3) if k != ax]
        shade(t_near, m, textures[4], a, b)
    return best_t, value


def render_clip(
    frames: int = 6,
    width: int = 96,
    height: int = 72,
    scale: float = 1.0,
    fov_deg: float = 60.0,
    path: str = "lateral",
    seed: int = 0,
    supersample: int = 2,
) -> SceneClip:
    """Render ``frames`` views of the room; ``path`` is ``lateral``, ``arc`` or ``forward``."""
    rng = np.random.default_rng(seed)
    textures = [_noise_texture(rng) for _ in range(5)]
    shades = rng.uniform(0.6, 1.0, size=(5, 3))
    f = (width / 2) / np.tan(np.radians(fov_deg) / 2)
    K = np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]])
    target = np.array([-0.2, 0.6, 3.7]) * scale
    images, depths, cameras = [], [], []
    for k in range(frames):
        s = k / max(frames - 1, 1) - 0.5
        if path == "lateral":
            center = np.array([1.2 * s, -0.1, 0.0])
        elif path == "arc":
            angle = np.radians(25 * s)
            center = np.array([-0.2 + 3.2 * np.sin(angle), -0.3 + 0.2 * s, 3.7 - 3.2 * np.cos(angle)])
        elif path == "forward":
            center = np.array([0.5 * s, 0.1 * s, 0.8 * s])
        else:
            raise ValueError(f"unknown path {path!r}")
        center = center * scale
        R, t = look_at(center, target)
        n = supersample
        sub = (np.arange(n) + 0.5) / n - 0.5
        vv, uu = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
        us = np.broadcast_to(uu[:, :, None, None] + sub[None, None, None, :], (height, width, n, n)).reshape(-1)
        vs = np.broadcast_to(vv[:, :, None, None] + sub[None, None, :, None], (height, width, n, n)).reshape(-1)
        rays = np.linalg.solve(K, np.stack([us, vs, np.ones_like(us)]))  # z = 1 in the camera
        dirs = (R.T @ rays).T
        _, value = _raycast(center, dirs, scale, textures, tex_scale=8.0)
        value = value.reshape(height, width, n * n).mean(axis=2)
        # exact depth at the pixel centres
        rays_c = np.linalg.solve(K, np.stack([uu.reshape(-1), vv.reshape(-1), np.ones(uu.size)]))
        dist_c, _ = _raycast(center, (R.T @ rays_c).T, scale, textures, tex_scale=8.0)
        depth = dist_c.reshape(height, width)  # rays have z = 1 in the camera, so distance along them is depth
        gain = rng.uniform(0.85, 1.15)
        rgb = np.clip(value[..., None] * shades[0][None, None] * gain * 255, 0, 255).astype(np.uint8)
        images.append(rgb)
        depths.append(depth.astype(np.float32))
        cameras.append(Camera(K, R, t, width, height, timestamp_us=k * 33_333))
    return SceneClip(np.stack(images), np.stack(depths), cameras)

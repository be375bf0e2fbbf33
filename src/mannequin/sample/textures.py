"""Surface textures for the sample renderer: scikit-image's real photographs and procedural patterns.

Every texture is a seamless (mirror-tiled) RGB image with a box-filtered mip pyramid, sampled with trilinear
filtering at a footprint given in metres, so that distant surfaces do not alias.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

TILE = 256  # texels per photo before mirroring; the seamless period is 2 * TILE
REMAP_ROW = 8192  # texture lookups per cv2.remap row (its maps must stay under 32767 on a side)
PHOTOS = (
    "brick",
    "grass",
    "gravel",
    "coffee",
    "chelsea",
    "astronaut",
    "rocket",
    "camera",
    "coins",
    "moon",
    "immunohistochemistry",
    "hubble_deep_field",
    "page",
    "text",
)
PROCEDURAL = ("noise", "checker", "stripes", "blobs", "wood")


@dataclass(frozen=True)
class Texture:
    """A seamless RGB texture: ``levels[0]`` is (P, P, 3) uint8, each next level half the size."""

    name: str
    levels: tuple[np.ndarray, ...]

    @property
    def period(self) -> int:
        return self.levels[0].shape[0]


def _photo(name: str) -> np.ndarray:
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)())
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = img[:, :, :3].astype(np.uint8)
    side = min(img.shape[:2])
    y0, x0 = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    return cv2.resize(img[y0 : y0 + side, x0 : x0 + side], (TILE, TILE), interpolation=cv2.INTER_AREA)


def _value_noise(rng: np.random.Generator, octaves: int = 5) -> np.ndarray:
    """Multi-octave periodic value noise in [0, 1], shape (TILE, TILE)."""
    out = np.zeros((TILE, TILE), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 4 * 2**o
        grid = rng.random((cells, cells)).astype(np.float32)
        tiled = np.tile(grid, (3, 3))  # periodic upsampling without seams
        big = cv2.resize(tiled, (3 * TILE, 3 * TILE), interpolation=cv2.INTER_CUBIC)[TILE : 2 * TILE, TILE : 2 * TILE]
        out += amp * big
        total += amp
        amp *= 0.55
    out /= total
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def _procedural(name: str, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:TILE, 0:TILE].astype(np.float32) / TILE
    noise = _value_noise(rng)
    c1 = rng.uniform(0.45, 1.0, 3)
    c2 = np.clip(c1 * rng.uniform(0.2, 0.5) + rng.uniform(-0.1, 0.1, 3), 0.02, 1.0)  # darker: visible contrast
    if name == "noise":
        mix = noise
    elif name == "checker":
        mix = ((np.floor(x * 8) + np.floor(y * 8)) % 2) * 0.8 + 0.2 * noise
    elif name == "stripes":
        mix = 0.5 + 0.5 * np.sin(2 * np.pi * (6 * x + 2 * y + 0.8 * noise))
    elif name == "blobs":
        mix = (noise > 0.5).astype(np.float32) * 0.7 + 0.3 * _value_noise(rng, 3)
    elif name == "wood":
        mix = 0.5 + 0.5 * np.sin(2 * np.pi * (10 * y + 3 * noise))
    else:
        raise ValueError(f"unknown procedural texture {name!r}")
    rgb = c1[None, None, :] * mix[:, :, None] + c2[None, None, :] * (1 - mix[:, :, None])
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def _mirror_tile(img: np.ndarray) -> np.ndarray:
    top = np.concatenate([img, img[:, ::-1]], axis=1)
    return np.ascontiguousarray(np.concatenate([top, top[::-1]], axis=0))


def _pyramid(img: np.ndarray, min_size: int = 4) -> tuple[np.ndarray, ...]:
    levels = [img]
    while levels[-1].shape[0] > min_size:
        s = levels[-1].shape[0] // 2
        levels.append(cv2.resize(levels[-1], (s, s), interpolation=cv2.INTER_AREA))
    return tuple(levels)


def _with_contrast(img: np.ndarray, target_std: float = 45.0, max_gain: float = 3.0) -> np.ndarray:
    """Stretch a low-contrast image about its mean so that surfaces carry texture a matcher can use."""
    f = img.astype(np.float32)
    mean, std = f.mean(axis=(0, 1), keepdims=True), float(f.std())
    gain = min(max_gain, target_std / max(std, 1e-3))
    if gain <= 1.0:
        return img
    return np.clip(np.round(mean + (f - mean) * gain), 0, 255).astype(np.uint8)


@functools.cache
def texture_bank() -> tuple[Texture, ...]:
    """All textures, photos first; fixed content (independent of any dataset seed)."""
    rng = np.random.default_rng(20240611)
    images = [(n, _photo(n)) for n in PHOTOS] + [(n, _procedural(n, rng)) for n in PROCEDURAL]
    return tuple(Texture(n, _pyramid(_mirror_tile(_with_contrast(img)))) for n, img in images)


def _bilinear(level: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Wrap-around bilinear lookup at continuous texel coordinates (texel i centred at i + 0.5); (N, 3) float32.

    cv2.remap takes maps under 32767 on a side, so the N lookups go as rows of at most ``REMAP_ROW``.
    """
    p, n = level.shape[0], len(x)
    if n == 0:
        return np.zeros((0, 3), dtype=np.float32)
    width = min(n, REMAP_ROW)
    rows = -(-n // width)
    maps = [np.pad(np.mod(v - 0.5, p).astype(np.float32), (0, rows * width - n)).reshape(rows, width) for v in (x, y)]
    out = cv2.remap(level, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    return out.reshape(rows * width, -1)[:n].astype(np.float32)


def sample_texture(tex: Texture, uv_m: np.ndarray, texel_m: float, footprint_m: np.ndarray) -> np.ndarray:
    """Trilinear lookup of ``tex`` at surface coordinates ``uv_m`` (N, 2) in metres; returns (N, 3) in [0, 1].

    ``texel_m`` is the size of one level-0 texel on the surface, ``footprint_m`` (N,) the size of the pixel there.
    """
    n_levels = len(tex.levels)
    lod = np.clip(np.log2(np.maximum(footprint_m / texel_m, 1e-6)), 0.0, n_levels - 1.0)
    l0 = np.floor(lod).astype(np.int64)
    frac = (lod - l0).astype(np.float32)[:, None]
    x = uv_m[:, 0] / texel_m
    y = uv_m[:, 1] / texel_m
    out = np.zeros((len(uv_m), 3), np.float32)
    for level in np.unique(l0):
        sel = np.flatnonzero(l0 == level)
        lo = _bilinear(tex.levels[level], x[sel] / 2.0**level, y[sel] / 2.0**level)
        hi_level = min(int(level) + 1, n_levels - 1)
        hi = _bilinear(tex.levels[hi_level], x[sel] / 2.0**hi_level, y[sel] / 2.0**hi_level)
        out[sel] = lo + (hi - lo) * frac[sel]
    return out / 255.0

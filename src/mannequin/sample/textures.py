"""Surface textures for the sample renderer: scikit-image's real photographs and procedural patterns.

Every texture is a seamless (mirror-tiled) RGB image with a box-filtered mip pyramid, sampled with trilinear
filtering at a footprint given in metres, so that distant surfaces do not alias.

Resizing, interpolation and lookups are numpy element-wise arithmetic in a fixed order (no OpenCV, whose SIMD
paths round differently per CPU, and :mod:`~mannequin.sample.portable_math` for the sines and the level of
detail), so a texture and every lookup have the same bits on every CPU.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mannequin.sample import portable_math as pm

TILE = 256  # texels per photo before mirroring; the seamless period is 2 * TILE
CUBIC_A = -0.75  # the Keys cubic's free parameter (OpenCV's INTER_CUBIC)
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
    return area_resize(img[y0 : y0 + side, x0 : x0 + side], TILE)


def _area_weights(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights (n_out, taps) of box-averaging ``n_in`` samples down to ``n_out``: output k
    covers [k, k + 1) * n_in / n_out of the input, each input sample weighted by its overlap (exact rationals)."""
    scale = Fraction(n_in, n_out)
    taps = math.ceil(scale) + 1
    index = np.zeros((n_out, taps), dtype=np.int64)
    weight = np.zeros((n_out, taps), dtype=np.float64)
    for k in range(n_out):
        lo, hi = k * scale, (k + 1) * scale
        for j, i in enumerate(range(math.floor(lo), math.ceil(hi))):
            index[k, j] = i
            weight[k, j] = float((min(hi, i + 1) - max(lo, i)) / scale)
    return index, weight


def _resample(values: np.ndarray, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted sums of rows of ``values`` (axis 0): sum over taps, in tap order, of ``weight * values[index]``."""
    out = np.zeros((index.shape[0], *values.shape[1:]), dtype=np.float64)
    shape = (-1,) + (1,) * (values.ndim - 1)
    for j in range(index.shape[1]):
        out += weight[:, j].reshape(shape) * values[index[:, j]]
    return out


def area_resize(img: np.ndarray, size: int) -> np.ndarray:
    """A square uint8 image box-averaged down to ``size`` x ``size`` (rows, then columns), rounded to uint8."""
    rows = _resample(img.astype(np.float64), *_area_weights(img.shape[0], size))
    both = _resample(rows.swapaxes(0, 1), *_area_weights(img.shape[1], size)).swapaxes(0, 1)
    return np.clip(np.round(both), 0, 255).astype(np.uint8)


def half_size(img: np.ndarray) -> np.ndarray:
    """A uint8 image of even sides averaged over 2x2 blocks, rounding halves up (as OpenCV's INTER_AREA does)."""
    v = img.astype(np.int32)
    total = v[0::2, 0::2] + v[0::2, 1::2] + v[1::2, 0::2] + v[1::2, 1::2]
    return ((total + 2) // 4).astype(np.uint8)


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """Keys cubic weights (len(t), 4) of the samples at offsets -1, 0, 1, 2 for a position t in [0, 1) after 0."""
    a = CUBIC_A

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a

    return np.stack([far(1.0 + t), near(t), near(1.0 - t), far(2.0 - t)], axis=1)


def periodic_cubic_upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """A periodic (cells, cells) grid interpolated to (size, size) by the Keys cubic, wrapping at the edges.

    Output pixel k samples the grid at ``(k + 0.5) * cells / size - 0.5`` (pixel centres on both grids).
    """
    cells = grid.shape[0]
    pos = (np.arange(size, dtype=np.float64) + 0.5) * (cells / size) - 0.5
    base = np.floor(pos)
    weight = _cubic_weights(pos - base)
    index = np.mod(base.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :], cells)
    rows = _resample(grid.astype(np.float64), index, weight)
    return _resample(rows.T, index, weight).T


def _value_noise(rng: np.random.Generator, octaves: int = 5) -> np.ndarray:
    """Multi-octave periodic value noise in [0, 1], shape (TILE, TILE)."""
    out = np.zeros((TILE, TILE), np.float64)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 4 * 2**o
        grid = rng.random((cells, cells))
        out += amp * periodic_cubic_upsample(grid, TILE)
        total += amp
        amp *= 0.55
    out /= total
    return ((out - out.min()) / max(float(np.ptp(out)), 1e-6)).astype(np.float32)


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
        mix = 0.5 + 0.5 * pm.sin(2 * pm.PI * (6 * x + 2 * y + 0.8 * noise))
    elif name == "blobs":
        mix = (noise > 0.5).astype(np.float32) * 0.7 + 0.3 * _value_noise(rng, 3)
    elif name == "wood":
        mix = 0.5 + 0.5 * pm.sin(2 * pm.PI * (10 * y + 3 * noise))
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
        levels.append(half_size(levels[-1]))
    return tuple(levels)


def _with_contrast(img: np.ndarray, target_std: float = 45.0, max_gain: float = 3.0) -> np.ndarray:
    """Stretch a low-contrast image about its mean so that surfaces carry texture a matcher can use."""
    f = img.astype(np.float64)
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
    """Wrap-around bilinear lookup at continuous texel coordinates (texel i centred at i + 0.5); (N, 3) float32."""
    p = level.shape[0]
    fx, fy = np.mod(x - 0.5, p), np.mod(y - 0.5, p)
    x0, y0 = np.floor(fx), np.floor(fy)
    wx, wy = (fx - x0)[:, None], (fy - y0)[:, None]
    i0, j0 = x0.astype(np.int64) % p, y0.astype(np.int64) % p
    i1, j1 = (i0 + 1) % p, (j0 + 1) % p
    top = level[j0, i0] * (1.0 - wx) + level[j0, i1] * wx  # uint8 texels, exact in float64
    bottom = level[j1, i0] * (1.0 - wx) + level[j1, i1] * wx
    return (top * (1.0 - wy) + bottom * wy).astype(np.float32)


def sample_texture(tex: Texture, uv_m: np.ndarray, texel_m: float, footprint_m: np.ndarray) -> np.ndarray:
    """Trilinear lookup of ``tex`` at surface coordinates ``uv_m`` (N, 2) in metres; returns (N, 3) in [0, 1].

    ``texel_m`` is the size of one level-0 texel on the surface, ``footprint_m`` (N,) the size of the pixel there.
    """
    n_levels = len(tex.levels)
    lod = np.clip(pm.log2(np.maximum(footprint_m / texel_m, 1e-6)), 0.0, n_levels - 1.0)
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

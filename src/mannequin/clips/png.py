"""PNG encoding with bytes that depend on the pixels alone, not on the CPU or on OpenCV's build.

OpenCV's encoder hands the rows to libpng and whichever zlib its wheel links (zlib-ng in some builds, whose
deflate picks CPU-specific match finders), and its defaults change between releases. Here the filter of each
row is chosen by a fixed integer rule (libpng's: the filter whose output has the smallest sum of absolute
values as signed bytes), and the filtered rows are deflated by Python's ``zlib`` module at a fixed level.
Python's zlib is the reference zlib (pure C, no run-time CPU dispatch) in every CPython this project supports;
:func:`zlib_is_reference` says whether that holds here, and the tests check digests of encoded frames.

Reading stays with OpenCV (``cv2.imread``): decoding is exact by the PNG standard.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_write_bytes

SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEVEL = 6  # zlib's default: about 30% smaller than OpenCV's level 1 on rendered frames
_COLOUR_TYPE = {1: 0, 3: 2}  # channels -> PNG colour type (grey, RGB)


def zlib_is_reference() -> bool:
    """Whether Python's zlib is the reference implementation (not zlib-ng, whose output may depend on the CPU)."""
    return not hasattr(zlib, "ZLIBNG_VERSION") and "ng" not in zlib.ZLIB_RUNTIME_VERSION.lower()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _paeth(left: np.ndarray, up: np.ndarray, up_left: np.ndarray) -> np.ndarray:
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    return np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))


def filter_rows(rows: np.ndarray, bytes_per_pixel: int) -> np.ndarray:
    """Every row (H, W * bpp) of raw bytes, filtered: (H, 1 + W * bpp) uint8, its filter type first."""
    rows = rows.astype(np.int16)
    h, n = rows.shape
    bpp = bytes_per_pixel
    zeros = np.zeros((h, bpp), dtype=np.int16)
    left = np.concatenate([zeros, rows[:, :-bpp]], axis=1)
    up = np.concatenate([np.zeros((1, n), dtype=np.int16), rows[:-1]], axis=0)
    up_left = np.concatenate([zeros, up[:, :-bpp]], axis=1)
    candidates = (
        np.stack([rows, rows - left, rows - up, rows - (left + up) // 2, rows - _paeth(left, up, up_left)]) & 0xFF
    )  # (5, H, N): None, Sub, Up, Average, Paeth
    signed = np.where(candidates >= 128, 256 - candidates, candidates)
    best = np.argmin(signed.sum(axis=2, dtype=np.int64), axis=0)  # the first of the smallest, in the order above
    chosen = candidates[best, np.arange(h)]
    return np.concatenate([best[:, None], chosen], axis=1).astype(np.uint8)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of ``image``: (H, W) or (H, W, 1) grey, or (H, W, 3) RGB, in uint8 or uint16 (big-endian samples)."""
    image = np.asarray(image)
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"PNG holds uint8 or uint16 samples, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in _COLOUR_TYPE or min(image.shape[:2]) < 1:
        raise ValueError(f"PNG needs an (H, W), (H, W, 1) or (H, W, 3) image, got shape {image.shape}")
    h, w, channels = image.shape
    depth = 8 * image.dtype.itemsize
    raw = np.ascontiguousarray(image.astype(image.dtype.newbyteorder(">"))).view(np.uint8).reshape(h, -1)
    filtered = filter_rows(raw, channels * image.dtype.itemsize)
    header = struct.pack(">IIBBBBB", w, h, depth, _COLOUR_TYPE[channels], 0, 0, 0)
    body = zlib.compress(filtered.tobytes(), LEVEL)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write ``image`` (see :func:`encode_png`; RGB channel order) as a PNG file, atomically."""
    atomic_write_bytes(path, encode_png(image))

"""Curated storage: one directory of memory-mappable ``.npy`` arrays per accepted clip.

Layout of ``curated/shards/<clip_id>/``::

    images.npy      uint8   (N, H, W, 3)  RGB frames at the curation resolution
    depth.npy       float32 (N, H, W)     MVS depth in pose units, NaN where unconfident
    confidence.npy  float32 (N, H, W)     confidence in [0, 1]
    cameras.npz     K (N,3,3), R (N,3,3), t (N,3) for the stored resolution
    parallax.npy    float16 (N, H, W, 3)  the parallax input (mannequin.curation.parallax.CHANNELS: normalised
                                          parallax depth, its confidence, the mask), computed once at curation
    meta.json       clip id, source frame indices, shape, format version, and under ``parallax`` the mask source
                    (given | segmenter | motion | none), each frame's shift and sweep source (written last)

``parallax.npy`` is optional (shards written without it, e.g. before it existed, train ``rgb`` nets only).

A shard is built in a temp directory under ``curated/.tmp`` (beside ``shards/``, not inside it, so a
killed write leaves nothing in the DVC output) and renamed into place whole, so an interrupted run never
leaves a shard that looks complete. :func:`remove_stale_shards` clears what a killed run left there.
Arrays open with ``mmap_mode="r"``: a DataLoader reads only the frames it samples, and worker processes
share the page cache.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_dir
from mannequin.clips.cameras import Camera
from mannequin.curation.parallax import ParallaxInput
from mannequin.errors import InputError, OutOfSpace, is_out_of_space, naming_a_full_disk  # noqa: F401

FORMAT_VERSION = 1
SHARDS_DIR = "shards"
#: Where shards are built before the rename: beside ``shards/`` on the same filesystem, never inside it.
TMP_DIR = ".tmp"
PARALLAX_NAME = "parallax.npy"


@dataclass(frozen=True)
class ClipShard:
    """A curated clip on disk; arrays are memory-mapped on first access."""

    path: Path

    @cached_property
    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    @property
    def clip_id(self) -> str:
        return self.meta["clip_id"]

    def __len__(self) -> int:
        return int(self.meta["num_frames"])

    @cached_property
    def images(self) -> np.ndarray:
        return np.load(self.path / "images.npy", mmap_mode="r")

    @cached_property
    def depth(self) -> np.ndarray:
        return np.load(self.path / "depth.npy", mmap_mode="r")

    @cached_property
    def confidence(self) -> np.ndarray:
        return np.load(self.path / "confidence.npy", mmap_mode="r")

    @property
    def has_parallax(self) -> bool:
        """Whether the shard holds the parallax input (``parallax.npy``)."""
        return "parallax" in self.meta and (self.path / PARALLAX_NAME).is_file()

    @cached_property
    def parallax(self) -> np.ndarray:
        """(N, H, W, 3) float16 memory map of the parallax input, in ``CHANNELS`` order."""
        if not self.has_parallax:
            raise InputError(self.path, "the shard has no parallax input (curated before it existed: curate again)",
                             "no_parallax")  # fmt: skip
        return np.load(self.path / PARALLAX_NAME, mmap_mode="r")

    @property
    def mask_source(self) -> str:
        """Where the parallax input's masks came from (``given | segmenter | motion | none``); "" without one."""
        return str(self.meta.get("parallax", {}).get("mask_source", ""))

    @cached_property
    def cameras(self) -> list[Camera]:
        cams = np.load(self.path / "cameras.npz")
        h, w = self.meta["height"], self.meta["width"]
        return [Camera(K, R, t, w, h) for K, R, t in zip(cams["K"], cams["R"], cams["t"])]


def write_shard(
    root: str | Path,
    clip_id: str,
    images: np.ndarray,
    depth: np.ndarray,
    confidence: np.ndarray,
    cameras: list[Camera],
    frame_indices: list[int],
    provenance: dict | None = None,
    parallax: ParallaxInput | None = None,
) -> ClipShard:
    """Write one clip's curated frames atomically under ``root/shards/<clip_id>``.

    ``provenance`` (JSON-serialisable: what produced the shard) is stored in ``meta.json``; ``parallax`` (the
    frames' parallax input, same rows) in ``parallax.npy`` and ``meta.json``. A full disk raises
    :class:`OutOfSpace` naming the shard, and leaves no partial folder.
    """
    n, h, w = depth.shape
    if images.shape != (n, h, w, 3) or confidence.shape != (n, h, w) or len(cameras) != n or len(frame_indices) != n:
        raise ValueError(f"{clip_id}: inconsistent shard shapes {images.shape}, {depth.shape}, {confidence.shape}")
    if parallax is not None and parallax.parallax.shape != (n, h, w):
        raise ValueError(f"{clip_id}: parallax input {parallax.parallax.shape} does not match the frames {(n, h, w)}")
    with naming_a_full_disk(Path(root) / SHARDS_DIR / clip_id), shard_writer(root, clip_id) as tmp:
        np.save(tmp / "images.npy", np.ascontiguousarray(images, dtype=np.uint8))
        np.save(tmp / "depth.npy", np.ascontiguousarray(depth, dtype=np.float32))
        np.save(tmp / "confidence.npy", np.ascontiguousarray(confidence, dtype=np.float32))
        np.savez(
            tmp / "cameras.npz",
            K=np.stack([c.K for c in cameras]),
            R=np.stack([c.R for c in cameras]),
            t=np.stack([c.t for c in cameras]),
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "clip_id": clip_id,
            "num_frames": n,
            "height": h,
            "width": w,
            "frame_indices": [int(i) for i in frame_indices],
        }
        if provenance is not None:
            meta["provenance"] = provenance
        if parallax is not None:
            np.save(tmp / PARALLAX_NAME, np.ascontiguousarray(parallax.channels_last(), dtype=np.float16))
            meta["parallax"] = {
                "mask_source": parallax.mask_source,
                "shift": [round(float(v), 6) for v in parallax.shift],
                "source": [int(v) for v in parallax.source],
            }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return ClipShard(Path(root) / SHARDS_DIR / clip_id)


@contextlib.contextmanager
def shard_writer(root: str | Path, clip_id: str) -> Iterator[Path]:
    """A temp folder under ``root/.tmp`` that replaces ``root/shards/<clip_id>`` whole when the block succeeds."""
    with atomic_dir(Path(root) / SHARDS_DIR / clip_id, tmp_dir=Path(root) / TMP_DIR) as tmp:
        yield tmp


def list_shards(root: str | Path, clip_ids: list[str] | None = None) -> list[ClipShard]:
    """Complete shards under ``root/shards`` (sorted by clip id), optionally restricted to ``clip_ids``."""
    base = Path(root) / SHARDS_DIR
    if not base.is_dir():
        return []
    wanted = set(clip_ids) if clip_ids is not None else None
    shards = []
    for d in sorted(base.iterdir()):
        if d.name.startswith(".") or not (d / "meta.json").is_file():
            continue
        if wanted is not None and d.name not in wanted:
            continue
        shards.append(ClipShard(d))
    return shards


def remove_stale_shards(root: str | Path, keep: set[str]) -> list[str]:
    """Delete shards of clips not in ``keep`` (rejected or removed since the last run), and any temp leftovers."""
    remove_temp_leftovers(root)
    removed = []
    for shard in list_shards(root):
        if shard.path.name not in keep:
            shutil.rmtree(shard.path)
            removed.append(shard.path.name)
    return removed


def remove_temp_leftovers(root: str | Path) -> list[str]:
    """Delete what killed writes left: ``root/.tmp`` and hidden entries of ``root/shards`` (older versions
    built shards there); returns their names. Call it when no shard is being written."""
    leftovers = [Path(root) / TMP_DIR]
    base = Path(root) / SHARDS_DIR
    if base.is_dir():
        leftovers += sorted(p for p in base.iterdir() if p.name.startswith("."))
    removed = []
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(path.name)
    return removed

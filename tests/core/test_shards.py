"""Curated shards: round-trip, memory-mapped reads, and no half-written shard after a failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.cameras import Camera
from mannequin.curation import shards
from mannequin.curation.shards import list_shards, remove_stale_shards, write_shard


def make(n: int = 3, h: int = 6, w: int = 8) -> tuple:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (n, h, w, 3), dtype=np.uint8)
    depth = rng.uniform(1, 5, (n, h, w)).astype(np.float32)
    depth[:, 0, 0] = np.nan
    conf = rng.uniform(0, 1, (n, h, w)).astype(np.float32)
    K = np.array([[10.0, 0, 4], [0, 10, 3], [0, 0, 1]])
    cams = [Camera(K, np.eye(3), [i, 0, 0], w, h) for i in range(n)]
    return images, depth, conf, cams


def test_round_trip_is_exact_and_mmapped(tmp_path: Path) -> None:
    images, depth, conf, cams = make()
    write_shard(tmp_path, "clip_a", images, depth, conf, cams, [0, 4, 8])
    (shard,) = list_shards(tmp_path)
    assert shard.clip_id == "clip_a" and len(shard) == 3
    assert isinstance(shard.images, np.memmap)
    np.testing.assert_array_equal(shard.images, images)
    np.testing.assert_array_equal(shard.depth, depth)
    np.testing.assert_array_equal(shard.confidence, conf)
    assert shard.meta["frame_indices"] == [0, 4, 8]
    np.testing.assert_allclose(shard.cameras[2].t, [2, 0, 0])


def test_interrupted_write_leaves_no_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images, depth, conf, cams = make()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(shards.np, "savez", boom)
    with pytest.raises(OSError):
        write_shard(tmp_path, "clip_a", images, depth, conf, cams, [0, 1, 2])
    assert list_shards(tmp_path) == []
    assert not any(p.name == "clip_a" for p in (tmp_path / "shards").iterdir())


def test_shape_mismatch_is_refused(tmp_path: Path) -> None:
    images, depth, conf, cams = make()
    with pytest.raises(ValueError):
        write_shard(tmp_path, "clip_a", images[:2], depth, conf, cams, [0, 1, 2])


def test_stale_shards_removed(tmp_path: Path) -> None:
    images, depth, conf, cams = make()
    for cid in ("a", "b"):
        write_shard(tmp_path, cid, images, depth, conf, cams, [0, 1, 2])
    assert remove_stale_shards(tmp_path, {"a"}) == ["b"]
    assert [s.clip_id for s in list_shards(tmp_path)] == ["a"]

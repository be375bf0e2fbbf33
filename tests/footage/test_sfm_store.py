"""The poses resolver: where a clip's poses come from under curate.poses, and the store of estimated poses."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mannequin.config.sfm import SfmParams
from mannequin.curation.sfm_store import resolve_clip, uses_sfm
from mannequin.errors import InputError


def test_auto_given_and_sfm(rendered_clip, tmp_path):
    root, clip_dir, clip_id = rendered_clip
    with_poses = tmp_path / "with" / clip_id
    shutil.copytree(clip_dir, with_poses)
    shutil.copy(root / f"{clip_id}.poses.txt", with_poses / "poses.txt")
    assert not uses_sfm(with_poses, "auto") and uses_sfm(with_poses, "sfm") and uses_sfm(clip_dir, "auto")
    given = resolve_clip(with_poses, "auto", SfmParams(), None)
    assert given.source == "given" and given.stats is None
    with pytest.raises(InputError) as info:
        resolve_clip(clip_dir, "given", SfmParams(), None)
    assert info.value.code == "missing_poses"

    store = tmp_path / "curated" / "poses"
    first = resolve_clip(clip_dir, "auto", SfmParams(), store)
    assert first.source == "sfm" and first.stats.registered == len(first.clip)
    entries = sorted(p.name for p in (store / clip_id).iterdir())
    assert len(entries) == 2 and entries[0].endswith(".json") and entries[1].endswith(".txt")
    assert not (clip_dir / "poses.txt").exists()  # data/ is never written
    meta = json.loads((store / clip_id / entries[0]).read_text())
    meta["stats"]["points"] = -1  # proves the second call reads the store instead of running SfM again
    (store / clip_id / entries[0]).write_text(json.dumps(meta))
    again = resolve_clip(clip_dir, "sfm", SfmParams(), store)
    assert again.stats.points == -1
    np.testing.assert_allclose(again.clip.cameras[-1].t, first.clip.cameras[-1].t, rtol=1e-12)


def test_failures_are_remembered(tmp_path):
    import cv2

    clip = tmp_path / "data" / "wall"
    (clip / "frames").mkdir(parents=True)
    for i in range(5):
        cv2.imwrite(str(clip / "frames" / f"{i:06d}.png"), np.full((64, 96, 3), 100, np.uint8))
    store = tmp_path / "poses"
    for _ in range(2):
        with pytest.raises(InputError) as info:
            resolve_clip(clip, "auto", SfmParams(), store)
        assert info.value.code == "no_poses" and "too little texture" in str(info.value)
    assert "failure" in json.loads(next((store / "wall").glob("*.json")).read_text())

"""Curation of clips without poses.txt: SfM poses, their scores in clips.csv, no_poses rows, data/ untouched."""

from __future__ import annotations

import shutil

import cv2
import numpy as np

from mannequin.config import load_params
from mannequin.curation.curate import curate_dataset
from mannequin.curation.table import read_clip_table


def test_poseless_clips_in_a_batch(rendered_clip, tmp_path):
    _, clip_dir, clip_id = rendered_clip
    data = tmp_path / "data"
    shutil.copytree(clip_dir, data / "clips" / clip_id)
    wall = data / "clips" / "wall"
    (wall / "frames").mkdir(parents=True)
    for i in range(6):
        cv2.imwrite(str(wall / "frames" / f"{i:06d}.png"), np.full((120, 160, 3), 120, np.uint8))
    (data / "splits.csv").write_text(f"clip_id,split\n{clip_id},unlabeled\nwall,unlabeled\n")
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    params = load_params(None, {"curate.max_frames": 6}).curate
    outcome = curate_dataset(data, tmp_path / "curated", params, run_gates=True)

    table = read_clip_table(tmp_path / "curated" / "clips.csv").set_index("clip_id")
    assert table.loc["wall", "reason"].startswith("no_poses: wall: structure from motion failed: too little texture")
    row = table.loc[clip_id]
    assert row["sfm_registered"] == 1.0 and row["sfm_points"] > 20
    assert 0 < row["sfm_reprojection_px"] < 1.0 and 0.4 < row["sfm_focal"] < 1.6
    assert row["accepted"], row["reason"]
    assert outcome.passed, [g.summary() for g in outcome.gates]
    assert sorted(p.name for p in (tmp_path / "curated" / "poses").iterdir()) == sorted([clip_id, "wall"])
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before  # data/ is never written

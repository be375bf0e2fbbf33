"""The curation audit from hand-made clips.csv, sample_truth.csv, shards and exact depth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.cameras import Camera
from mannequin.curation.shards import write_shard
from mannequin.errors import InputError
from mannequin.evaluation.audit import curation_audit, read_decisions
from mannequin.evaluation.metrics import METRICS
from mannequin.evaluation.report import write_report

TRUTH = """clip_id,defect,pose_scale
c1,none,3.0
c2,none,1.0
c3,moving,1.0
c4,moving,2.0
c5,blur,1.0
c6,rotation_only,1.0
c7,corrupt_video,1.0
t1,none,1.0
"""
CLIPS = """clip_id,split,accepted,reason,coverage
c1,unlabeled,true,,0.9
c2,unlabeled,false,low_coverage: too few confident pixels,0.1
c3,unlabeled,false,moving_scene: 30% of pixels fail the geometric check,
c4,unlabeled,true,,0.8
c5,unlabeled,false,moving_scene: many inconsistent pixels,
c6,unlabeled,false,no_parallax: the camera only rotates,
c7,unlabeled,false,bad_video: cannot decode frame 3,
t1,test,false,held_out_test: never curated for training,
x9,unlabeled,true,,0.5
"""


def write_tables(data: Path, curated: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    curated.mkdir(parents=True, exist_ok=True)
    (data / "sample_truth.csv").write_text(TRUTH)
    (curated / "clips.csv").write_text(CLIPS)


def shard(curated: Path, clip_id: str, depth: np.ndarray, frame_indices: list[int]) -> None:
    n, h, w = depth.shape
    cams = [Camera(np.eye(3), np.eye(3), np.zeros(3), w, h) for _ in range(n)]
    images = np.zeros((n, h, w, 3), dtype=np.uint8)
    write_shard(curated, clip_id, images, depth.astype(np.float32), np.ones_like(depth, dtype=np.float32), cams,
                frame_indices)  # fmt: skip


def truth_npz(data: Path, clip_id: str, depth: np.ndarray) -> None:
    (data / "truth" / clip_id).mkdir(parents=True)
    np.savez(data / "truth" / clip_id / "depth.npz", depth=depth.astype(np.float32), K=np.eye(3))


def test_reject_precision_and_recall_per_defect(tmp_path):
    write_tables(tmp_path / "data", tmp_path / "curated")
    audit = curation_audit(tmp_path / "data", tmp_path / "curated")
    rej = audit["rejects"]
    # judged: c1..c7 (t1 is held out, x9 has no truth)
    assert rej["judged_clips"] == 7 and rej["not_judged"] == {"held_out_test": 1}
    assert rej["overall"] == {"tp": 4, "fp": 1, "fn": 1, "tn": 1, "precision": 0.8, "recall": 0.8}
    moving = rej["per_defect"]["moving"]
    assert moving == {
        "clips": 2,
        "rejected": 1,
        "recall": 0.5,
        "recall_right_reason": 0.5,
        "flagged": 2,
        "precision": 0.5,
    }  # fmt: skip  (moving_scene flags c3 and c5; only c3 moves)
    blur = rej["per_defect"]["blur"]
    assert (blur["recall"], blur["recall_right_reason"], blur["precision"]) == (1.0, 0.0, None)
    assert rej["per_defect"]["rotation_only"]["precision"] == 1.0
    assert rej["per_defect"]["corrupt_video"]["recall_right_reason"] == 1.0
    assert set(rej["per_defect"]) == {"moving", "blur", "rotation_only", "corrupt_video"}
    assert rej["confusion"]["none"] == {"accepted": 1, "low_coverage": 1}
    assert rej["confusion"]["moving"] == {"moving_scene": 1, "accepted": 1}


def test_custom_reason_map_changes_precision(tmp_path):
    write_tables(tmp_path / "data", tmp_path / "curated")
    audit = curation_audit(tmp_path / "data", tmp_path / "curated", {"moving_scene": "blur"})
    assert audit["rejects"]["per_defect"]["blur"]["precision"] == 0.5
    assert audit["rejects"]["per_defect"]["moving"]["precision"] is None


def test_mvs_accuracy_against_exact_depth(tmp_path):
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_tables(data, curated)
    rng = np.random.default_rng(0)
    exact = rng.uniform(1.0, 4.0, size=(4, 6, 8))
    truth_npz(data, "c1", exact)
    mvs = exact[[1, 3]] * 3.0  # pose units: metres times pose_scale 3
    mvs[:, 0, :] = np.nan  # 16 of 96 pixels unconfident
    mvs[0, 3, 3] *= 2.0  # one pixel twice too far
    shard(curated, "c1", mvs, [1, 3])
    truth_npz(data, "c4", np.full((3, 6, 8), 2.0))
    shard(curated, "c4", np.full((1, 3, 4), 4.0), [2])  # half resolution, pose_scale 2
    shard(curated, "c2", np.ones((1, 6, 8)), [0])  # rejected: not audited
    audit = curation_audit(data, curated)
    c1 = audit["mvs"]["per_clip"]["c1"]
    assert c1["defect"] == "none" and c1["frames"] == 2 and c1["pixels"] == 80
    assert c1["coverage"] == pytest.approx(80 / 96)
    assert c1["metres_per_unit"] == pytest.approx(1 / 3, rel=1e-5)
    assert c1["abs_rel_median_scaled"] == pytest.approx(1 / 80, rel=1e-4)  # |2t - t| / t on one of 80 pixels
    assert c1["abs_rel_pose_scale"] == pytest.approx(1 / 80, rel=1e-4)
    assert c1["a1_median_scaled"] == pytest.approx(79 / 80, rel=1e-4)
    c4 = audit["mvs"]["per_clip"]["c4"]
    assert c4["defect"] == "moving" and c4["abs_rel_median_scaled"] == 0.0 and c4["abs_rel_pose_scale"] == 0.0
    assert set(audit["mvs"]["per_clip"]) == {"c1", "c4"}
    mean = audit["mvs"]["mean"]
    assert mean["clips"] == 2 and mean["abs_rel_median_scaled"] == pytest.approx(1 / 160, rel=1e-4)
    assert mean["coverage"] == pytest.approx((80 / 96 + 1.0) / 2)


def test_audit_in_report(tmp_path):
    data, curated, metrics = tmp_path / "data", tmp_path / "curated", tmp_path / "metrics"
    write_tables(data, curated)
    metrics.mkdir()
    values = dict.fromkeys(METRICS, 0.5)
    model = {"name": "pretrain-mvs", "kind": "pretrain", "objective": "mvs"}
    (metrics / "pretrain-mvs.json").write_text(json.dumps({"model": model, "alignment": "median", "metrics": values}))
    summary = write_report(metrics, tmp_path / "reports", data_dir=data, curated_dir=curated)
    assert summary["audit"]["rejects"]["overall"]["precision"] == 0.8
    saved = json.loads((tmp_path / "reports/summary.json").read_text())
    assert "precision" not in saved["audit"]["rejects"]["per_defect"]["blur"]  # None is left out for dvc
    full = json.loads((tmp_path / "reports/audit.json").read_text())
    assert full["available"] is True
    assert full["rejects"]["confusion"]["moving"] == {"accepted": 1, "moving_scene": 1}
    md = (tmp_path / "reports/summary.md").read_text()
    assert "## Curation audit" in md and "precision 0.800, recall 0.800 (tp 4, fp 1, fn 1, tn 1)" in md
    assert "| moving | 2 | 1 | 0.500 | 0.500 | 0.500 |" in md
    assert "| blur | 1 | 1 | 1.000 | 0.000 | n/a |" in md
    assert "not judged: 1 held_out_test" in md


def test_no_truth_means_no_audit_and_bad_tables_are_errors(tmp_path):
    assert curation_audit(tmp_path / "data", tmp_path / "curated") is None
    (tmp_path / "clips.csv").write_text("clip_id,accepted,reason\nc1,maybe,\n")
    with pytest.raises(InputError, match="line 2: accepted must be true or false"):
        read_decisions(tmp_path / "clips.csv")
    (tmp_path / "clips.csv").write_text("clip_id,reason\n")
    with pytest.raises(InputError, match="missing column"):
        read_decisions(tmp_path / "clips.csv")

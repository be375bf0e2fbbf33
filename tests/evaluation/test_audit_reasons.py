"""The audit's table of reasons: one declared table, extended by a dataset's sample_truth.csv; walking people."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.errors import InputError
from mannequin.evaluation.audit import DEFAULT_REASON_DEFECTS, curation_audit
from mannequin.evaluation.markdown import render_markdown
from mannequin.evaluation.summary import build_summary

CLIPS = """clip_id,split,accepted,reason
r1,unlabeled,false,no_parallax: the camera only rotates
r2,unlabeled,false,no_parallax: the camera only rotates
s1,unlabeled,false,static_camera: the camera does not move
s2,unlabeled,true,
n1,unlabeled,true,
n2,unlabeled,false,low_coverage: too few confident pixels
"""


def audit(tmp_path: Path, truth: str, clips: str = CLIPS) -> dict:
    data, curated = tmp_path / "data", tmp_path / "curated"
    data.mkdir(exist_ok=True)
    curated.mkdir(exist_ok=True)
    (data / "sample_truth.csv").write_text(truth)
    (curated / "clips.csv").write_text(clips)
    result = curation_audit(data, curated)
    assert result is not None
    return result


def test_defect_names_no_code_maps_to_are_said_not_scored_zero(tmp_path: Path) -> None:
    truth = "clip_id,defect\nr1,rotonly\nr2,rotonly\ns1,static\ns2,static\nn1,none\nn2,none\n"
    rej = audit(tmp_path, truth)["rejects"]
    assert rej["unmapped"] == {"rotonly": 2, "static": 2}
    assert rej["per_defect"]["rotonly"]["recall"] == 1.0
    assert rej["per_defect"]["rotonly"]["recall_right_reason"] is None  # not judged, never 0.000
    md = render_markdown(build_summary({}, audit=None), {"rejects": rej, "mvs": {"mean": {"clips": 0}}}, 0.2)
    assert "| rotonly | 2 | 2 | 1.000 | no code maps to it | no code maps to it |" in md
    assert "No reject code maps to the defect names `rotonly` (2 clips), `static` (2 clips)" in md
    assert "MVS accuracy is not measured: no accepted clip has exact depth" in md


def test_a_reason_column_extends_the_table(tmp_path: Path) -> None:
    truth = (
        "clip_id,defect,reason\nr1,rotonly,no_parallax\nr2,rotonly,no_parallax\ns1,static,static_camera\n"
        "s2,static,static_camera\nn1,none,\nn2,none,\n"
    )
    result = audit(tmp_path, truth)
    rej = result["rejects"]
    assert rej["unmapped"] == {}
    assert result["reasons_to_defects"]["no_parallax"] == "rotonly"  # the dataset's name for what the code catches
    assert result["reasons_to_defects"]["blurry"] == DEFAULT_REASON_DEFECTS["blurry"]  # the rest of the one table
    rot, static = rej["per_defect"]["rotonly"], rej["per_defect"]["static"]
    assert (rot["recall_right_reason"], rot["precision"]) == (1.0, 1.0)
    assert (static["recall"], static["recall_right_reason"], static["precision"]) == (0.5, 0.5, 1.0)
    bad = truth.replace("s1,static,static_camera", "s1,static,no_parallax")
    with pytest.raises(InputError, match="reason 'no_parallax' is given for defects 'rotonly' and 'static'"):
        audit(tmp_path, bad)


def test_labelled_clips_whose_people_walk_are_moving_scenes(tmp_path: Path) -> None:
    clips = (
        "clip_id,split,accepted,reason\nw1,labeled,false,moving_scene: see through\nw2,labeled,true,\n"
        "f1,labeled,true,\nf2,unlabeled,false,moving_scene: see through\n"
    )
    truth = "clip_id,defect,pose_scale,people\nw1,none,1,moving\nw2,none,1,moving\nf1,none,1,frozen\nf2,none,1,frozen\n"
    rej = audit(tmp_path, truth, clips)["rejects"]
    # w1 rejected as moving: right; w2 accepted although its people walk: missed; f2 rejected though still: wrong
    assert rej["overall"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 1, "precision": 0.5, "recall": 0.5}
    assert rej["per_defect"]["moving"]["precision"] == 0.5 and rej["per_defect"]["moving"]["recall_right_reason"] == 0.5

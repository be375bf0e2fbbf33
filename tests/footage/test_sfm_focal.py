"""Real pycolmap runs: focal length hypotheses, used when the focal length refined from the prior is suspect."""

from __future__ import annotations

import pytest

from conftest import true_cameras
from mannequin.config.sfm import SfmParams
from mannequin.curation.sfm_accuracy import pose_errors
from mannequin.curation.sfm_poses import estimate_clip_poses


def _true_focal(root, clip_id) -> tuple[float, list]:
    true = true_cameras(root, clip_id)
    return true[0].K[0, 0] / max(true[0].width, true[0].height), true


def test_the_hypothesis_that_fits_best_is_the_true_focal_length(rendered_clip):
    root, clip_dir, clip_id = rendered_clip
    f_true, true = _true_focal(root, clip_id)
    candidates = [round(f_true * 0.6, 4), round(f_true, 4), round(f_true * 1.6, 4)]
    # refine_focal off: no refinement from the prior, the hypotheses alone decide, and the winner is not refined
    est = estimate_clip_poses(clip_dir, SfmParams(refine_focal=False, focal_candidates=candidates))
    assert est.stats.focal == pytest.approx(candidates[1], rel=1e-6)
    assert est.stats.method == f"focal length fixed at {candidates[1]:g} (best of 3 hypotheses)"
    assert est.text(clip_id).splitlines()[0].endswith(f"; {est.stats.method}")  # poses.txt's line 1 says so
    err = pose_errors(est.cameras(), [true[i] for i in est.source_indices])
    assert err.max_rotation_deg < 1.0 and err.ate_ratio < 0.02, err


def test_a_refined_focal_length_outside_the_range_is_never_kept(rendered_clip):
    root, clip_dir, clip_id = rendered_clip
    f_true, _ = _true_focal(root, clip_id)
    candidates = [round(f_true * 0.7, 4), round(f_true * 1.05, 4)]
    # a range that holds neither the truth nor anything refined near it: the best fixed hypothesis stays
    params = SfmParams(focal_candidates=candidates, focal_range=(f_true * 1.5, f_true * 2.0))
    est = estimate_clip_poses(clip_dir, params)
    assert est.stats.focal == pytest.approx(candidates[1], rel=1e-6)
    assert est.stats.method.startswith(f"focal length fixed at {candidates[1]:g}")


def test_without_hypotheses_the_focal_length_falls_back_to_the_prior(rendered_clip):
    _, clip_dir, _ = rendered_clip
    est = estimate_clip_poses(clip_dir, SfmParams(refine_focal=False, focal_candidates=[], focal_prior=0.8))
    assert est.stats.focal == pytest.approx(0.8, rel=1e-6)
    assert est.stats.method == "focal length fixed at focal_prior 0.8"


def test_the_default_refines_from_the_prior_and_records_it(rendered_clip):
    root, clip_dir, clip_id = rendered_clip
    f_true, _ = _true_focal(root, clip_id)
    est = estimate_clip_poses(clip_dir, SfmParams())
    assert est.stats.focal == pytest.approx(f_true, rel=0.05)
    assert est.stats.method == "incremental mapping, camera estimated"


def test_always_weighs_the_refined_model_against_the_hypotheses(rendered_clip):
    root, clip_dir, clip_id = rendered_clip
    f_true, true = _true_focal(root, clip_id)
    # this clip's fits are flat over the focal length (a sweep): the prior (0.85, truth 0.81) decides, and the
    # refined model or a hypothesis near it must win over the equally fitting far ones
    est = estimate_clip_poses(clip_dir, SfmParams(focal_hypotheses="always"))
    assert est.stats.focal == pytest.approx(f_true, rel=0.1)
    err = pose_errors(est.cameras(), [true[i] for i in est.source_indices])
    assert err.max_rotation_deg < 1.0, err


def test_a_camera_that_only_turns_gets_no_focal_hypotheses(tmp_path):
    from mannequin.errors import InputError
    from mannequin.sample.dataset import render_clip, write_clip
    from mannequin.sample.plan import make_plan

    plan = next(p for p in make_plan(128, seed=0) if p.defect == "rotation_only")
    write_clip(render_clip(plan), tmp_path)
    clip_dir = tmp_path / "clips" / plan.clip_id
    (clip_dir / "poses.txt").unlink()
    # a short fixed focal length widens triangulation angles: mapped with one, rotation passes for parallax
    with pytest.raises(InputError) as info:
        estimate_clip_poses(clip_dir, SfmParams())
    assert info.value.code == "no_poses"

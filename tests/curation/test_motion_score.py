"""Known answers of the motion score on exact depth maps of the analytic scene (no MVS: fast)."""

from __future__ import annotations

import numpy as np
import pytest

from mannequin.config.curate import QualityParams
from mannequin.curation.motion import clustered, distant_pairs, motion_fraction, pair_evidence
from mannequin.sample.analytic import render_clip
from tests.helpers.curation import depth_reason

BLOCK = (slice(12, 30), slice(20, 44))


@pytest.fixture(scope="module")
def scene():
    return render_clip(frames=9, width=64, height=48, path="lateral", supersample=1)


def _gray(image: np.ndarray) -> np.ndarray:
    return image.mean(axis=2).astype(np.float32) / 255.0


def test_static_scene_scores_zero(scene):
    assert motion_fraction(scene.depth, scene.images, scene.cameras) == pytest.approx(0.0, abs=1e-3)


def test_static_scene_scores_zero_at_any_pose_scale(scene):
    scaled_cams = [c.scaled(37.0) for c in scene.cameras]
    assert motion_fraction(scene.depth * 37.0, scene.images, scaled_cams) == pytest.approx(0.0, abs=1e-3)


def test_something_gone_later_is_seen_through(scene):
    """A block floating at half the background depth in the first third of the clip, gone later: it moved away."""
    moved = scene.depth.copy()
    moved[(slice(0, 3), *BLOCK)] *= 0.5
    score = motion_fraction(moved, scene.images, scene.cameras)
    assert score > 0.1
    # the same answer in other pose units
    scaled = motion_fraction(moved * 0.01, scene.images, [c.scaled(0.01) for c in scene.cameras])
    assert scaled == pytest.approx(score, rel=1e-6)


def test_something_new_without_depth_is_seen_photometrically(scene):
    """Late frames show a new textured thing with no confident depth (as the MVS leaves moving things)."""
    images, depth = scene.images.copy(), scene.depth.copy()
    rng = np.random.default_rng(1)
    images[(slice(6, 9), *BLOCK)] = rng.integers(0, 256, size=(3, 18, 24, 1), dtype=np.uint8)
    depth[(slice(6, 9), *BLOCK)] = np.nan
    assert motion_fraction(depth, images, scene.cameras) > 0.05


def test_occlusion_is_not_evidence(scene):
    """A nearer surface that frame j reconstructed may hide what frame i saw: not motion."""
    i, j = 0, 8
    images, depth_j = scene.images[j].copy(), scene.depth[j].copy()
    images[BLOCK] = 255 - images[BLOCK]  # different texture, explained by the nearer depth
    depth_j[BLOCK] *= 0.5
    gi, gj = _gray(scene.images[i]), _gray(images)
    evidence, checked = pair_evidence(scene.depth[i], scene.cameras[i], gi, depth_j, scene.cameras[j], gj)
    assert checked.mean() > 0.3
    assert not clustered(evidence).any()
    # frame j's block, seen from frame i, is seen through: evidence
    evidence, _ = pair_evidence(depth_j, scene.cameras[j], gj, scene.depth[i], scene.cameras[i], gi)
    assert clustered(evidence)[BLOCK].mean() > 0.5


def test_scattered_evidence_does_not_count():
    rng = np.random.default_rng(0)
    speckle = rng.random((48, 64)) < 0.05
    assert not clustered(speckle).any()
    blob = np.zeros((48, 64), bool)
    blob[10:20, 10:20] = True
    assert clustered(blob | speckle)[10:20, 10:20].all()


def test_distant_pairs_are_far_apart():
    pairs = distant_pairs(12, min_gap=1 / 3, partners=3)
    assert all(abs(i - j) >= 4 for i, j in pairs)
    assert {i for i, _ in pairs} == set(range(12))
    assert max(sum(1 for a, _ in pairs if a == i) for i in range(12)) == 3


def test_motion_rule_rejects_as_moving_scene_after_pose_image_mismatch():
    q = QualityParams()
    clean = {"parallax_deg": 5.0, "inconsistent_fraction": 0.05, "disagreement_fraction": 0.3, "coverage": 0.7}
    assert depth_reason({**clean, "motion_fraction": 0.0}, q) is None
    moving = depth_reason({**clean, "motion_fraction": 0.03}, q)
    assert moving is not None and moving.code == "moving_scene" and "3.0%" in moving.sentence
    mismatch = {**clean, "inconsistent_fraction": 0.8, "coverage": 0.01, "motion_fraction": 0.5}
    assert depth_reason(mismatch, q).code == "pose_image_mismatch"

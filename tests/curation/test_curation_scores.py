"""Quality scores are scale-free and decisions read them right (known answers, no MVS)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import skimage.data

from mannequin.clips.cameras import Camera
from mannequin.config.curate import QualityParams
from mannequin.curation.quality import clip_sharpness, depth_scores, even_indices, pose_scores
from mannequin.curation.table import ClipRow, format_clip_table, summarize
from tests.helpers.curation import depth_reason, pose_reason, sharpness_reason


def rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def track(centres: list[np.ndarray], angles: list[float] | None = None) -> list[Camera]:
    K = np.array([[100.0, 0, 50], [0, 100, 40], [0, 0, 1]])
    angles = angles or [0.0] * len(centres)
    cams = []
    for c, a in zip(centres, angles, strict=True):
        R = rot_y(a)
        cams.append(Camera(K, R, -R @ np.asarray(c, float), 100, 80))
    return cams


def test_pose_scores_are_scale_free_and_find_teleports():
    path = [np.array([0.1 * i, 0.02 * i * i, 3.0]) for i in range(10)]
    base = pose_scores(track(path))
    for factor in (1e-3, 7.0, 1e4):
        scaled = pose_scores([c.scaled(factor) for c in track(path)])
        assert scaled.pose_jump == pytest.approx(base.pose_jump, rel=1e-9)
        assert scaled.translation == pytest.approx(base.translation, rel=1e-9)
    assert base.pose_jump < 3

    jumped = [p + (np.array([5.0, 0, 0]) if i >= 6 else 0) for i, p in enumerate(path)]
    s = pose_scores(track(jumped))
    assert s.pose_jump > 20 and s.jump_at == 6
    reason = pose_reason(s, QualityParams())
    assert reason.code == "pose_jump" and "pose line 7" in reason.sentence


def test_static_and_rotation_only_cameras_from_poses():
    q = QualityParams()
    still = pose_scores(track([np.array([1.0, 2.0, 3.0])] * 8))
    assert still.translation == 0 and pose_reason(still, q).code == "static_camera"
    turning = pose_scores(track([np.array([1.0, 2.0, 3.0])] * 8, [3.0 * i for i in range(8)]))
    assert turning.rotation_deg == pytest.approx(21.0)
    r = pose_reason(turning, q)
    assert r.code == "no_parallax" and "21.0°" in r.sentence
    moving = pose_scores(track([np.array([0.05 * i, 0, 0]) for i in range(8)]))
    assert pose_reason(moving, q) is None


@pytest.mark.parametrize("width", [96, 160, 320])
def test_sharpness_separates_blur_at_any_resolution_and_exposure(width):
    q = QualityParams()
    for name in ("astronaut", "coffee", "chelsea"):  # fine repetitive textures (brick, grass) score higher blurred
        img = getattr(skimage.data, name)()
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
        h = round(img.shape[0] * width / img.shape[1])
        sharp = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
        blurred = cv2.GaussianBlur(sharp, (0, 0), 2.5 * width / 160)  # the same blur relative to the frame
        dark = (sharp.astype(np.float32) * 0.3).astype(np.uint8)  # under-exposed
        s, b, d = clip_sharpness(sharp[None]), clip_sharpness(blurred[None]), clip_sharpness(dark[None])
        assert b < s - 0.05 and abs(d - s) < 0.05, (name, width, s, b, d)
        if width >= 160:  # frames are measured at the curation width (160 by default) or larger
            assert sharpness_reason(b, q) is not None, (name, width, b)
            assert sharpness_reason(s, q) is None, (name, width, s)
    flat = np.full((1, 48, 64, 3), 77, np.uint8)
    assert clip_sharpness(flat) == 0.0


def test_depth_scores_and_decision_order():
    depth = np.full((2, 4, 5), 2.0, np.float32)
    depth[0, :2] = np.nan
    s = depth_scores(depth, np.array([2.0, 4.0]), np.array([0.1, 0.5]), np.array([0.05, 0.15]))
    assert s == {
        "parallax_deg": 3.0,
        "inconsistent_fraction": 0.3,
        "disagreement_fraction": pytest.approx(0.1),
        "coverage": pytest.approx(0.75),
    }
    blank = depth_scores(np.full((2, 4, 5), np.nan), np.zeros(2), np.zeros(2))
    assert blank["parallax_deg"] is None and blank["coverage"] == 0  # no confident pixel: parallax is unknown
    assert depth_reason(blank, QualityParams()).code == "low_coverage"
    q = QualityParams(min_parallax_deg=1.0, max_inconsistent_fraction=0.2, min_coverage=0.5)
    assert depth_reason(s, q).code == "moving_scene"
    assert depth_reason({**s, "parallax_deg": 0.2}, q).sentence.startswith("median triangulation angle 0.20°")
    assert depth_reason({**s, "inconsistent_fraction": 0.1, "coverage": 0.1}, q).code == "low_coverage"
    assert depth_reason({**s, "coverage": 0.01}, q).code == "pose_image_mismatch"
    assert depth_reason({**s, "inconsistent_fraction": 0.1}, q) is None
    photometric = {**s, "inconsistent_fraction": 0.1, "disagreement_fraction": 0.9}
    assert depth_reason(photometric, q).code == "moving_scene"


def test_even_indices():
    assert even_indices(5, 24) == [0, 1, 2, 3, 4]
    assert even_indices(100, 5) == [0, 25, 50, 74, 99]  # round half to even, first and last kept


def test_clip_table_is_deterministic_and_summary_has_no_time():
    rows = [
        ClipRow(
            "b", "unlabeled", True, num_frames=9, frames_used=9, scores={"sharpness": 0.712345678, "coverage": 0.5}
        ),
        ClipRow("a", "test", False, "held_out_test: never curated"),
        ClipRow("c", "unlabeled", False, "blurry: median sharpness 0.2", scores={"pose_jump": math.inf}),
    ]
    text = format_clip_table(rows)
    assert text == format_clip_table(list(reversed(rows)))
    lines = text.splitlines()
    assert lines[0].startswith("clip_id,split,accepted,reason,override,auto_reason,num_frames,frames_used")
    assert lines[1].startswith("a,test,false,held_out_test: never curated")
    assert "0.7123" in lines[2] and ",inf," in lines[3]
    s = summarize(rows)
    assert s["accepted_fraction"] == 0.5 and s["by_reason"] == {"accepted": 1, "blurry": 1, "held_out_test": 1}
    assert not any("time" in k or k.endswith("_s") for k in s)

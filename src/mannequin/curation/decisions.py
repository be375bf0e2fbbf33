"""Accept/reject rules: each rule is a scale-free score against a threshold in ``curate.quality``.

A rejection is a :class:`Reason`: a short machine code and a human sentence, written to
``clips.csv`` as ``code: sentence``. The rules run cheapest first; the first failing rule is the
clip's reason.

=====================  =========================================================================
code                   meaning
=====================  =========================================================================
held_out_test          the clip is in the ``test`` split: never curated for training, not read
missing_split          the clip is not listed in ``splits.csv`` (so it cannot be proven not test)
<reader code>          the clip cannot be read: ``bad_video``, ``pose_frame_mismatch``, ``bad_poses``,
                       ``missing_images``, ``bad_clip_id``, ... (the ``InputError`` code)
too_few_frames         fewer than ``min_frames`` frames: no multi-view depth to check
pose_jump              a camera step many times the median step (a SLAM teleport)
static_camera          the camera centre never moves and the view never turns
no_parallax            the camera only rotates, or the median triangulation angle is too small
blurry                 median sharpness (1 - blur effect) below ``min_sharpness``
pose_image_mismatch    too many confident pixels inconsistent AND too little coverage: the poses
                       do not belong to these images (reversed, or another path)
moving_scene           too many confident pixels fail the forward-backward geometric check, or too
                       many disagree photometrically with a source view at their depth, or frames
                       far apart in time see through, or see other texture on, each other's
                       confident surfaces (``motion_fraction``)
low_coverage           too few pixels get confident depth (textureless walls, bad poses), or fewer
                       than ``min_frames`` frames reach ``gates.min_frame_coverage`` (frames below
                       it are left out of the shard)
curation_error         an unexpected error after the configured retries (see the flow log)
=====================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from mannequin.config.curate import QualityParams
from mannequin.curation.quality import PoseScores

HELD_OUT_TEST = "held_out_test"
MISSING_SPLIT = "missing_split"
CURATION_ERROR = "curation_error"
STATIC_ROTATION_DEG = 0.5


@dataclass(frozen=True)
class Reason:
    """Why a clip is rejected: a machine code and a human sentence."""

    code: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.code}: {self.sentence}"


def frame_count_reason(num_frames: int, q: QualityParams) -> Reason | None:
    """Too few frames for multi-view depth."""
    if num_frames < q.min_frames:
        return Reason("too_few_frames", f"{num_frames} frames, at least {q.min_frames} are needed for multi-view depth")
    return None


def pose_reason(p: PoseScores, q: QualityParams) -> Reason | None:
    """Teleports, and cameras that do not translate, from the poses alone."""
    if p.pose_jump > q.max_pose_jump:
        times = "an isolated" if p.pose_jump == float("inf") else f"{p.pose_jump:.1f}x its median"
        return Reason("pose_jump", f"the camera makes {times} step before pose line {p.jump_at + 1}")
    if p.translation <= q.min_translation_ratio:
        if p.rotation_deg < STATIC_ROTATION_DEG:
            return Reason("static_camera", "the camera neither moves nor turns: no parallax for depth")
        return Reason(
            "no_parallax", f"the camera turns {p.rotation_deg:.1f}° without moving: rotation gives no parallax"
        )
    return None


def sharpness_reason(sharpness: float, q: QualityParams) -> Reason | None:
    """Blurred frames."""
    if sharpness < q.min_sharpness:
        return Reason("blurry", f"median sharpness {sharpness:.2f} is below {q.min_sharpness:.2f}")
    return None


def depth_reason(scores: dict, q: QualityParams) -> Reason | None:
    """Parallax, moving things and coverage from the MVS output, in that order."""
    if scores["parallax_deg"] is not None and scores["parallax_deg"] < q.min_parallax_deg:
        return Reason(
            "no_parallax",
            f"median triangulation angle {scores['parallax_deg']:.2f}° is below {q.min_parallax_deg:.2f}°",
        )
    if scores["inconsistent_fraction"] > q.max_inconsistent_fraction and scores["coverage"] < q.min_coverage:
        return Reason(
            "pose_image_mismatch",
            f"the images disagree with the poses: {scores['inconsistent_fraction']:.0%} of confident pixels are "
            f"inconsistent across views and confident depth covers only {scores['coverage']:.0%} of pixels",
        )
    if scores["inconsistent_fraction"] > q.max_inconsistent_fraction:
        return Reason(
            "moving_scene",
            f"{scores['inconsistent_fraction']:.0%} of confident pixels are geometrically inconsistent across views "
            f"(at most {q.max_inconsistent_fraction:.0%}): something moves",
        )
    if scores.get("disagreement_fraction", 0.0) > q.max_disagreement_fraction:
        return Reason(
            "moving_scene",
            f"at {scores['disagreement_fraction']:.0%} of confident pixels a source view does not match the image "
            f"(at most {q.max_disagreement_fraction:.0%}): something moves",
        )
    if scores.get("motion_fraction", 0.0) > q.max_motion_fraction:
        return Reason(
            "moving_scene",
            f"frames far apart in time see through or see other texture at {scores['motion_fraction']:.1%} of "
            f"each other's confident pixels (at most {q.max_motion_fraction:.1%}): something moves",
        )
    if scores["coverage"] < q.min_coverage:
        return Reason(
            "low_coverage", f"confident depth covers {scores['coverage']:.0%} of pixels, below {q.min_coverage:.0%}"
        )
    return None


def frames_kept_reason(kept: int, total: int, floor: float, q: QualityParams) -> Reason | None:
    """Too few frames left once the frames with almost no confident depth are dropped."""
    if kept < min(q.min_frames, total):
        return Reason(
            "low_coverage",
            f"only {kept} of {total} frames have confident depth on at least {floor:.0%} of pixels",
        )
    return None

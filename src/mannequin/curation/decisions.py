"""Accept/reject decisions: the reason codes, and the rules of :mod:`mannequin.curation.rules` by stage.

A rejection is a :class:`Reason`: a short machine code and a human sentence, written to
``clips.csv`` as ``code: sentence``. The rules (declared once, in ``rules.py``) run cheapest first;
the first failing rule is the clip's reason. The codes below that no rule declares come from the
curation itself (split, reader errors, retries).

=====================  =========================================================================
code                   meaning
=====================  =========================================================================
held_out_test          the clip is in the ``test`` split: never curated for training, not read
missing_split          the clip is not listed in ``splits.csv`` (so it cannot be proven not test)
<reader code>          the clip cannot be read: ``bad_video``, ``pose_frame_mismatch``, ``bad_poses``,
                       ``missing_images``, ``bad_clip_id``, ... (the ``InputError`` code)
no_poses               a clip without ``poses.txt`` (or ``curate.poses: sfm``) that structure from
                       motion cannot reconstruct: too few frames, no texture, a static camera, no
                       initial pair with parallax, too few points, a model that splits
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

from dataclasses import asdict
from typing import TYPE_CHECKING

from mannequin.config.curate import QualityParams
from mannequin.curation.rules import DEFAULT, STATIC_ROTATION_DEG, Reason, Values

if TYPE_CHECKING:
    from mannequin.curation.quality import PoseScores

__all__ = ["CURATION_ERROR", "HELD_OUT_TEST", "MISSING_SPLIT", "STATIC_ROTATION_DEG", "Reason", "stage_reason"]

HELD_OUT_TEST = "held_out_test"
MISSING_SPLIT = "missing_split"
CURATION_ERROR = "curation_error"


def stage_reason(stage: str, values: Values, q: QualityParams) -> Reason | None:
    """The first default rule of ``stage`` that rejects a clip with these values."""
    found = DEFAULT.first_failure(stage, values, q)
    return found[1] if found else None


def pose_reason(p: PoseScores, q: QualityParams) -> Reason | None:
    """Teleports, and cameras that do not translate, from the poses alone."""
    return stage_reason("poses", asdict(p), q)


def sharpness_reason(sharpness: float, q: QualityParams) -> Reason | None:
    """Blurred frames."""
    return stage_reason("frames", {"sharpness": sharpness}, q)


def depth_reason(scores: dict, q: QualityParams) -> Reason | None:
    """Parallax, moving things and coverage from the MVS output, in that order (frames kept aside)."""
    return stage_reason("mvs", {"frames_kept": 1, "frames_total": 1, "frame_coverage_floor": 0.0, **scores}, q)

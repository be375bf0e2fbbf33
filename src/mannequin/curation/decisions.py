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

from mannequin.curation.rules import Reason

__all__ = ["CURATION_ERROR", "HELD_OUT_TEST", "MISSING_SPLIT", "Reason"]

HELD_OUT_TEST = "held_out_test"
MISSING_SPLIT = "missing_split"
CURATION_ERROR = "curation_error"

"""Something moving in a static scene raises the photometric disagreement of the frames that see it."""

from __future__ import annotations

import numpy as np

from mannequin.curation.mvs import clip_depth


def test_moving_patch_raises_disagreement(scene, scene_depth, mvs_params):
    images = scene.images.copy()
    patch = scene.images[0, 10:60, 15:65].copy()
    for k in range(len(images)):  # a textured card sliding down across the frames, independent of the camera
        images[k, 8 + 3 * k : 58 + 3 * k, 15:65] = patch[: images.shape[1] - (8 + 3 * k)][:50]
    moving = clip_depth(images, scene.cameras, mvs_params)
    assert moving.disagreement_fraction is not None and scene_depth.disagreement_fraction is not None
    assert np.median(moving.disagreement_fraction) > np.median(scene_depth.disagreement_fraction) + 0.05

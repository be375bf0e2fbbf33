"""Scaling every pose translation by s scales the depth by s and changes nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from mannequin.curation.mvs import clip_depth


@pytest.mark.parametrize("s", [3.7, 1 / 64])
def test_depth_scales_with_the_poses(scene, scene_depth, mvs_params, s):
    scaled = clip_depth(scene.images, [c.scaled(s) for c in scene.cameras], mvs_params)
    np.testing.assert_array_equal(np.isnan(scaled.depth), np.isnan(scene_depth.depth))
    np.testing.assert_array_equal(scaled.confidence, scene_depth.confidence)
    ok = np.isfinite(scene_depth.depth)
    np.testing.assert_allclose(scaled.depth[ok], s * scene_depth.depth[ok], rtol=1e-5)
    np.testing.assert_allclose(scaled.depth_range, s * scene_depth.depth_range, rtol=1e-9)
    np.testing.assert_allclose(scaled.median_angle_deg, scene_depth.median_angle_deg, rtol=1e-6)
    np.testing.assert_array_equal(scaled.inconsistent_fraction, scene_depth.inconsistent_fraction)
    assert scaled.sources == scene_depth.sources

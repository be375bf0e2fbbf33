"""Clips MVS cannot triangulate come out empty, never as a crash: one frame, a still camera, two frames."""

from __future__ import annotations

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.curation.mvs import clip_depth


def _still(cameras: list[Camera]) -> list[Camera]:
    first = cameras[0]
    return [Camera(c.K, first.R, first.t, c.width, c.height, c.timestamp_us) for c in cameras]


def test_single_frame_has_no_depth(scene, mvs_params):
    r = clip_depth(scene.images[:1], scene.cameras[:1], mvs_params)
    assert r.depth.shape == (1, *scene.depth.shape[1:])
    assert np.isnan(r.depth).all() and np.all(r.confidence == 0)
    assert r.sources == [[]] and r.median_angle_deg[0] == 0 and r.inconsistent_fraction[0] == 0


def test_still_camera_has_no_parallax_and_no_depth(scene, mvs_params):
    r = clip_depth(scene.images, _still(scene.cameras), mvs_params)
    assert np.isnan(r.depth).all()
    assert all(s == [] for s in r.sources)
    assert np.all(r.median_angle_deg == 0)


def test_two_frame_clip_checks_each_frame_against_the_other(scene, mvs_params):
    images, cameras = scene.images[[0, 3]], [scene.cameras[0], scene.cameras[3]]
    r = clip_depth(images, cameras, mvs_params)
    assert r.sources == [[1], [0]]
    ok = np.isfinite(r.depth)
    assert ok.mean() > 0.4
    truth = scene.depth[[0, 3]]
    assert np.mean(np.abs(r.depth[ok] - truth[ok]) / truth[ok]) < 0.05

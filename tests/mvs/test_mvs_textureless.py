"""Blank walls carry no depth: textureless frames come out (almost) entirely unconfident."""

from __future__ import annotations

import numpy as np

from mannequin.curation.mvs import clip_depth


def test_blank_frames_have_no_confident_depth(scene, mvs_params):
    rng = np.random.default_rng(0)
    blank = np.full_like(scene.images, 128)
    noisy = np.clip(blank + rng.normal(0, 1.0, blank.shape), 0, 255).astype(np.uint8)  # sensor noise only
    for images in (blank, noisy):
        r = clip_depth(images, scene.cameras, mvs_params)
        assert np.isfinite(r.depth).mean() < 0.01
        assert np.all((r.confidence >= 0) & (r.confidence <= 1))


def test_blank_region_is_unconfident_inside_a_textured_frame(scene, mvs_params):
    images = scene.images.copy()
    images[:, 20:50, 30:70] = 90  # a blank patch painted into every frame
    r = clip_depth(images, scene.cameras, mvs_params)
    inner = np.isfinite(r.depth[:, 26:44, 36:64])
    assert inner.mean() < 0.05
    assert np.isfinite(r.depth).mean() > 0.4  # the textured rest still has depth

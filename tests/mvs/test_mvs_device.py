"""Device selection and the single-frame entry point."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mannequin.curation.mvs import frame_depth, resolve_device


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")


def test_frame_depth_matches_clip_depth(scene, scene_depth, mvs_params):
    depth, confidence = frame_depth(scene.images, scene.cameras, 2, mvs_params, device="cpu")
    np.testing.assert_array_equal(confidence, scene_depth.confidence[2])
    np.testing.assert_array_equal(depth, scene_depth.depth[2])
    with pytest.raises(IndexError):
        frame_depth(scene.images, scene.cameras, len(scene.images), mvs_params)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_agrees_with_cpu(scene, scene_depth, mvs_params):
    depth, _ = frame_depth(scene.images, scene.cameras, 2, mvs_params, device="cuda")
    both = np.isfinite(depth) & np.isfinite(scene_depth.depth[2])
    assert both.mean() > 0.4
    np.testing.assert_allclose(depth[both], scene_depth.depth[2][both], rtol=0.02)

"""Tiny rendered clips with exact depth for the MVS tests (module-scoped: rendering and MVS run once)."""

from __future__ import annotations

import pytest

from mannequin.config.curate import MvsParams
from mannequin.curation.mvs import ClipDepth, clip_depth
from mannequin.sample.analytic import SceneClip, render_clip

WIDTH, HEIGHT, FRAMES = 96, 72, 6


@pytest.fixture(scope="session")
def scene() -> SceneClip:
    return render_clip(frames=FRAMES, width=WIDTH, height=HEIGHT, path="lateral", seed=3)


@pytest.fixture(scope="session")
def mvs_params() -> MvsParams:
    return MvsParams(planes=32)


@pytest.fixture(scope="session")
def scene_depth(scene: SceneClip, mvs_params: MvsParams) -> ClipDepth:
    return clip_depth(scene.images, scene.cameras, mvs_params, device="cpu")

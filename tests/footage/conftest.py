"""Fixtures of the real-footage tests: a rendered sample clip without poses (builders: :mod:`tests.helpers.footage`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mannequin.sample.dataset import render_clip, write_clip
from tests.helpers.footage import clean_plan


@pytest.fixture(scope="session")
def rendered_clip(tmp_path_factory) -> tuple[Path, Path, str]:
    """A clean rendered clip written without its poses.txt: (data root, clip folder, clip id)."""
    root = tmp_path_factory.mktemp("footage-sample")
    plan = clean_plan(1)
    write_clip(render_clip(plan), root)
    clip_dir = root / "clips" / plan.clip_id
    shutil.move(clip_dir / "poses.txt", root / f"{plan.clip_id}.poses.txt")
    return root, clip_dir, plan.clip_id

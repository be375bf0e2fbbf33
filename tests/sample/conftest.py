"""A tiny sample dataset rendered once per test session (64x48 px, 4-6 frames per clip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.sample.dataset import write_sample_data
from mannequin.sample.plan import ClipPlan

TINY = {"width": 64, "height": 48, "frames": (4, 6)}


@pytest.fixture(scope="session")
def tiny_options() -> dict:
    """The options ``tiny_dataset`` was written with (seed, clips and sizes; frozen people, no masks: the
    paper-like default is tested in ``tests/people``)."""
    return {"n_clips": 8, "seed": 11, "people": "frozen", **TINY}


@pytest.fixture(scope="session")
def tiny_dataset(tiny_options: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ClipPlan]]:
    """Eight clips: two defective and two clean unlabeled, two labeled, two test."""
    out = tmp_path_factory.mktemp("sample") / "data"
    plans = write_sample_data(out, progress=False, **tiny_options)
    return out, plans

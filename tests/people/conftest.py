"""A tiny paper-like sample dataset (``--people paper``), rendered once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.sample.dataset import write_sample_data
from mannequin.sample.plan import ClipPlan
from tests.helpers.people import PAPER


@pytest.fixture(scope="session")
def paper_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ClipPlan]]:
    out = tmp_path_factory.mktemp("paper") / "data"
    return out, write_sample_data(out, progress=False, **PAPER)

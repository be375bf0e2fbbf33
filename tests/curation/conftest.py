"""Fixtures of the curation tests (their builders: :mod:`tests.helpers.curation`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.config.curate import CurateParams
from tests.helpers.curation import tiny_curate_params, write_clean_data


@pytest.fixture(scope="session")
def clean_data(tmp_path_factory) -> Path:
    """Two clean rendered clips, one test clip; rendered once per session."""
    return write_clean_data(tmp_path_factory.mktemp("clean") / "data")


@pytest.fixture()
def tiny_params() -> CurateParams:
    """The real params.yaml composed with overrides for tiny clips (few frames, small images)."""
    return tiny_curate_params()

"""Fixtures of the real-depth tests: a synthetic castel-layout sequence (:mod:`tests.helpers.castel`) and the real
castel folder of Debian's visp-images-data where it is installed (GPL-2: read in place, never copied here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.ingest.castel import DEFAULT_CASTEL
from tests.helpers.castel import write_castel


@pytest.fixture
def castel_folder(tmp_path: Path) -> Path:
    return write_castel(tmp_path / "castel")


@pytest.fixture(scope="session")
def real_castel() -> Path:
    """Debian's castel folder; the test is skipped (with the install line) where the package is absent."""
    if not (DEFAULT_CASTEL / "castel").is_dir():
        pytest.skip(f"{DEFAULT_CASTEL} not installed (apt-get install visp-images-data; CI installs it)")
    return DEFAULT_CASTEL

"""Fixtures for the tests of bench/ modules."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def bench_module() -> Iterator[Callable[[str], ModuleType]]:
    """Imports a module of bench/ by name; bench/ is on ``sys.path`` for the test module's duration only."""
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH))

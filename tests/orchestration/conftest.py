"""Fixtures for the orchestration tests: a tiny git + DVC project per test, a Prefect test server per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.toy_project import make_toy_project


@pytest.fixture(scope="session")
def toy_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Built once: the plain toy project and the one with a flaky stage (copied per test)."""
    base = tmp_path_factory.mktemp("toy-templates")
    return {
        "plain": make_toy_project(base / "plain"),
        "flaky": make_toy_project(base / "flaky", flaky=True, retries=1, retry_delay_s=0.0),
    }


def _copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    return dest


@pytest.fixture
def dvc_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep DVC's site cache of the test repos inside tmp_path."""
    site = tmp_path / "dvc-site-cache"
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(site))
    return site


@pytest.fixture
def toy_repo(toy_templates: dict[str, Path], tmp_path: Path, dvc_state: Path) -> Path:
    """A fresh copy of the toy project: stages prep -> train@s1, train@s2; nothing reproduced yet."""
    return _copy(toy_templates["plain"], tmp_path / "toy")


@pytest.fixture
def flaky_repo(toy_templates: dict[str, Path], tmp_path: Path, dvc_state: Path) -> Path:
    """The toy project with a stage ``flaky`` between prep and train (fails as told by .dvc/tmp/flaky-fails)."""
    return _copy(toy_templates["flaky"], tmp_path / "toy-flaky")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect API (subprocess server, SQLite in a temp dir) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def pipeline_flow(prefect_server: None) -> Any:
    """The ``pipeline`` flow of flows/pipeline.py, run against the session's Prefect API."""
    from mannequin.cli.pipeline_commands import load_pipeline_flow

    return load_pipeline_flow()

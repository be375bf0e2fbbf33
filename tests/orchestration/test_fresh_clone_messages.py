"""A new user's first commands (issue 26, item 14): a missing data folder says how to get data, and Prefect's state
never lands in the caller's working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mannequin.env import offline_env

MAIN = "from mannequin.cli import main; main()"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}  # as a new user's shell has them
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "600"  # a new state database: migrations on first start
    return env


def _cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MAIN, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)  # fmt: skip


def test_a_missing_data_folder_says_how_to_get_data(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    proc = _cli(work, _env(tmp_path), "curate")
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("mannequin: error: data: data folder not found"), proc.stderr
    assert "mannequin sample-data data" in line and "make demo" in line


@pytest.mark.slow  # Prefect's temporary server, on a state database created for the test
def test_prefect_state_goes_to_the_user_cache_outside_a_project(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "d" / "clips").mkdir(parents=True)
    proc = _cli(work, _env(tmp_path), "curate", "--data", "d", "--out", "o", "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr == f"mannequin: error: {Path('d') / 'clips'}: no clip folders: nothing to curate\n"
    assert sorted(p.name for p in work.iterdir()) == ["d"]  # no .prefect/ in the caller's folder
    assert (tmp_path / "cache" / "mannequin" / "prefect").is_dir()


def test_inside_a_project_prefect_state_is_the_projects(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "project"
    (project / "data" / "clips").mkdir(parents=True)
    (project / "dvc.yaml").write_text("stages: {}\n")
    (project / "params.yaml").write_text("{}\n")
    assert offline_env(project / "data" / "clips")["PREFECT_HOME"] == str(project.resolve() / ".prefect")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert offline_env(tmp_path)["PREFECT_HOME"] == str(tmp_path / "cache" / "mannequin" / "prefect")


def test_the_prefect_home_is_made_with_its_parents(tmp_path: Path, monkeypatch) -> None:
    """Prefect makes only the last folder of its home: in a fresh user cache its state database could not open,
    and a curate waited out the whole server start-up timeout (600 s in the slow test above)."""
    from mannequin.env import configure_offline

    for key in [k for k in os.environ if k.startswith("PREFECT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh" / "cache"))
    configure_offline(tmp_path / "not-a-project")
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "fresh" / "cache" / "mannequin" / "prefect")
    assert (tmp_path / "fresh" / "cache" / "mannequin" / "prefect").is_dir()

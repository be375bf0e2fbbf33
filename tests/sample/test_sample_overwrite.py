"""``sample-data --overwrite`` replaces only a sample it wrote itself (issue 26, item 5)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mannequin.cli import app

TINY = ["--clips", "4", "--width", "32", "--height", "24", "--min-frames", "2", "--max-frames", "3", "--no-progress"]


def _digests(root: Path) -> dict[str, str]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _run(*args: str):
    return CliRunner().invoke(app, ["sample-data", *args])


def _real_data(root: Path) -> None:
    """A user's data folder: a real clip (frames and poses), its sensor depth, splits.csv."""
    (root / "clips" / "street-s000" / "frames").mkdir(parents=True)
    (root / "clips" / "street-s000" / "frames" / "000000.png").write_bytes(b"my only copy")
    (root / "clips" / "street-s000" / "poses.txt").write_text("my poses\n")
    (root / "depth" / "street-s000").mkdir(parents=True)
    (root / "depth" / "street-s000" / "000000.png").write_bytes(b"lidar")
    (root / "splits.csv").write_text("clip_id,split\nstreet-s000,unlabeled\n")


def test_overwrite_refuses_a_folder_of_real_clips(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _real_data(data)
    before = _digests(data)
    result = _run(str(data), *TINY, "--overwrite")
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("mannequin: error: ")
    assert "street-s000" in line and "not written by sample-data" in line, line
    assert _digests(data) == before


def test_overwrite_refuses_a_sample_with_a_users_clip_added(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(str(data), *TINY).exit_code == 0
    (data / "clips" / "mine").mkdir()
    (data / "clips" / "mine" / "poses.txt").write_text("ingested later\n")
    before = _digests(data)
    result = _run(str(data), *TINY, "--overwrite")
    assert result.exit_code == 2 and "mine" in result.stderr and "not written by sample-data" in result.stderr
    assert _digests(data) == before


def test_overwrite_replaces_its_own_sample(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(str(data), *TINY).exit_code == 0
    first = _digests(data)
    (data / "notes.txt").write_text("kept")  # not the sample's: left alone
    result = _run(str(data), *TINY, "--seed", "3", "--overwrite")
    assert result.exit_code == 0, result.output
    assert _digests(data) != first and (data / "notes.txt").read_text() == "kept"
    assert _run(str(data), *TINY, "--overwrite").exit_code == 0
    assert {k: v for k, v in _digests(data).items() if k != "notes.txt"} == first


@pytest.mark.parametrize("broken", ["sample_truth.csv"])
def test_overwrite_without_the_manifest_is_refused(tmp_path: Path, broken: str) -> None:
    data = tmp_path / "data"
    assert _run(str(data), *TINY).exit_code == 0
    (data / broken).unlink()
    result = _run(str(data), *TINY, "--overwrite")
    assert result.exit_code == 2 and "not written by sample-data" in result.stderr, result.stderr

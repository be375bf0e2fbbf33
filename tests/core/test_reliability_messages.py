"""Issue 12, items 8, 11 and 12: dot-leading clip ids, one-line CLI errors, ``--version``, quiet GX logs."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.cameras import Camera
from mannequin.clips.ids import is_valid_clip_id, validate_clip_id
from mannequin.clips.poses import write_poses
from mannequin.clips.video import write_video
from mannequin.errors import InputError

W, H = 32, 24


def write_clip(clip: Path, n: int = 3) -> Path:
    K = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1.0]])
    write_poses(clip / "poses.txt", [Camera(K, np.eye(3), np.array([0.1 * i, 0, 0]), W, H, i * 100_000)
                                     for i in range(n)], "reliability test clip")  # fmt: skip
    write_video(clip / "video.mp4", [np.full((H, W, 3), 40 * i, np.uint8) for i in range(n)], 10)
    return clip


# --------------------------------------------------------------------------- item 8: ids starting with a dot


@pytest.mark.parametrize("clip_id", [".hidden", "...", ".", "..", ".a.b"])
def test_ids_starting_with_a_dot_are_refused(clip_id: str) -> None:
    assert not is_valid_clip_id(clip_id)
    with pytest.raises(InputError, match=r"not starting with '\.'") as err:
        validate_clip_id(clip_id, f"data/clips/{clip_id}")
    assert err.value.code == "bad_clip_id"


def test_a_dot_clip_folder_gets_a_bad_clip_id_row_and_no_shard(tmp_path: Path) -> None:
    from mannequin.config.curate import CurateParams
    from mannequin.curation.curate import curate_clip, plan_curation
    from mannequin.curation.shards import list_shards

    data = tmp_path / "data"
    write_clip(data / "clips" / ".hidden")
    shutil.copytree(data / "clips" / ".hidden", data / "clips" / "...")
    (data / "splits.csv").write_text("clip_id,split\n")
    params = CurateParams()
    jobs, _ = plan_curation(data, params)
    assert {j.clip_id for j in jobs} == {".hidden", "..."}  # the folders are seen, not silently skipped
    for job in jobs:
        row = curate_clip(job, params, tmp_path / "curated", code="test")
        assert not row.accepted and row.reason.startswith(f"bad_clip_id: {job.clip_id}: clip id"), row.reason
    assert list_shards(tmp_path / "curated") == [] and not (tmp_path / "curated" / "shards").exists()


# --------------------------------------------------------------------------- item 11: one line, exit 2


def test_mvs_out_an_existing_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip")
    folder = tmp_path / "already_here"
    folder.mkdir()
    res = CliRunner().invoke(app, ["mvs", str(clip), "--frame", "0", "--out", str(folder)])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == f"mannequin: error: {folder}: is a folder; --out takes a file name such as depth.npz"
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("width", ["0", "-5", "15"])
def test_mvs_max_width_below_16_is_refused_alike(tmp_path: Path, width: str) -> None:
    clip = write_clip(tmp_path / "clip")
    res = CliRunner().invoke(app, ["mvs", str(clip), "--frame", "0", "--out", str(tmp_path / "d.npz"),
                                   "--max-width", width])  # fmt: skip
    assert res.exit_code == 2, res.output
    assert res.output.strip() == f"mannequin: error: --max-width: must be at least 16, got {width}"
    assert not (tmp_path / "d.npz").exists()


def test_version_prints_the_version() -> None:
    from mannequin import __version__

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output == f"{__version__}\n"


# --------------------------------------------------------------------------- item 12: no GX INFO lines


def test_gates_log_nothing_about_an_ephemeral_docs_site(tmp_path: Path, caplog) -> None:
    import great_expectations.expectations as E

    from mannequin.curation.gates import validate

    caplog.set_level(logging.INFO)  # as verbose as Prefect's console handler in a flow run
    df = pd.DataFrame({"clip_id": ["a", "b"]})
    result = validate([E.ExpectColumnValuesToNotBeNull(column="clip_id")], df, "probe", tmp_path)
    assert result.success and (tmp_path / "validation" / "probe.json").is_file()
    noisy = [r.getMessage() for r in caplog.records if r.name.startswith("great_expectations")
             and r.levelno >= logging.INFO and "docs site" in r.getMessage()]  # fmt: skip
    assert noisy == []

"""Every runner records a clip folder whose name breaks the clip-id rule as a ``bad_clip_id`` row and goes on
(issue 26, item 1): a space, a leading dot, the hidden leftover of a killed ingest."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mannequin.curation.table import read_clip_table
from tests.helpers.curation import copy_data

BAD_IDS = ("has space", ".hidden", ".street-s000.k3j4h5g6")


def _data(clean_data: Path, tmp_path: Path) -> Path:
    data = copy_data(clean_data, tmp_path / "data")
    for name in BAD_IDS:
        shutil.copytree(data / "clips" / "good_a", data / "clips" / name)
    return data


@pytest.mark.parametrize("runner", ["threads", "serial"])
def test_bad_clip_ids_are_rows_on_every_runner(clean_data, tiny_params, tmp_path, runner):
    data = _data(clean_data, tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"curate": {**tiny_params.model_dump(mode="json"), "runner": "threads"}}))
    out = tmp_path / "curated"
    args = ["curate", "--data", str(data), "--out", str(out), "--params", str(params), "--no-progress"]
    if runner == "serial":
        args += ["--runner", "serial"]
    proc = subprocess.run([sys.executable, "-c", "from mannequin.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    rows = read_clip_table(out / "clips.csv").set_index("clip_id")
    for name in BAD_IDS:
        assert rows.loc[name, "reason"].startswith("bad_clip_id: "), rows.loc[name, "reason"]
        assert not rows.loc[name, "accepted"]
    assert rows.loc["good_a", "accepted"] and rows.loc["good_b", "accepted"]
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["good_a", "good_b"]

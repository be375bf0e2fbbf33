"""Issue 12, items 11 and 12 (curation): one line for every splits.csv error and an empty data folder under every
runner, ``--runner`` named with all its choices, a splits.csv row without a clip folder warned of, a failed gate
printed once and with the run's summary, and ``mannequin pipeline`` guarding Prefect's temporary server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.curation.curate import plan_curation
from tests.helpers.curation import FRAMES, look_at_cameras, write_plain_clip, write_splits


def test_a_bogus_runner_names_the_option_and_every_choice(tmp_path):
    (tmp_path / "data" / "clips").mkdir(parents=True)
    res = CliRunner().invoke(app, ["curate", "--data", str(tmp_path / "data"), "--runner", "bogus"])
    assert res.exit_code == 2, res.output
    assert res.output.strip() == "mannequin: error: --runner: 'bogus' is not one of threads, dask, serial"


def test_an_empty_data_folder_is_one_clear_line(tmp_path):
    data = tmp_path / "data"
    (data / "clips").mkdir(parents=True)
    write_splits(data, {"a": "labeled"})
    res = CliRunner().invoke(
        app, ["curate", "--data", str(data), "--out", str(tmp_path / "o"), "--runner", "serial", "--no-progress"]
    )
    assert res.exit_code == 2, res.output
    assert res.output.strip() == f"mannequin: error: {data / 'clips'}: no clip folders: nothing to curate"


def test_a_splits_row_without_a_clip_folder_is_a_warning_naming_both(clean_data, tiny_params):
    lines: list[str] = []
    data = clean_data
    text = (data / "splits.csv").read_text()
    try:
        (data / "splits.csv").write_text(text + "ghost,labeled\n")
        jobs, _ = plan_curation(data, tiny_params, warn=lines.append)
    finally:
        (data / "splits.csv").write_text(text)
    assert [j.clip_id for j in jobs] == ["good_a", "good_b", "held_t"]  # the batch goes on
    assert lines == [f"{data / 'splits.csv'}: clip 'ghost' is listed but {data / 'clips' / 'ghost'} does not exist"]


def test_prefect_engine_tracebacks_of_bad_input_are_dropped():
    import logging

    from mannequin.errors import InputError
    from mannequin.stages.curate import drop_gate_failure_tracebacks

    try:
        raise InputError("data/splits.csv", "line 2: bad split", "bad_splits")
    except InputError:
        info = sys.exc_info()
    record = logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, "Encountered exception", (), info)
    assert not drop_gate_failure_tracebacks(record)


def test_pipeline_guards_prefects_temporary_server_before_the_flow_runs(tmp_path, monkeypatch):
    import mannequin.cli.pipeline_commands as pipeline_commands
    import mannequin.orchestration.local_server as local_server

    calls: list[str] = []
    monkeypatch.setattr(local_server, "guard_prefect_ephemeral_server", lambda: calls.append("guard"))

    def flow(**kwargs):
        calls.append("flow")
        return {"stages": [], "metrics": {}}

    monkeypatch.setattr(pipeline_commands, "load_pipeline_flow", lambda: flow)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    res = CliRunner().invoke(app, ["pipeline", "--repo", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert calls == ["guard", "flow"]


def curate(data: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(cwd / ".prefect")
    cmd = [sys.executable, "-c", "from mannequin.cli import main; main()", "curate", "--data", str(data), "--out",
           str(out), "--params", str(cwd / "params.yaml"), "--no-progress", "--runner", "threads"]  # fmt: skip
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def own_lines(stderr: str) -> list[str]:
    """stderr without Prefect's shutdown chatter (its events worker draining)."""
    return [ln for ln in stderr.splitlines() if "EventsWorker" not in ln]


@pytest.mark.slow  # three real curate runs, each starting Prefect's temporary server
def test_threads_runner_messages_are_the_serial_runners(tmp_path, tiny_params):
    import yaml

    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"curate": tiny_params.model_dump(mode="json")}))
    data = tmp_path / "data"
    (data / "clips" / "a").mkdir(parents=True)
    write_splits(data, {"a": "bogus"})
    res = curate(data, tmp_path / "o", tmp_path)
    assert res.returncode == 2, res.stderr
    assert own_lines(res.stderr) == [
        f"mannequin: error: {data / 'splits.csv'}: line 2: split 'bogus' is not one of unlabeled, labeled, test"
    ]

    (data / "clips" / "a").rmdir()
    write_splits(data, {"still": "unlabeled"})
    res = curate(data, tmp_path / "o", tmp_path)
    assert res.returncode == 2 and own_lines(res.stderr) == [
        f"mannequin: error: {data / 'clips'}: no clip folders: nothing to curate"
    ], res.stderr

    still = np.full((FRAMES, 48, 64, 3), 100, np.uint8)
    write_plain_clip(data, "still", still, look_at_cameras(FRAMES, shift=0.0))
    write_splits(data, {"still": "unlabeled", "ghost": "labeled"})
    res = curate(data, tmp_path / "o", tmp_path)
    assert res.returncode == 0, res.stderr  # few accepted clips are a warning, not a failed gate (issue 26)
    assert "0 of 1 candidate clips accepted" in res.stdout and "static_camera" in res.stdout  # the summary
    assert res.stderr.count("mannequin: warning: 0 of 1 candidate clips accepted (0%)") == 1, res.stderr  # once
    assert "Traceback" not in res.stderr
    assert f"mannequin: warning: {data / 'splits.csv'}: clip 'ghost' is listed" in res.stderr

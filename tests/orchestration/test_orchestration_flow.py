"""The Prefect pipeline flow on a toy DVC project, against a real (temporary) Prefect API."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mannequin.orchestration import StageFailed
from mannequin.orchestration.dvc_runner import dvc_env

# A Prefect API subprocess takes 10-40 s to start on the shared 2-core machines: CI runs these.
pytestmark = pytest.mark.slow


def _read_artifact(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return str(max(found, key=lambda a: a.created).data) if found else ""


def test_second_run_is_all_skipped_by_dvc(pipeline_flow: Any, toy_repo: Path) -> None:
    first = pipeline_flow(repo=str(toy_repo))
    assert [(s["stage"], s["status"]) for s in first["stages"]] == [
        ("prep", "ran"),
        ("train@s1", "ran"),
        ("train@s2", "ran"),
    ]
    assert first["metrics"] == {"out/m-s1.json": {"score": 42, "size": 14}, "out/m-s2.json": {"score": 43, "size": 14}}
    lock_before = (toy_repo / "dvc.lock").read_text()

    start = time.perf_counter()
    second = pipeline_flow(repo=str(toy_repo))
    flow_seconds = time.perf_counter() - start
    assert [s["status"] for s in second["stages"]] == ["skipped"] * 3
    assert (toy_repo / "dvc.lock").read_text() == lock_before

    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=toy_repo, env=dvc_env(toy_repo), capture_output=True, text=True
    )
    repro_seconds = time.perf_counter() - start
    assert out.returncode == 0 and "Running stage" not in out.stdout
    print(f"\ncached pipeline flow (3 stages): {flow_seconds:.2f} s; no-op dvc repro: {repro_seconds:.2f} s")

    artifact = _read_artifact("mannequin-pipeline-metrics")
    assert "| out/m-s2.json | 43 | 14 |" in artifact
    assert "| train@s1 | skipped |" in artifact


def test_transient_failure_is_retried_and_succeeds(pipeline_flow: Any, flaky_repo: Path) -> None:
    (flaky_repo / ".dvc" / "tmp").mkdir(exist_ok=True)
    (flaky_repo / ".dvc" / "tmp" / "flaky-fails").write_text("1")  # fail the first attempt only
    result = pipeline_flow(repo=str(flaky_repo), targets=["flaky"], retries=1, retry_delay_s=0)
    assert [(s["stage"], s["status"]) for s in result["stages"]] == [("prep", "ran"), ("flaky", "ran")]
    assert (flaky_repo / ".dvc" / "tmp" / "flaky-count").read_text() == "2"
    assert (flaky_repo / "out" / "flaky.txt").read_text() == "ok after 1 failures\n"


def test_stage_that_keeps_failing_stops_the_flow(pipeline_flow: Any, flaky_repo: Path) -> None:
    (flaky_repo / ".dvc" / "tmp").mkdir(exist_ok=True)
    (flaky_repo / ".dvc" / "tmp" / "flaky-fails").write_text("-1")  # always fail
    with pytest.raises(StageFailed) as info:
        pipeline_flow(repo=str(flaky_repo))  # retries: 1 from the toy params.yaml
    assert info.value.stage == "flaky"
    assert "stage 'flaky' failed" in str(info.value)
    assert "flaky: failing on purpose (attempt 2)" in str(info.value)  # the log tail of the last attempt
    assert (flaky_repo / "out" / "prep.txt").read_text() == "frozen\n" * 2  # earlier output intact
    assert not (flaky_repo / "out" / "m-s1.json").exists()  # later stages never ran


def test_cli_runs_the_flow_and_reports_failures(prefect_server: None, flaky_repo: Path) -> None:
    from mannequin.cli import app

    runner = CliRunner()
    (flaky_repo / ".dvc" / "tmp").mkdir(exist_ok=True)
    (flaky_repo / ".dvc" / "tmp" / "flaky-fails").write_text("-1")
    failed = runner.invoke(app, ["pipeline", "--repo", str(flaky_repo), "--retries", "0"])
    assert failed.exit_code == 1
    assert "mannequin: error: stage 'flaky' failed" in failed.output
    assert "Traceback" not in failed.output

    (flaky_repo / ".dvc" / "tmp" / "flaky-fails").write_text("0")
    done = runner.invoke(app, ["pipeline", "--repo", str(flaky_repo), "--stage", "train@s1"])
    assert done.exit_code == 0, done.output
    assert "prep" in done.output and "skipped" in done.output  # prep ran in the failed run above
    # issue 12: a line as each stage starts and ends, and a summary that fits 80 columns (one value a line here)
    assert "train@s1: running" in done.output and "train@s1: ran in " in done.output
    summary = done.output[done.output.index("Summary metrics") :]
    assert summary.startswith("Summary metrics\n\nout/m-s1.json\n  score  42\n  size   14\n")

"""One stage through `dvc repro --single-item`: ran, then skipped by DVC; a failure names the stage and its log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.errors import InputError
from mannequin.orchestration import StageFailed, experiment_run, metrics_show, run_stage, stage_up_to_date


def test_run_stage_then_dvc_skips_it(toy_repo: Path) -> None:
    first = run_stage(toy_repo, "prep")
    assert first.status == "ran"
    assert (toy_repo / "out" / "prep.txt").read_text() == "frozen\n" * 2
    assert "Running stage 'prep'" in Path(first.log_path).read_text()
    assert Path(first.log_path).parent == toy_repo / ".dvc" / "tmp" / "pipeline-logs"
    assert stage_up_to_date(toy_repo, "prep") and not stage_up_to_date(toy_repo, "train@s1")
    second = run_stage(toy_repo, "prep")  # DVC's status, in process: no dvc start-up
    assert second.status == "skipped"
    assert "up to date (dvc status)" in Path(second.log_path).read_text()
    third = run_stage(toy_repo, "prep", precheck=False)  # DVC's repro itself says it skips
    assert third.status == "skipped"
    assert "Stage 'prep' didn't change, skipping" in Path(third.log_path).read_text()
    assert run_stage(toy_repo, "prep", force=True).status == "ran"


def test_foreach_stage_and_metrics(toy_repo: Path) -> None:
    run_stage(toy_repo, "prep")
    assert run_stage(toy_repo, "train@s2").status == "ran"
    # score = scale (3) * len("frozen\n" * 2) (14) + 1 for s2
    assert json.loads((toy_repo / "out" / "m-s2.json").read_text()) == {"score": 43, "size": 14}
    assert metrics_show(toy_repo) == {"out/m-s2.json": {"score": 43, "size": 14}}


def test_failing_stage_raises_with_name_and_log_tail(flaky_repo: Path) -> None:
    run_stage(flaky_repo, "prep")
    (flaky_repo / ".dvc" / "tmp" / "flaky-fails").write_text("-1")
    with pytest.raises(StageFailed) as info:
        run_stage(flaky_repo, "flaky")
    assert info.value.stage == "flaky"
    message = str(info.value)
    assert message.startswith("stage 'flaky' failed with exit code")
    assert "flaky: failing on purpose (attempt 1)" in message
    assert (flaky_repo / "out" / "prep.txt").exists()  # the finished stage's output stays


def test_experiment_name_is_checked(toy_repo: Path) -> None:
    with pytest.raises(InputError, match="experiment name"):
        experiment_run(toy_repo, "bad name; rm -rf /")

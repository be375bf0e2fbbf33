"""Prefect tasks over DVC: one ``dvc repro --single-item`` per stage, a ``dvc`` command, a ``dvc exp run``.

Plain wrappers of :mod:`mannequin.orchestration.dvc_runner`; the flow that orders them is
:mod:`mannequin.stages.pipeline`.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from mannequin.orchestration.dvc_runner import StageResult, dvc_command, experiment_run, run_stage


@task(name="dvc-stage", task_run_name="{stage}", cache_policy=NO_CACHE, persist_result=False)
def reproduce_stage(repo: str, stage: str, force: bool = False) -> dict[str, Any]:
    """``dvc repro --single-item STAGE``; returns ``StageResult.as_dict()`` (status ran/skipped/restored).

    One line on stderr as the stage starts and one as it ends, with its time: a long pipeline shows progress.
    """
    print(f"{stage}: running", file=sys.stderr, flush=True)
    result: StageResult = run_stage(repo, stage, force=force)
    print(f"{stage}: {result.status} in {result.seconds:.1f} s", file=sys.stderr, flush=True)
    get_run_logger().info("stage %s: %s in %.2f s (log: %s)", stage, result.status, result.seconds, result.log_path)
    return result.as_dict()


@task(name="dvc", task_run_name="dvc-{command}", cache_policy=NO_CACHE, persist_result=False)
def dvc_step(repo: str, command: str, args: list[str]) -> str:
    """One ``dvc`` command (pull, push) as a task; returns its output."""
    output = dvc_command(repo, [command, *args], what=f"dvc {command}")
    get_run_logger().info("dvc %s: %s", command, output.strip().splitlines()[-1:] or ["done"])
    return output


@task(name="dvc-experiment", task_run_name="exp-{name}", cache_policy=NO_CACHE, persist_result=False)
def experiment_step(repo: str, name: str, set_params: list[str], targets: list[str], force: bool) -> str:
    """``dvc exp run --name NAME``: the whole DAG in one DVC process."""
    return experiment_run(repo, name, set_params=set_params, targets=targets, force=force)

"""The Prefect curate flow: one task per clip, fanned out on threads or a Dask cluster.

Thin wiring only: the loop is :func:`mannequin.curation.curate.curate_jobs` (the one the serial runner uses),
given Prefect tasks to map the clips over; the work is :func:`mannequin.curation.curate.curate_clip`.

- One task per clip, so one bad clip fails alone: an unexpected error is retried
  (``curate.retries``) and then recorded as a ``curation_error`` row; the others go on.
- Each clip's result is cached on (clip content hash, split, override, curate params digest,
  code version), persisted as JSON under ``<out>/.cache``: re-running with nothing changed executes
  no clip task; adding or changing one clip executes one. An accepted clip whose shard is missing
  (deleted, or ``dvc repro`` cleared the outputs) is recomputed with the cache refreshed.
- Task runner from params: ``ThreadPoolTaskRunner(curate.workers)`` or prefect-dask's
  ``DaskTaskRunner``: a local cluster bound to 127.0.0.1, or ``curate.dask_address``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cloudpickle
from prefect import flow, get_run_logger, task
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from mannequin.config.curate import CurateParams
from mannequin.curation.curate import (
    ClipJob,
    ClipResult,
    MapJobs,
    code_version,
    curate_clip,
    curate_jobs,
    error_row,
    params_digest,
    plan_curation,
)
from mannequin.curation.table import ClipRow

# Dask workers receive the task functions by value, so they need not import this module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

CACHE_DIR = ".cache"


def clip_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """Cache key of one clip task: everything that decides its result, nothing else."""
    job = ClipJob(**parameters["job"])
    return job.cache_key(parameters["digest"], parameters["code"])


@task(name="curate-clip", cache_key_fn=clip_cache_key, persist_result=True, result_serializer="json")
def curate_clip_task(job: dict, params: dict, out: str, digest: str, code: str) -> dict:
    """Curate one clip; the row (JSON) is the cached result, the shard is written beside it."""
    start = time.perf_counter()
    row = curate_clip(ClipJob(**job), CurateParams.model_validate(params), out, code=code)
    seconds = round(time.perf_counter() - start, 3)
    verdict = "accepted" if row.accepted else f"rejected ({row.reason})"
    get_run_logger().info("%s: %s in %.1f s", row.clip_id, verdict, seconds)
    return {"row": row.to_dict(), "seconds": seconds, "pid": os.getpid()}


def _keep_malloc_default_in_new_workers() -> None:
    """Start local Dask workers without the nanny's ``MALLOC_TRIM_THRESHOLD_=65536``.

    That setting makes glibc hand large tensor buffers back to the OS after every use; the MVS re-faults them on
    the next and a clip took 2.5x as long in a worker (3.5 s against 1.3 s, bench/bench_curation.py).
    """
    import dask

    environ = dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}
    dask.config.set(
        {"distributed.nanny.pre-spawn-environ": {k: v for k, v in environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}}
    )


def make_task_runner(params: CurateParams):
    """Threads (default) or Dask, as ``curate.runner`` says; every server binds to 127.0.0.1."""
    if params.runner == "threads":
        return ThreadPoolTaskRunner(max_workers=params.workers)
    from prefect_dask import DaskTaskRunner

    if params.dask_address:
        return DaskTaskRunner(address=params.dask_address)
    _keep_malloc_default_in_new_workers()
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": params.workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": "127.0.0.1:0",
            "host": "127.0.0.1",
        }
    )


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="clip", desc="curate", file=sys.stderr, dynamic_ncols=True)


def prefect_map(clip_task, params: dict, out: str, digest: str, code: str, retries: int) -> MapJobs:
    """Run clip jobs as Prefect tasks on the flow's task runner; a task that fails after retries is a failed row."""
    logger = get_run_logger()

    def run(jobs: list[ClipJob], refresh: bool) -> Iterator[tuple[ClipJob, ClipResult]]:
        if refresh:
            logger.info("recomputing %d accepted clips whose shard is missing", len(jobs))
        futures = {}
        for job in jobs:
            t = clip_task.with_options(task_run_name=f"curate-{job.clip_id}", refresh_cache=refresh or None)
            futures[t.submit(job=asdict(job), params=params, out=out, digest=digest, code=code)] = job
        for fut in as_completed(list(futures)):
            job = futures[fut]
            fut.wait()  # sets the final state (otherwise .state asks the API, which may lag)
            state = fut.state
            if state.is_completed():
                value = fut.result()
                row = ClipRow.from_dict(value["row"])
                if state.name == "Cached":
                    yield job, ClipResult(row, "cached", value["seconds"])
                else:
                    yield job, ClipResult(row, "executed", value["seconds"], value.get("pid", 0))
            else:
                error = fut.result(raise_on_failure=False)
                logger.error("%s: failed after %d retries: %s", job.clip_id, retries, error)
                yield job, ClipResult(error_row(job, error), "failed")

    return run


@flow(name="curate")
def curate_flow(data: str, out: str, params: dict, progress: bool = False) -> dict:
    """Curate every clip of ``data/clips`` into ``out``; raises ``GateFailure`` when a data-quality gate fails."""
    logger = get_run_logger()
    started = time.perf_counter()
    p = CurateParams.model_validate(params)
    jobs, overrides = plan_curation(data, p)
    digest, code = params_digest(p), code_version()
    clip_task = curate_clip_task.with_options(
        retries=p.retries, retry_delay_seconds=p.retry_delay_s, result_storage=Path(out).resolve() / CACHE_DIR
    )
    logger.info("curating %d clips with the %s runner (params %s, code %s)", len(jobs), p.runner, digest, code)
    map_jobs = prefect_map(clip_task, params, out, digest, code, p.retries)
    bar = _progress_bar(len(jobs), progress)

    def tick(clip_id: str) -> None:
        bar.update(1)
        bar.set_postfix_str(clip_id)
        if bar.n >= len(jobs):
            bar.close()

    try:
        outcome = curate_jobs(
            jobs, overrides, out, p, map_jobs, p.runner, tick if bar is not None else None, started=started
        )
    finally:
        if bar is not None:
            bar.close()
    for clip_id in outcome.summary["unknown_override_ids"]:
        logger.warning("override for %s matches no clip in %s/clips", clip_id, data)
    for gate in outcome.gates:
        (logger.info if gate.success else logger.error)(gate.summary())
    report = {"summary": outcome.summary, "timings": outcome.timings, "gates": [g.summary() for g in outcome.gates]}
    if not outcome.passed:
        from mannequin.curation.gates import GateFailure

        raise GateFailure(outcome.gates)
    return report


def run_curate(data: str, out: str, params: dict, progress: bool = False) -> dict:
    """Run :func:`curate_flow` on the task runner that ``params`` choose (threads or Dask)."""
    runner = make_task_runner(CurateParams.model_validate(params))
    return curate_flow.with_options(task_runner=runner)(data=data, out=out, params=params, progress=progress)

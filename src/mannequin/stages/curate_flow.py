"""The Prefect curate flow: clips in small batches, one task per batch, fanned out on threads or a Dask cluster.

The loop is :func:`mannequin.curation.curate.curate_jobs` (the one the serial runner uses), given Prefect tasks to
map the clips over; the work is :func:`mannequin.curation.curate.curate_clip`; batching, retries and the task runner
are :mod:`mannequin.orchestration.task_batches` and :mod:`mannequin.orchestration.task_runners`.

- A few clips per task (:func:`~mannequin.orchestration.task_batches.batch_size`), so that Prefect's cost per task is
  shared by a batch (bench/bench_curation.py). Prefect's ``quote`` is not used for the params: under the Dask runner
  the task received the wrapper, not the dict. One bad clip still fails alone: a clip that raises in its batch is
  retried alone (``curate.retries``) and then recorded as a ``curation_error`` row; the others go on.
- Each clip's result is cached on (clip content hash, split, override, curate params digest,
  code version) by :class:`mannequin.curation.clip_cache.ClipCache`: plain JSON records under ``<out>/.cache``,
  read as validated data. Prefect's own result persistence and cache are off, so Prefect never deserialises a
  file of the output folder. Re-running with nothing changed executes no clip task; adding or changing one clip
  executes one. An accepted clip whose shard is missing (deleted, or ``dvc repro`` cleared the outputs) is
  recomputed. A refused record is recomputed with a one-line warning.
- A full output disk (:class:`mannequin.curation.shards.OutOfSpace`) is not retried and stops the run: no
  further batch starts (batches are submitted ``curate.workers`` at a time), a running batch stops at its own
  full disk, and the error names the shard.
- Task runner from params: threads (``curate.workers``) or Dask: a local cluster bound to 127.0.0.1, or
  ``curate.dask_address``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from mannequin.config.curate import CurateParams
from mannequin.curation.clip_cache import CACHE_DIR, ClipCache
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
    warn_line,
)
from mannequin.curation.gates import GateFailure
from mannequin.curation.kernel_threads import single_threaded_kernels
from mannequin.curation.shards import OutOfSpace
from mannequin.orchestration.task_batches import batch_size, run_alone, run_in_batches
from mannequin.orchestration.task_runners import make_task_runner


def _curate_one(job: dict, params: CurateParams, out: str, code: str) -> dict:
    """One clip's result as the flow reads it: ``{"row", "seconds", "pid"}``, or ``{"no_space": path}``."""
    single_threaded_kernels()  # one clip per core: its kernels take no second thread from the other workers
    start = time.perf_counter()
    try:
        row = curate_clip(ClipJob(**job), params, out, code=code)
    except OutOfSpace as exc:
        return {"no_space": exc.path}
    seconds = round(time.perf_counter() - start, 3)
    verdict = "accepted" if row.accepted else f"rejected ({row.reason})"
    get_run_logger().info("%s: %s in %.1f s", row.clip_id, verdict, seconds)
    return {"row": row, "seconds": seconds, "pid": os.getpid()}


@task(name="curate-clip", cache_policy=NO_CACHE, persist_result=False)
def curate_clip_task(job: dict, params: dict, out: str, code: str) -> dict:
    """Curate one clip (a clip that failed in its batch, retried alone); the shard is written under ``out``.

    A full disk is returned, not raised (``{"no_space": path}``): Prefect neither retries it nor logs a traceback.
    """
    return _curate_one(job, CurateParams.model_validate(params), out, code)


@task(name="curate-clips", cache_policy=NO_CACHE, persist_result=False)
def curate_batch_task(jobs: list[dict], params: dict, out: str, code: str) -> list[dict]:
    """Curate a few clips in one task, so that a task's orchestration (its states, its submission, its result)
    is paid once per batch, not per clip; one result per job, in order.

    A clip that raises is answered ``{"error": exc}`` and the batch goes on (the flow retries that clip alone);
    a full disk ends the batch (its ``{"no_space": path}`` is the last result).
    """
    p = CurateParams.model_validate(params)
    results: list[dict] = []
    for job in jobs:
        try:
            results.append(_curate_one(job, p, out, code))
        except Exception as exc:  # one clip's failure is its own: the flow retries it alone
            results.append({"error": exc})
        if "no_space" in results[-1]:
            break
    return results


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="clip", desc="curate", file=sys.stderr, dynamic_ncols=True)


def prefect_map(tasks: tuple, params: dict, out: str, digest: str, code: str, retries: int, workers: int) -> MapJobs:
    """Run clip jobs as Prefect tasks on the flow's task runner; a clip that fails after retries is a failed row.

    ``tasks`` is ``(batch task, single-clip task)``. A job whose JSON record is in the cache is answered from it
    without a task (unless ``refresh``); the others go in batches of :func:`batch_size` clips, at most ``workers``
    batches at a time, and each finished clip's row is recorded in the cache. A clip that raised in its batch is
    run again alone by the single-clip task, with ``retries - 1`` Prefect retries (so ``1 + retries`` attempts in
    all). On a full disk no further batch starts; batches already running stop at their own first full-disk
    error (finished shards are whole), and :class:`OutOfSpace` is raised.
    """
    batch_task, clip_task = tasks
    logger = get_run_logger()
    cache = ClipCache(Path(out) / CACHE_DIR, warn=warn_line)

    def batch_name(batch: list[tuple[ClipJob, str]]) -> str:
        return "curate-" + batch[0][0].clip_id + (f"+{len(batch) - 1}" if len(batch) > 1 else "")

    def batch_arguments(batch: list[tuple[ClipJob, str]]) -> dict:
        return {"jobs": [asdict(job) for job, _ in batch], "params": params, "out": out, "code": code}

    def run(jobs: list[ClipJob], refresh: bool) -> Iterator[tuple[ClipJob, ClipResult]]:
        if refresh:
            logger.info("recomputing %d accepted clips whose shard is missing", len(jobs))
        todo = []
        for job in jobs:
            key = job.cache_key(digest, code)
            record = None if refresh else cache.get(key)
            if record is None:
                todo.append((job, key))
            else:
                yield job, ClipResult(record.row.row(), "cached", record.seconds)
        size = batch_size(len(todo), workers)
        batches = run_in_batches(batch_task, todo, size, workers, batch_arguments, batch_name, _no_space)
        for (job, key), value in batches:
            if "no_space" in value:
                raise OutOfSpace(value["no_space"])
            if "error" in value:
                value = run_alone(clip_task, retries, value["error"], f"curate-{job.clip_id}", job=asdict(job),
                                  params=params, out=out, code=code)  # fmt: skip
                if "no_space" in value:
                    raise OutOfSpace(value["no_space"])
            if "error" in value:
                logger.error("%s: failed after %d retries: %s", job.clip_id, retries, value["error"])
                yield job, ClipResult(error_row(job, value["error"]), "failed")
                continue
            cache.put(key, value["row"], value["seconds"])
            yield job, ClipResult(value["row"], "executed", value["seconds"], value.get("pid", 0))

    return run


def _no_space(value: dict) -> bool:
    return "no_space" in value


@flow(name="curate")
def curate_flow(data: str, out: str, params: dict, progress: bool = False) -> dict:
    """Curate every clip of ``data/clips`` into ``out``; raises ``GateFailure`` when a data-quality gate fails."""
    logger = get_run_logger()
    started = time.perf_counter()
    p = CurateParams.model_validate(params)
    jobs, overrides = plan_curation(data, p)
    digest, code = params_digest(p), code_version()
    clip_task = curate_clip_task.with_options(retry_delay_seconds=p.retry_delay_s)
    logger.info("curating %d clips with the %s runner (params %s, code %s)", len(jobs), p.runner, digest, code)
    map_jobs = prefect_map((curate_batch_task, clip_task), params, out, digest, code, p.retries, p.workers)
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
    for gate in outcome.gates:  # a failed one is the GateFailure raised below: its message, printed once
        logger.info(gate.summary().splitlines()[0])
    report = {"summary": outcome.summary, "timings": outcome.timings, "gates": [g.summary() for g in outcome.gates]}
    if not outcome.passed:
        raise GateFailure(outcome.gates, outcome.summary, outcome.timings)
    return report


def run_curate(data: str, out: str, params: dict, progress: bool = False) -> dict:
    """Run :func:`curate_flow` on the task runner that ``params`` choose (threads or Dask)."""
    runner = make_task_runner(CurateParams.model_validate(params))
    return curate_flow.with_options(task_runner=runner)(data=data, out=out, params=params, progress=progress)

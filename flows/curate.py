"""The Prefect curate flow: clips in small batches, one task per batch, fanned out on threads or a Dask cluster.

Thin wiring only: the loop is :func:`mannequin.curation.curate.curate_jobs` (the one the serial runner uses),
given Prefect tasks to map the clips over; the work is :func:`mannequin.curation.curate.curate_clip`.

- A few clips per task (:func:`batch_size`: up to 8, at least 4 tasks per worker), so that Prefect's cost per
  task (submission, state changes, result) is shared by a batch (bench/bench_curation.py). Prefect's ``quote``
  is not used for the params: under the Dask runner the task received the wrapper, not the dict. One bad clip
  still fails alone: a clip that raises in its batch is retried alone
  (``curate.retries``) and then recorded as a ``curation_error`` row; the others go on.
- Each clip's result is cached on (clip content hash, split, override, curate params digest,
  code version) by :class:`mannequin.curation.clip_cache.ClipCache`: plain JSON records under ``<out>/.cache``,
  read as validated data. Prefect's own result persistence and cache are off, so Prefect never deserialises a
  file of the output folder. Re-running with nothing changed executes no clip task; adding or changing one clip
  executes one. An accepted clip whose shard is missing (deleted, or ``dvc repro`` cleared the outputs) is
  recomputed. A refused record is recomputed with a one-line warning.
- A full output disk (:class:`mannequin.curation.shards.OutOfSpace`) is not retried and stops the run: no
  further batch starts (batches are submitted ``curate.workers`` at a time), a running batch stops at its own
  full disk, and the error names the shard.
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

import cloudpickle
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

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
from mannequin.curation.kernel_threads import single_threaded_kernels
from mannequin.curation.shards import OutOfSpace

# Most clips one task holds (see batch_size).
MAX_BATCH = 8

# Dask workers receive the task functions by value, so they need not import this module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


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


def batch_size(clips: int, workers: int) -> int:
    """Clips per task: at least four tasks per worker (a late batch delays the end by little), at most
    :data:`MAX_BATCH` clips per task (progress and the cache are updated as each batch ends)."""
    return max(1, min(MAX_BATCH, clips // (4 * workers)))


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

    def submit_batches(jobs: list[tuple[ClipJob, str]]) -> Iterator[tuple[ClipJob, str, dict]]:
        size = batch_size(len(jobs), workers)
        batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        batches.reverse()
        running: dict = {}
        while batches or running:
            while batches and len(running) < workers:
                batch = batches.pop()
                name = batch[0][0].clip_id + (f"+{len(batch) - 1}" if len(batch) > 1 else "")
                fut = batch_task.with_options(task_run_name=f"curate-{name}").submit(
                    jobs=[asdict(job) for job, _ in batch], params=params, out=out, code=code
                )
                running[fut] = batch
            fut = next(as_completed(list(running)))
            batch = running.pop(fut)
            fut.wait()  # sets the final state (otherwise .state asks the API, which may lag)
            if fut.state.is_completed():
                values = fut.result()
            else:  # the batch task itself failed (not one of its clips): each clip is retried alone
                values = [{"error": fut.result(raise_on_failure=False)}] * len(batch)
            for (job, key), value in zip(batch, values, strict=False):
                if "no_space" in value:
                    for other in running:  # batches already running end at their own full disk
                        other.wait()
                    raise OutOfSpace(value["no_space"])
                yield job, key, value

    def retry_alone(job: ClipJob, error: BaseException) -> dict:
        if retries < 1:
            return {"error": error}
        single = clip_task.with_options(task_run_name=f"curate-{job.clip_id}", retries=retries - 1)
        fut = single.submit(job=asdict(job), params=params, out=out, code=code)
        fut.wait()
        if fut.state.is_completed():
            return fut.result()
        return {"error": fut.result(raise_on_failure=False)}

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
        for job, key, value in submit_batches(todo):
            if "error" in value:
                value = retry_alone(job, value["error"])
                if "no_space" in value:
                    raise OutOfSpace(value["no_space"])
            if "error" in value:
                logger.error("%s: failed after %d retries: %s", job.clip_id, retries, value["error"])
                yield job, ClipResult(error_row(job, value["error"]), "failed")
                continue
            cache.put(key, value["row"], value["seconds"])
            yield job, ClipResult(value["row"], "executed", value["seconds"], value.get("pid", 0))

    return run


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
        from mannequin.curation.gates import GateFailure

        raise GateFailure(outcome.gates, outcome.summary, outcome.timings)
    return report


def run_curate(data: str, out: str, params: dict, progress: bool = False) -> dict:
    """Run :func:`curate_flow` on the task runner that ``params`` choose (threads or Dask)."""
    runner = make_task_runner(CurateParams.model_validate(params))
    return curate_flow.with_options(task_runner=runner)(data=data, out=out, params=params, progress=progress)

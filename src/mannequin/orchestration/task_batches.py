"""Many small jobs as few Prefect tasks: batches submitted a few at a time, a failed job retried alone.

Prefect's cost per task (submission, state changes, result) is shared by the jobs of a batch
(bench/bench_curation.py); a job that fails inside its batch is run again alone, with retries, so one bad job still
fails alone. Values are plain dicts: a batch task answers one per job, ``{"error": exc}`` for a job that raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

#: Most jobs one task holds (see :func:`batch_size`).
MAX_BATCH = 8

T = TypeVar("T")


def batch_size(jobs: int, workers: int) -> int:
    """Jobs per task: at least four tasks per worker (a late batch delays the end by little), at most
    :data:`MAX_BATCH` jobs per task (progress and caches are updated as each batch ends)."""
    return max(1, min(MAX_BATCH, jobs // (4 * workers)))


def run_in_batches(
    batch_task: Any,
    jobs: Sequence[T],
    size: int,
    workers: int,
    arguments: Callable[[list[T]], dict[str, Any]],
    name: Callable[[list[T]], str],
    stop: Callable[[dict], bool] = lambda value: False,
) -> Iterator[tuple[T, dict]]:
    """Run ``jobs`` in batches of ``size`` with ``batch_task(**arguments(batch))`` (task run name ``name(batch)``),
    at most ``workers`` batches at a time, in order of submission; yield each job with its value as its batch ends.

    A batch task that itself failed answers ``{"error": exc}`` for each of its jobs. A value for which ``stop`` is
    true ends the run: the batches still running are waited for (each ends at its own stop), then it is yielded last.
    """
    from prefect.futures import as_completed

    batches = [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]
    batches.reverse()
    running: dict = {}
    while batches or running:
        while batches and len(running) < workers:
            batch = batches.pop()
            fut = batch_task.with_options(task_run_name=name(batch)).submit(**arguments(batch))
            running[fut] = batch
        fut = next(as_completed(list(running)))
        batch = running.pop(fut)
        fut.wait()  # sets the final state (otherwise .state asks the API, which may lag)
        if fut.state.is_completed():
            values = fut.result()
        else:  # the batch task itself failed (not one of its jobs): each job is retried alone
            values = [{"error": fut.result(raise_on_failure=False)}] * len(batch)
        for job, value in zip(batch, values, strict=False):
            if stop(value):
                for other in running:
                    other.wait()
                yield job, value
                return
            yield job, value


def run_alone(task: Any, retries: int, error: BaseException, name: str, **arguments: Any) -> dict:
    """A job that failed in its batch, run again alone by ``task`` with ``retries - 1`` Prefect retries (so
    ``1 + retries`` attempts in all); ``{"error": exc}`` when it fails again, or at once when ``retries`` is 0."""
    if retries < 1:
        return {"error": error}
    fut = task.with_options(task_run_name=name, retries=retries - 1).submit(**arguments)
    fut.wait()
    if fut.state.is_completed():
        return fut.result()
    return {"error": fut.result(raise_on_failure=False)}

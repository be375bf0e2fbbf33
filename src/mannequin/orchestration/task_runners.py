"""Prefect task runners for fan-out work (threads, or a Dask cluster with every server on 127.0.0.1), and the
loggers Prefect's engine reports exceptions on."""

from __future__ import annotations

from typing import Any

from mannequin.config.curate import CurateParams

#: Prefect's engine logs every exception a flow or task raises, with its traceback, on these loggers.
PREFECT_ENGINE_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


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


def make_task_runner(params: CurateParams) -> Any:
    """The task runner ``params.runner`` names: ``ThreadPoolTaskRunner(params.workers)`` for ``threads``; for ``dask``
    prefect-dask's ``DaskTaskRunner`` on the scheduler at ``params.dask_address``, or on a local cluster of
    ``params.workers`` one-thread processes, every server (dashboard included) bound to 127.0.0.1."""
    if params.runner == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

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

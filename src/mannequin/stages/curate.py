"""The curation stages of ``dvc.yaml`` (``curate``, and ``curate-all``: every readable clip, decisions ignored):
``mannequin curate``.

Every clip of the data folder curated into the output folder, by the Prefect curate flow
(:mod:`mannequin.stages.curate_flow`) on the runner ``curate.runner`` names, or one after the other without Prefect
(``serial``: :func:`mannequin.curation.curate.curate_dataset`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from mannequin.clips.splits import require_data_dir
from mannequin.config import Params
from mannequin.config.curate import CurateParams
from mannequin.curation.gates import GateFailure
from mannequin.errors import InputError, require_output_dir
from mannequin.orchestration.task_runners import PREFECT_ENGINE_LOGGERS

#: the runners of ``mannequin curate --runner``: the ``curate.runner`` choices, and ``serial`` (no Prefect)
RUNNERS = (*get_args(CurateParams.model_fields["runner"].annotation), "serial")


@dataclass(frozen=True)
class CurateResult:
    """What a curation run reports: its summary (None when it stopped before one), timings, gates and whether every
    gate passed (``gates`` holds the gate results, failed ones included)."""

    summary: dict | None
    timings: dict | None = None
    gates: list = field(default_factory=list)
    passed: bool = True


def load_flow() -> Callable[..., dict]:
    """:func:`mannequin.stages.curate_flow.run_curate`, imported on use: Prefect is slow to import, and its log level
    is read when it is imported."""
    from mannequin.stages.curate_flow import run_curate

    return run_curate


def drop_gate_failure_tracebacks(record: logging.LogRecord) -> bool:
    """Log filter: a failed gate and bad input (an ``InputError``: a bad splits.csv, a full disk) are reported by
    the CLI in a line or a few, not by Prefect's engine with a traceback."""
    return not (record.exc_info and isinstance(record.exc_info[1], GateFailure | InputError))


def run(
    params: Params,
    data: str | Path | None = None,
    out: str | Path | None = None,
    serial: bool = False,
    progress: bool = True,
    verbose: bool = False,
) -> CurateResult:
    """Curate every clip of ``data`` (default ``curate.data``) into ``out`` (default ``curate.out``).

    ``serial``: one clip after the other in this process, without Prefect; else the Prefect flow on the runner of
    ``curate.runner`` (Prefect's logs shown with ``verbose`` only).
    """
    p = params.curate
    data, out = require_data_dir(data or p.data), require_output_dir(out or p.out)
    if serial:
        return _serial(p, data, out, progress)

    from mannequin.env import quiet_prefect_logs

    if not verbose:
        quiet_prefect_logs("WARNING")
    flow = load_flow()
    from mannequin.orchestration.local_server import guard_prefect_ephemeral_server

    guard_prefect_ephemeral_server()  # Prefect's temporary server must not outlive a killed curate
    for name in PREFECT_ENGINE_LOGGERS:
        logging.getLogger(name).addFilter(drop_gate_failure_tracebacks)
    try:
        report = flow(data=str(data), out=str(out), params=p.model_dump(mode="json"), progress=progress)
    except GateFailure as exc:
        return CurateResult(exc.summary, exc.timings, exc.gates, passed=False)
    return CurateResult(report["summary"], report["timings"])


def _serial(p: CurateParams, data: Path, out: Path, progress: bool) -> CurateResult:
    from mannequin.curation.curate import curate_dataset

    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="clip", desc="curate", file=sys.stderr)
    outcome = curate_dataset(data, out, p, progress=(lambda _c: bar.update(1)) if bar is not None else None)
    if bar is not None:
        bar.close()
    return CurateResult(outcome.summary, None, outcome.gates, outcome.passed)

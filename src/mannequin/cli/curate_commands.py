"""Commands of the curate stage: ``mannequin curate`` runs the Prefect curate flow (``flows.curate``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, get_args

import typer

from mannequin.cli.app import app, user_errors
from mannequin.config.curate import CurateParams
from mannequin.errors import InputError

#: ``--runner``: the ``curate.runner`` choices, and ``serial`` (the library's plain loop, no Prefect).
RUNNERS = (*get_args(CurateParams.model_fields["runner"].annotation), "serial")


def load_curate_flow() -> Any:
    """``run_curate`` of the ``flows.curate`` package: the curate flow on the task runner its params choose.

    Imported here, not at the top, so that commands other than ``curate`` do not pay for importing Prefect.
    """
    return import_flow("curate").run_curate


def import_flow(name: str) -> Any:
    """The module ``flows.<name>``; an install that lacks the ``flows`` package is one clear error."""
    import importlib

    try:
        return importlib.import_module(f"flows.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("flows", f"flows.{name}"):
            raise
        problem = "the flows package is not installed (reinstall mannequin: pip install -e .)"
        raise InputError(f"flows/{name}.py", problem, "missing_flow") from None


def print_summary(summary: dict, timings: dict | None = None) -> None:
    """The outcome in a few lines: counts by reason, accepted fraction, coverage, throughput."""
    print(
        f"{summary['accepted']} of {summary['candidates']} candidate clips accepted "
        f"({summary['accepted_fraction']:.0%}), {summary['held_out_test']} held-out test clips not curated, "
        f"mean coverage {summary['mean_coverage']:.0%}"
    )
    for code, n in summary["by_reason"].items():
        print(f"  {code:<24} {n}")
    if timings:
        print(
            f"{timings['clips']} clips in {timings['wall_s']:.1f} s ({timings['clips_per_s']:.2f} clips/s, "
            f"{timings.get('executed', timings['clips'])} computed, {timings.get('cached', 0)} cached)"
        )


@app.command("curate")
@user_errors
def curate_command(
    data: Path = typer.Option(None, "--data", help="The data folder (clips/, splits.csv). Default: curate.data."),
    out: Path = typer.Option(None, "--out", help="Where curated/ outputs go. Default: curate.out."),
    params_file: Path = typer.Option(Path("params.yaml"), "--params", help="params.yaml (missing: defaults)."),
    runner: str = typer.Option(None, "--runner", help="threads | dask | serial (no Prefect). Default: curate.runner."),
    workers: int = typer.Option(None, "--workers", min=1, help="Parallel clips. Default: curate.workers."),
    dask_address: str = typer.Option(
        None, "--dask-address", help="An existing Dask scheduler (implies --runner dask)."
    ),
    device: str = typer.Option(None, "--device", help="auto | cpu | cuda. Default: curate.device."),
    overrides: Path = typer.Option(None, "--overrides", help="Human overrides YAML. Default: curate.overrides."),
    accept_all: bool = typer.Option(
        None,
        "--accept-all/--no-accept-all",
        help="Ablation: keep every readable non-test clip [curate.accept_all].",
    ),
    reuse: Path = typer.Option(
        None, "--reuse", help="A curated folder of the same data whose matching shards are copied [curate.reuse]."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's per-clip logs."),
) -> None:
    """Curate every clip in DATA/clips: MVS depth, quality scores, accept/reject, shards and data-quality gates.

    Writes OUT/clips.csv, OUT/summary.json, OUT/timings.json, OUT/shards/ and OUT/validation/.
    Exit 2 on bad input (params, data folder, overrides), 1 when a data-quality gate fails.
    """
    from mannequin.clips.splits import require_data_dir
    from mannequin.config import load_params

    if runner not in (None, *RUNNERS):
        raise InputError("--runner", f"{runner!r} is not one of {', '.join(RUNNERS)}", "bad_option")
    cli: dict[str, Any] = {}
    for key, value in (
        ("curate.runner", "dask" if dask_address and runner is None else runner),
        ("curate.workers", workers),
        ("curate.dask_address", dask_address),
        ("curate.device", device),
        ("curate.overrides", str(overrides) if overrides else None),
        ("curate.accept_all", accept_all),
        ("curate.reuse", str(reuse) if reuse else None),
    ):
        if value is not None and not (key == "curate.runner" and value == "serial"):
            cli[key] = value
    params = load_params(params_file, cli).curate
    data = Path(data or params.data)
    out = Path(out or params.out)
    require_data_dir(data)

    if runner == "serial":
        from mannequin.curation.curate import curate_dataset

        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(unit="clip", desc="curate", file=sys.stderr)
        outcome = curate_dataset(data, out, params, progress=(lambda _c: bar.update(1)) if bar is not None else None)
        if bar is not None:
            bar.close()
        print_summary(outcome.summary)
        if not outcome.passed:
            _gate_exit(outcome.gates)
        return

    from mannequin.env import quiet_prefect_logs

    if not verbose:
        quiet_prefect_logs("WARNING")
    flow = load_curate_flow()
    from mannequin.orchestration.local_server import guard_prefect_ephemeral_server

    guard_prefect_ephemeral_server()  # Prefect's temporary server must not outlive a killed curate
    from mannequin.curation.gates import GateFailure

    for name in PREFECT_ENGINE_LOGGERS:
        logging.getLogger(name).addFilter(drop_gate_failure_tracebacks)
    try:
        report = flow(data=str(data), out=str(out), params=params.model_dump(mode="json"), progress=progress)
    except GateFailure as exc:
        if exc.summary is not None:
            print_summary(exc.summary, exc.timings)
        _gate_exit(exc.gates)
    print_summary(report["summary"], report["timings"])


#: Prefect's engine logs every exception a flow or task raises, with its traceback, on these loggers.
PREFECT_ENGINE_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def drop_gate_failure_tracebacks(record: logging.LogRecord) -> bool:
    """Log filter: a failed gate and bad input (an ``InputError``: a bad splits.csv, a full disk) are reported by
    the CLI in a line or a few, not by Prefect's engine with a traceback."""
    from mannequin.curation.gates import GateFailure

    return not (record.exc_info and isinstance(record.exc_info[1], GateFailure | InputError))


def _gate_exit(gates: list) -> None:
    for gate in gates:
        if not gate.success:
            for line in gate.summary().splitlines():
                print(f"mannequin: error: {line.strip()}" if not line.startswith(" ") else line, file=sys.stderr)
    raise typer.Exit(1)

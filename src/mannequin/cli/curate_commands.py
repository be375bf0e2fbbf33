"""Commands of the curate stage: ``mannequin curate`` runs :mod:`mannequin.stages.curate` (the Prefect curate flow)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from mannequin.cli.app import app, user_errors
from mannequin.errors import InputError


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
    from mannequin.stages import curate as stage
    from mannequin.stages.params import load_params

    if runner not in (None, *stage.RUNNERS):
        raise InputError("--runner", f"{runner!r} is not one of {', '.join(stage.RUNNERS)}", "bad_option")
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
    params = load_params(params_file, cli)
    result = stage.run(params, data, out, serial=runner == "serial", progress=progress, verbose=verbose)
    if result.summary is not None:
        print_summary(result.summary, result.timings)
    if not result.passed:
        _gate_exit(result.gates)


def _gate_exit(gates: list) -> None:
    for gate in gates:
        if not gate.success:
            for line in gate.summary().splitlines():
                print(f"mannequin: error: {line.strip()}" if not line.startswith(" ") else line, file=sys.stderr)
    raise typer.Exit(1)

"""Commands of the pipeline stage: ``mannequin pipeline`` runs the Prefect flow over the DVC stages."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import typer

from mannequin.cli.app import app, fail, user_errors
from mannequin.errors import InputError


def load_pipeline_flow() -> Any:
    """The flow :func:`mannequin.stages.pipeline.pipeline` (imported on use: Prefect is slow to import, and its log
    level is read when it is imported)."""
    from mannequin.stages.pipeline import pipeline

    return pipeline


@app.command("pipeline")
@user_errors
def pipeline_command(
    repo: Path = typer.Option(Path("."), "--repo", help="The DVC project to run (its dvc.yaml and params.yaml)."),
    stage: list[str] = typer.Option(None, "--stage", "-s", help="Run only what these stages need (repeatable)."),
    force: bool = typer.Option(False, "--force", "-f", help="Re-run the stages even if DVC has them cached."),
    pull: bool = typer.Option(False, "--pull", help="dvc pull before running."),
    push: bool = typer.Option(False, "--push", help="dvc push after running."),
    exp: str = typer.Option(None, "--exp", help="Run the DAG as a DVC experiment with this name (dvc exp run)."),
    set_param: list[str] = typer.Option(None, "--set-param", "-S", help="With --exp: override a param, k=v."),
    retries: int = typer.Option(None, "--retries", min=0, help="Retries per stage (default: pipeline.retries)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's logs."),
) -> None:
    """Run the dvc.yaml stages as Prefect tasks through DVC (cached stages are skipped by DVC).

    Prefect runs against PREFECT_API_URL when set, otherwise a temporary local server.
    """
    from mannequin.env import quiet_prefect_logs

    if not (repo / "dvc.yaml").is_file():
        raise InputError(repo / "dvc.yaml", "file not found (is --repo a DVC project?)", "missing_dvc_yaml")
    if set_param and not exp:
        raise InputError("--set-param", "needs --exp NAME (params are overridden in a DVC experiment)", "bad_option")
    if not verbose:
        quiet_prefect_logs("CRITICAL")  # our own summary and error below replace Prefect's console logs

    from mannequin.orchestration import DvcCommandFailed
    from mannequin.orchestration.metrics_table import metrics_text
    from mannequin.orchestration.task_runners import PREFECT_ENGINE_LOGGERS

    flow = load_pipeline_flow()
    from mannequin.orchestration.local_server import guard_prefect_ephemeral_server

    guard_prefect_ephemeral_server()  # Prefect's temporary server must not outlive a killed pipeline
    # the level above is read once, when Prefect is imported: a process that imported it already keeps its own,
    # so the engine's loggers are also quietened for this run (a failed stage is reported below, with its log tail)
    engine = [logging.getLogger(name) for name in PREFECT_ENGINE_LOGGERS]
    levels = [logger.level for logger in engine]
    if not verbose:
        for logger in engine:
            logger.setLevel(logging.CRITICAL)
    try:
        result = flow(
            repo=str(repo),
            targets=list(stage or []) or None,
            retries=retries,
            pull=pull,
            push=push,
            experiment_name=exp,
            set_params=list(set_param or []) or None,
            force=force,
        )
    except DvcCommandFailed as exc:
        head, _, tail = str(exc).partition("\n")
        print(f"mannequin: error: {head}", file=sys.stderr)
        for line in tail.splitlines():
            print(f"  | {line}", file=sys.stderr)
        raise typer.Exit(1) from None
    except ValueError as exc:
        fail(str(exc))
    finally:
        for logger, level in zip(engine, levels, strict=True):
            logger.setLevel(level)
    for item in result["stages"]:
        print(f"{item['stage']:<32} {item['status']:<9} {item['seconds']:7.2f} s")
    print()
    print(metrics_text(result["metrics"], width=max(shutil.get_terminal_size((80, 24)).columns, 60)), end="")


@app.command("data-digest")
@user_errors
def data_digest_command(
    data: Path = typer.Argument(Path("data"), help="The data folder."),
    out: Path = typer.Option(..., "--out", help="The JSON file to write: file count and sha256 of DATA."),
) -> None:
    """Write a content digest of DATA: the dvc.yaml stages depend on it instead of walking DATA each."""
    from mannequin.stages import data_digest as stage

    digest = stage.run(data, out)
    print(f"{data}: {digest['files']} files, sha256 {str(digest['sha256'])[:16]} -> {out}")

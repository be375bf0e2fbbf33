"""The Prefect flow over the DVC pipeline: one task per dvc.yaml stage, run through DVC, in DVC's order.

DVC stays the cache of record: each task is ``dvc repro --single-item <stage>``, so an unchanged stage
is skipped by DVC (the task reports ``skipped``). The order comes from DVC's own graph. Stages run one
at a time (DVC locks the repository). The tasks are :mod:`mannequin.orchestration.dvc_tasks`; the deployment
entry point is ``flows/pipeline.py`` (prefect.yaml), ``mannequin pipeline`` runs it directly.

Two ways to run the DAG:

- default: one Prefect task per stage, with retries per stage and a per-stage status;
- ``experiment_name``: the whole DAG as one ``dvc exp run --name NAME [-S k=v]`` (one task). The
  result is a DVC experiment (a git ref, listed by ``dvc exp show``) and the workspace holds its
  outputs, but Prefect sees one task: no per-stage retries or statuses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from mannequin.config import parse_params, read_params_yaml
from mannequin.config.pipeline import PipelineParams
from mannequin.orchestration.dvc_graph import metrics_show, stage_order
from mannequin.orchestration.dvc_tasks import dvc_step, experiment_step, reproduce_stage
from mannequin.orchestration.metrics_table import metrics_markdown

ARTIFACT_KEY = "mannequin-pipeline-metrics"


def read_pipeline_params(path: str | Path) -> PipelineParams:
    """Only the ``pipeline`` block of a project's params file (other blocks are not looked at); defaults if absent.

    The file is the project's default params file, so its absence means defaults.
    """
    raw = read_params_yaml(path, missing_ok=True)
    return parse_params({"pipeline": raw.get("pipeline") or {}}, path).pipeline


@flow(name="mannequin-pipeline", log_prints=False, validate_parameters=True)
def pipeline(
    repo: str = ".",
    targets: list[str] | None = None,
    retries: int | None = None,
    retry_delay_s: float | None = None,
    pull: bool = False,
    push: bool = False,
    experiment_name: str | None = None,
    set_params: list[str] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Run the dvc.yaml stages of ``repo`` (or only what ``targets`` need) as Prefect tasks through DVC.

    ``retries``/``retry_delay_s`` default to ``pipeline.retries``/``pipeline.retry_delay_s`` of
    ``<repo>/params.yaml``. ``pull`` runs ``dvc pull`` first, ``push`` runs ``dvc push`` last.
    ``experiment_name`` (with optional ``set_params``, e.g. ``["pretrain.epochs=2"]``) runs the DAG as
    one DVC experiment instead; ``{date}``/``{time}`` in it become the UTC start (``nightly-{date}``).
    Returns ``{"stages": [...], "metrics": {...}}``.
    """
    root = str(Path(repo).resolve())
    settings = read_pipeline_params(Path(root) / "params.yaml")
    n_retries = settings.retries if retries is None else retries
    delay = settings.retry_delay_s if retry_delay_s is None else retry_delay_s
    logger = get_run_logger()

    if pull:
        dvc_step(root, "pull", [])
    stages: list[dict[str, Any]] = []
    if experiment_name:
        name = expand_name(experiment_name)
        logger.info("running the DAG as DVC experiment %s", name)
        experiment_step.with_options(retries=n_retries, retry_delay_seconds=delay)(
            root, name, list(set_params or []), list(targets or []), force
        )
    else:
        if set_params:
            raise ValueError("set_params needs experiment_name (dvc exp run -S); edit params.yaml for a plain run")
        order = stage_order(root, targets)
        logger.info("DVC stage order: %s", ", ".join(order))
        stage_task = reproduce_stage.with_options(retries=n_retries, retry_delay_seconds=delay)
        for stage in order:  # one at a time: DVC locks the repository
            stages.append(stage_task(root, stage, force))
    if push:
        dvc_step(root, "push", [])

    metrics = metrics_show(root)
    summary = _stage_lines(stages) + "\n" + metrics_markdown(metrics)
    create_markdown_artifact(summary, key=ARTIFACT_KEY, description="mannequin pipeline: stages and summary metrics")
    return {"stages": stages, "metrics": metrics}


def expand_name(template: str, now: datetime | None = None) -> str:
    """``{date}`` and ``{time}`` in an experiment name become the UTC run start (one name per nightly run)."""
    now = now or datetime.now(UTC)
    return template.replace("{date}", now.strftime("%Y%m%d")).replace("{time}", now.strftime("%H%M%S"))


def _stage_lines(stages: list[dict[str, Any]]) -> str:
    if not stages:
        return ""
    rows = [f"| {s['stage']} | {s['status']} | {s['seconds']:.2f} |" for s in stages]
    return "\n".join(["## Stages", "", "| stage | status | seconds |", "|---|---|---|", *rows, ""])

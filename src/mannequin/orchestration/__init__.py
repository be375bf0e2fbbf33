"""Running the DVC pipeline stage by stage: plain helpers the Prefect flows wrap (no Prefect here)."""

from __future__ import annotations

from mannequin.orchestration.dvc_graph import metrics_show, stage_order, stage_up_to_date
from mannequin.orchestration.dvc_runner import (
    DvcCommandFailed,
    StageFailed,
    StageResult,
    dvc_command,
    experiment_run,
    run_stage,
)
from mannequin.orchestration.metrics_table import flatten_metrics, metrics_markdown

__all__ = [
    "DvcCommandFailed",
    "StageFailed",
    "StageResult",
    "dvc_command",
    "experiment_run",
    "flatten_metrics",
    "metrics_markdown",
    "metrics_show",
    "run_stage",
    "stage_order",
    "stage_up_to_date",
]

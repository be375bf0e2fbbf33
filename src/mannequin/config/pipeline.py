"""The ``pipeline`` block of params.yaml: the Prefect flow over the DVC DAG."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from mannequin.config.base import Block


class PipelineParams(Block):
    """Retries of the pipeline flow's stage tasks (flows/pipeline.py).

    The nightly schedule (cron, timezone) and the run parameters live in prefect.yaml, the one place
    Prefect reads them from.
    """

    retries: int = Field(1, ge=0, description="extra attempts of a failed stage")
    retry_delay_s: float = Field(2.0, ge=0, description="seconds between attempts")


def read_pipeline_params(path: str | Path) -> PipelineParams:
    """Only the ``pipeline`` block of a project's params file (other blocks are not looked at); defaults if absent.

    The file is the project's default params file, so its absence means defaults.
    """
    from mannequin.config import parse_params, read_params_yaml

    raw = read_params_yaml(path, missing_ok=True)
    return parse_params({"pipeline": raw.get("pipeline") or {}}, path).pipeline

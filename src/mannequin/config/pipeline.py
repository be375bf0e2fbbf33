"""The ``pipeline`` block of params.yaml: the Prefect flow over the DVC DAG."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field

from mannequin.config.base import Block
from mannequin.errors import InputError


class PipelineParams(Block):
    """Retries of the pipeline flow's stage tasks (flows/pipeline.py).

    The nightly schedule (cron, timezone) and the run parameters live in prefect.yaml, the one place
    Prefect reads them from.
    """

    retries: int = Field(1, ge=0, description="extra attempts of a failed stage")
    retry_delay_s: float = Field(2.0, ge=0, description="seconds between attempts")


def read_pipeline_params(path: str | Path) -> PipelineParams:
    """Only the ``pipeline`` block of a params file (other blocks are not looked at); defaults if absent."""
    from mannequin.config import parse_params

    path = Path(path)
    if not path.exists():
        return PipelineParams()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise InputError(path, "not valid YAML", "bad_params") from None
    if not isinstance(raw, dict):
        raise InputError(path, "expected a mapping at the top level", "bad_params")
    return parse_params({"pipeline": raw.get("pipeline") or {}}, path).pipeline

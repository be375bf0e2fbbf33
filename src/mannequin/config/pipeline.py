"""The ``pipeline`` block of params.yaml: the Prefect flow over the DVC DAG."""

from __future__ import annotations

from pydantic import Field

from mannequin.config.base import Block


class PipelineParams(Block):
    """Retries and scheduling of the pipeline flow."""

    retries: int = Field(1, ge=0)
    retry_delay_s: float = Field(2.0, ge=0)
    schedule: str = "0 2 * * *"

"""The ``pipeline`` block of params.yaml: the Prefect flow over the DVC DAG."""

from __future__ import annotations

from pydantic import Field

from mannequin.config.base import Block


class PipelineParams(Block):
    """Retries of the pipeline flow's stage tasks (:mod:`mannequin.stages.pipeline`).

    The nightly schedule (cron, timezone) and the run parameters live in prefect.yaml, the one place
    Prefect reads them from.
    """

    retries: int = Field(1, ge=0, description="extra attempts of a failed stage")
    retry_delay_s: float = Field(2.0, ge=0, description="seconds between attempts")

"""The ``evaluate`` and ``report`` blocks of params.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mannequin.config.base import Block

Alignment = Literal["none", "median", "lstsq"]


class EvaluateParams(Block):
    """Scoring models on held-out test clips."""

    data: str = "data"
    models: str = "models"
    out: str = "metrics"
    max_depth: float = Field(10.0, gt=0)
    min_depth: float = Field(1e-3, gt=0)
    alignment: dict[str, Alignment] = {"finetune": "none", "pretrain": "median"}


class ReportParams(Block):
    """The summary table, label-efficiency plot and curation audit."""

    metrics: str = "metrics"
    out: str = "reports"
    examples: int = Field(3, ge=1)

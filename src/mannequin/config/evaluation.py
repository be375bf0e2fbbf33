"""The ``evaluate`` and ``report`` blocks of params.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mannequin.config.base import Block

Alignment = Literal["none", "median", "lstsq", "lstsq_depth"]


class EvaluateParams(Block):
    """Scoring models on held-out test clips.

    ``alignment`` maps a model kind (``finetune``, ``pretrain``) or a full model name (``pretrain-mvs``) to the
    alignment applied before scoring; a name wins over a kind; a model matching neither is scored as is (``none``).
    ``examples`` test frames are saved for the report's picture; with ``example_mvs`` their MVS target is computed
    with ``curate.mvs`` for that picture (test clips are never curated; costs one plane sweep per example).
    With ``people``, the test clips' parallax input is computed (``curate.mvs``, one source view: about a second
    per frame on a CPU), ``rgb+parallax`` models are scored with it, and every model and the raw parallax depth are
    scored on human, non-human and all pixels of the moving- and frozen-people clips (``<out>/people/``).
    """

    data: str = "data"
    models: str = "models"
    curated: str = "curated"
    out: str = "metrics"
    min_depth: float = Field(1e-3, gt=0)
    max_depth: float = Field(10.0, gt=0)
    alignment: dict[str, Alignment] = Field(default_factory=lambda: {"finetune": "none", "pretrain": "median"})
    batch_size: int = Field(8, ge=1)
    examples: int = Field(3, ge=0)
    example_mvs: bool = True
    people: bool = True

    @model_validator(mode="after")
    def _range(self) -> EvaluateParams:
        if self.min_depth >= self.max_depth:
            raise ValueError(f"min_depth ({self.min_depth}) must be below max_depth ({self.max_depth})")
        return self


class ReportParams(Block):
    """The summary table, label-efficiency plot, example picture and curation audit.

    ``reason_defects`` maps a curation reject code (the part of ``clips.csv``'s ``reason`` before the colon) to the
    sample-data defect it is meant to catch, for the per-defect precision of the audit; ``None`` means the built-in
    map of ``mannequin.evaluation.audit.DEFAULT_REASON_DEFECTS``. ``claim_init`` and ``claim_min_reduction`` state the
    project's claim checked in the summary: at the smallest budget, that init's abs_rel is at least that fraction
    below scratch's. ``compared`` is ``make compare``'s report folder (params.yaml: ``compare/report``; None: none):
    when it holds ``pretexts_compared.json``, the summary gains the "Pretexts compared" section. It is not a DVC
    dependency (``make compare`` runs apart from the DAG, and reruns the report itself). ``real_depth`` likewise is
    ``make real-depth``'s folder (params.yaml: ``real``): when it holds ``real_depth.json``, the summary gains the
    "Real depth" section.
    """

    metrics: str = "metrics"
    out: str = "reports"
    data: str = "data"
    curated: str = "curated"
    compared: str | None = None
    real_depth: str | None = None
    examples: int = Field(3, ge=0)
    claim_init: str = "mvs"
    claim_min_reduction: float = Field(0.2, ge=0, le=1)
    audit_min_depth: float = Field(1e-3, gt=0)
    audit_max_depth: float = Field(100.0, gt=0)
    reason_defects: dict[str, str] | None = None

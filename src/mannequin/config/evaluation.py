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
    With ``people``, the test clips' parallax input is computed (``curate.mvs`` with
    ``curate.masks.parallax_sources`` source views: a second or two per frame on a CPU), ``rgb+parallax`` models are
    scored with it, and every model and the raw parallax depth are scored on human, non-human and all pixels of the
    moving- and frozen-people clips (``<out>/people/``).
    """

    data: str = Field("data", description="the data folder: test clips, their sensor depth and masks")
    models: str = Field("models", description="the models scored: every model folder under pretrain/ and finetune/")
    curated: str = Field("curated", description="curation outputs (estimated poses of test clips without poses.txt)")
    out: str = Field("metrics", description="one <model>.json per model, and people/")
    min_depth: float = Field(1e-3, gt=0, description="true depth below it is not scored; predictions are clamped")
    max_depth: float = Field(10.0, gt=0, description="true depth above it is not scored; predictions are clamped")
    alignment: dict[str, Alignment] = Field(
        default_factory=lambda: {"finetune": "none", "pretrain": "median"},
        description="model kind or name -> none | median | lstsq | lstsq_depth, applied before scoring",
    )
    batch_size: int = Field(8, ge=1, description="frames per forward pass")
    examples: int = Field(3, ge=0, description="test frames saved for the report's example picture")
    example_mvs: bool = Field(True, description="compute the examples' MVS target for that picture")
    people: bool = Field(True, description="score human, non-human and all pixels of moving- and frozen-people clips")

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

    metrics: str = Field("metrics", description="the evaluate stage's output")
    out: str = Field("reports", description="summary.md, summary.json and plots/")
    data: str = Field("data", description="the data folder (the audit reads sample_truth.csv and truth/)")
    curated: str = Field("curated", description="curation outputs (the audit reads clips.csv)")
    compared: str | None = Field(None, description="make compare's report folder; adds 'Pretexts compared'")
    real_depth: str | None = Field(None, description="make real-depth's folder; adds 'Real depth'")
    examples: int = Field(3, ge=0, description="example frames in the report's picture")
    claim_init: str = Field("mvs", description="the init whose claim is checked against scratch")
    claim_min_reduction: float = Field(
        0.2, ge=0, le=1, description="the claim: at the smallest budget, abs_rel at least this fraction below scratch"
    )
    audit_min_depth: float = Field(1e-3, gt=0, description="the curation audit scores true depth above this")
    audit_max_depth: float = Field(100.0, gt=0, description="the curation audit scores true depth below this")
    reason_defects: dict[str, str] | None = Field(
        None, description="reject code -> sample defect it should catch; null: the built-in map"
    )

"""The ``curate`` block of params.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mannequin.config.base import Block


class MvsParams(Block):
    """Plane-sweep multi-view stereo."""

    planes: int = Field(48, ge=4)
    num_sources: int = Field(4, ge=1)
    best_k: int = Field(2, ge=1)
    min_angle_deg: float = Field(1.0, gt=0)
    max_angle_deg: float = Field(30.0, gt=0)
    window: int = Field(5, ge=3)
    confidence_threshold: float = Field(0.5, ge=0, le=1)
    geometric_consistency: bool = True


class QualityParams(Block):
    """Clip acceptance thresholds."""

    min_parallax_deg: float = Field(1.0, ge=0)
    min_sharpness: float = Field(0.0, ge=0)
    max_inconsistent_fraction: float = Field(0.2, ge=0, le=1)
    min_coverage: float = Field(0.3, ge=0, le=1)


class GateParams(Block):
    """Data-quality gate floors."""

    min_accepted_fraction: float = Field(0.3, ge=0, le=1)
    min_frame_coverage: float = Field(0.05, ge=0, le=1)


class CurateParams(Block):
    """Curation: decode, poses, MVS depth and confidence, quality scores, decisions, gates."""

    data: str = "data"
    out: str = "curated"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_width: int = Field(160, ge=16)
    max_frames: int = Field(24, ge=2)
    overrides: str | None = None
    runner: Literal["threads", "dask"] = "threads"
    workers: int = Field(2, ge=1)
    dask_address: str | None = None
    retries: int = Field(1, ge=0)
    mvs: MvsParams = MvsParams()
    quality: QualityParams = QualityParams()
    gates: GateParams = GateParams()

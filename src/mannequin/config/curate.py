"""The ``curate`` block of params.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mannequin.config.base import Block
from mannequin.config.masks import MaskParams
from mannequin.config.sfm import SfmParams


class MvsParams(Block):
    """Plane-sweep multi-view stereo (mannequin.curation.mvs)."""

    planes: int = Field(48, ge=4, description="fronto-parallel planes, uniform in inverse depth")
    num_sources: int = Field(4, ge=1, description="source views per reference frame")
    best_k: int = Field(2, ge=1, description="matching scores averaged over the best k source views")
    min_angle_deg: float = Field(1.0, gt=0, description="smallest triangulation angle of a source view")
    max_angle_deg: float = Field(30.0, gt=0, description="largest triangulation angle of a source view")
    window: int = Field(5, ge=3, description="ZNCC window side, pixels (odd)")
    confidence_threshold: float = Field(0.5, ge=0, le=1, description="pixels below it are NaN")
    geometric_consistency: bool = True
    consistency_max_reproj_px: float = Field(1.5, gt=0, description="forward-backward reprojection error bound")
    consistency_max_rel_depth: float = Field(0.05, gt=0, description="forward-backward relative depth error bound")
    min_texture: float = Field(0.003, ge=0, description="windows with a smaller intensity std (0..1) are unconfident")
    max_features: int = Field(800, ge=16, description="sparse SIFT features per frame for the depth range")
    depth_margin: float = Field(0.25, ge=0, description="relative margin added around the sparse depth range")
    aggregation: Literal["none", "sgm"] = Field("sgm", description="cost aggregation before winner-take-all")
    sgm_p1: float = Field(0.03, ge=0, description="SGM penalty of a one-plane step (cost units, cost in [0,1])")
    sgm_p2: float = Field(0.25, ge=0, description="SGM penalty of a larger jump")
    sgm_paths: Literal[4, 8] = Field(4, description="SGM path directions: rows and columns (4), and diagonals (8)")
    backend: Literal["auto", "numba", "torch"] = Field(
        "auto", description="sweep and SGM code: compiled numba on the CPU, torch (CPU or CUDA); auto picks by device"
    )

    @model_validator(mode="after")
    def _check_mvs(self) -> MvsParams:
        if self.window % 2 == 0:
            raise ValueError(f"window must be odd, got {self.window}")
        if self.backend == "torch" and self.sgm_paths != 4:
            raise ValueError("the torch backend aggregates over 4 SGM paths only")
        if self.max_angle_deg <= self.min_angle_deg:
            raise ValueError("max_angle_deg must be larger than min_angle_deg")
        return self


class QualityParams(Block):
    """Clip acceptance thresholds. Every score is scale-free (angles, fractions, normalised sharpness)."""

    min_frames: int = Field(3, ge=2)
    max_pose_jump: float = Field(8.0, gt=1)
    min_translation_ratio: float = Field(1e-6, ge=0)
    min_sharpness: float = Field(0.55, ge=0, le=1)
    min_parallax_deg: float = Field(1.0, ge=0)
    max_inconsistent_fraction: float = Field(0.3, ge=0, le=1)
    max_disagreement_fraction: float = Field(0.6, ge=0, le=1)
    max_motion_fraction: float = Field(
        0.01, ge=0, le=1, description="motion evidence between distant frames (mannequin.curation.motion)"
    )
    min_coverage: float = Field(0.2, ge=0, le=1)


class GateParams(Block):
    """Data-quality gates (Great Expectations suites on the clip table and the curated frames) and the share of
    accepted clips below which curation warns. The gates catch broken data; how many clips a batch keeps is the
    data's business (real footage is mostly rejected for good reasons), so it is a warning, never a failure."""

    warn_accepted_below: float = Field(
        0.3,
        ge=0,
        le=1,
        description="warn (one line; the run passes) when fewer than this share of the candidate clips is accepted; "
        "0 never warns",
    )
    min_frame_coverage: float = Field(0.05, ge=0, le=1)


class CurateParams(Block):
    """Curation: decode, poses, MVS depth and confidence, quality scores, decisions, gates."""

    data: str = "data"
    out: str = "curated"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_width: int = Field(160, ge=16)
    max_frames: int = Field(24, ge=2)
    overrides: str | None = None
    # curation ablation: force-accept every non-test clip (decisions are still computed and recorded in auto_reason)
    accept_all: bool = False
    # a finished curated folder of the same data: accepted clips whose content, params (accept_all aside) and code
    # match are copied from it instead of recomputed (the ablation reuses the main run's MVS)
    reuse: str | None = None
    runner: Literal["threads", "dask"] = "threads"
    workers: int = Field(2, ge=1)
    dask_address: str | None = None
    retries: int = Field(1, ge=0)
    retry_delay_s: float = Field(2.0, ge=0)
    mvs: MvsParams = MvsParams()
    sfm: SfmParams = SfmParams()
    poses: Literal["auto", "given", "sfm"] = "auto"  # auto: the clip's poses.txt where there is one, else SfM
    quality: QualityParams = QualityParams()
    gates: GateParams = GateParams()
    masks: MaskParams = MaskParams()  # masks of what moves, and the parallax input stored with each shard

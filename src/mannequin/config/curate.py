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
    geometric_consistency: bool = Field(True, description="check each depth against the source frames' depth maps")
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

    min_frames: int = Field(3, ge=2, description="fewer readable frames (or frames with confident depth) reject")
    max_pose_jump: float = Field(
        8.0, gt=1, description="largest step between camera centres over the median step; above it: a pose jump"
    )
    min_translation_ratio: float = Field(
        1e-6, ge=0, description="camera-centre spread / largest translation at or below it: static or rotation only"
    )
    min_sharpness: float = Field(0.55, ge=0, le=1, description="median 1 - blur effect of the frames; below it: blurry")
    min_parallax_deg: float = Field(1.0, ge=0, description="median triangulation angle of confident pixels, degrees")
    max_inconsistent_fraction: float = Field(
        0.3, ge=0, le=1, description="confident pixels failing the geometric check; above it: something moves"
    )
    max_disagreement_fraction: float = Field(
        0.6, ge=0, le=1, description="confident pixels a source view does not match; above it: something moves"
    )
    max_motion_fraction: float = Field(
        0.01, ge=0, le=1, description="motion evidence between distant frames (mannequin.curation.motion)"
    )
    min_coverage: float = Field(0.2, ge=0, le=1, description="mean fraction of pixels with confident depth")


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
    min_frame_coverage: float = Field(
        0.05, ge=0, le=1, description="frame gate: a shard frame's confident-depth coverage at least this"
    )


class CurateParams(Block):
    """Curation: decode, poses, MVS depth and confidence, quality scores, decisions, gates."""

    data: str = Field("data", description="the data folder (clips/, splits.csv)")
    out: str = Field("curated", description="where clips.csv, summary.json, shards/, poses/ and validation/ go")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where the plane sweep runs; auto: CUDA if any")
    max_width: int = Field(160, ge=16, description="frames are scaled down to at most this width")
    max_frames: int = Field(24, ge=2, description="frames read per clip, evenly spread over it")
    overrides: str | None = Field(None, description="a YAML of force_accept / force_reject clips, with notes")
    # curation ablation: force-accept every non-test clip (decisions are still computed and recorded in auto_reason)
    accept_all: bool = Field(
        False, description="the curation ablation: every readable non-test clip gets a shard (reason in auto_reason)"
    )
    # a finished curated folder of the same data: accepted clips whose content, params (accept_all aside) and code
    # match are copied from it instead of recomputed (the ablation reuses the main run's MVS)
    reuse: str | None = Field(
        None, description="a finished curated folder: accepted clips with the same content, params and code are copied"
    )
    runner: Literal["threads", "dask"] = Field("threads", description="Prefect task runner over the clips")
    workers: int = Field(2, ge=1, description="clips curated at once (threads, or local Dask workers)")
    dask_address: str | None = Field(None, description="an existing Dask scheduler, e.g. tcp://scheduler:8786")
    retries: int = Field(1, ge=0, description="retries of a clip that raised, before it is rejected curation_error")
    retry_delay_s: float = Field(2.0, ge=0, description="seconds between those retries")
    mvs: MvsParams = MvsParams()
    sfm: SfmParams = SfmParams()
    poses: Literal["auto", "given", "sfm"] = Field(
        "auto", description="auto: the clip's poses.txt where there is one, else SfM; given: poses.txt; sfm: SfM"
    )
    quality: QualityParams = QualityParams()
    gates: GateParams = GateParams()
    masks: MaskParams = MaskParams()  # masks of what moves, and the parallax input stored with each shard

"""The ``curate.sfm`` block of params.yaml: structure from motion for clips without ``poses.txt``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mannequin.config.base import Block


class SfmParams(Block):
    """pycolmap structure from motion (mannequin.curation.sfm), tuned for short hand-held clips.

    pycolmap's defaults expect photo collections with wide baselines: they want a 16° initial triangulation
    angle and 10-image models, which short video never gives ("No good initial image pair").
    """

    mapper: Literal["incremental", "global"] = Field(
        "global",
        description="global (GLOMAP: rotation averaging, then all positions and points at once) or COLMAP incremental; "
        "on the sample's short clips global mapping from several focal lengths was the more accurate (design notes)",
    )
    fallback: bool = Field(
        True, description="when the mapper finds no usable model, map with the other one (incremental or global)"
    )
    camera_model: Literal["SIMPLE_PINHOLE", "PINHOLE"] = Field(
        "SIMPLE_PINHOLE", description="the shared camera when the clip has no intrinsics.txt"
    )
    focal_starts: list[float] = Field(
        [0.5, 0.6, 0.7, 0.85, 1.0, 1.2],
        min_length=1,
        description="focal lengths / the larger image side to start from (fields of view of 90-45 degrees): the "
        "clip is mapped from each with the focal length refined, and the best fit in focal_range wins. A short "
        "clip barely constrains the focal length, and from a far start bundle adjustment settles in a wrong basin",
    )
    refine_focal: bool = Field(
        True, description="refine the focal length in bundle adjustment (else it stays fixed at focal_prior)"
    )
    focal_prior: float = Field(
        0.85,
        gt=0,
        description="the fixed focal length / the larger side without refine_focal, or when every refined model "
        "ends outside focal_range (pycolmap's photo default is 1.2)",
    )
    focal_note_ratio: float = Field(
        1.5,
        gt=1,
        description="a refined focal length this many times focal_prior or more (or as far below it) gets a note: "
        "in clips.csv's note column, on the pose summary line and as a warning of mannequin poses",
    )
    focal_range: tuple[float, float] = Field(
        (0.4, 1.6),
        description="plausible focal length / width; a refined focal length outside it (forward motion leaves it "
        "unobservable) is not kept",
    )
    max_frames: int = Field(64, ge=2, description="frames given to SfM, evenly spread over the clip")
    max_width: int = Field(640, ge=32, description="frames are downscaled to this width for SfM")
    max_features: int = Field(4096, ge=64, description="SIFT features per frame")
    sift_peak_threshold: float = Field(
        0.0067, gt=0, description="SIFT peak (contrast) threshold; COLMAP's default 0.0067, lower finds more features"
    )
    overlap: int = Field(10, ge=1, description="sequential matching: each frame against the next `overlap`")
    min_num_matches: int = Field(15, ge=4, description="matches a frame pair needs to be used")
    init_min_tri_angle: float = Field(2.0, gt=0, description="mapper.init_min_tri_angle (degrees)")
    init_min_num_inliers: int = Field(50, ge=8, description="mapper.init_min_num_inliers")
    abs_pose_min_num_inliers: int = Field(15, ge=4, description="mapper.abs_pose_min_num_inliers")
    min_model_size: int = Field(3, ge=2, description="smallest model kept, frames")
    min_frames: int = Field(3, ge=2, description="fewer frames than this cannot be reconstructed")
    min_points: int = Field(20, ge=0, description="fewer 3-D points than this: too little parallax to trust")
    min_registered_fraction: float = Field(
        0.5, ge=0, le=1, description="the largest model must hold this share of the frames, else it split"
    )
    min_features: int = Field(30, ge=1, description="median SIFT features per frame below this: textureless")
    min_flow_px: float = Field(
        1.0,
        ge=0,
        description="a static camera: frames far apart in the clip have a median feature motion under this many "
        "pixels (judged over the clip, not between neighbours: a slow camera at 30 fps moves under a pixel a frame; "
        "ViSP's hand-held castel clip moves 1.34 px, bikes.mp4's still camera 0.79 px)",
    )
    threads: int = Field(1, ge=1, description="CPU threads for extraction, matching and mapping")
    seed: int = Field(0, ge=0, description="random seed of the RANSAC and mapper stages (deterministic runs)")

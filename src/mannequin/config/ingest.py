"""Settings of ``mannequin ingest``: raw videos cut into clips (mannequin.ingest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mannequin.config.base import Block


class IngestParams(Block):
    """Shot cutting, frame selection and the clip form of ``mannequin ingest``."""

    split: Literal["unlabeled", "labeled", "test"] = Field("unlabeled", description="split of the new clips")
    form: Literal["frames", "video"] = Field("frames", description="clips as frames/*.png or video.mp4")
    fps: float = Field(10.0, gt=0, description="target frame rate within a shot")
    max_frames: int = Field(
        24, ge=2, description="most frames per clip (curate.max_frames: curation reads them all); longer shots split"
    )
    min_frames: int = Field(
        8, ge=2, description="a shot (or the rest of a split shot) with fewer kept frames is dropped"
    )
    max_width: int = Field(640, ge=16, description="frames are decoded at most this wide (aspect kept)")
    detect_width: int = Field(320, ge=16, description="frames are decoded this wide for shot and quality checks")
    cut_threshold: float = Field(27.0, gt=0, description="PySceneDetect ContentDetector threshold")
    min_shot_frames: int = Field(15, ge=1, description="shortest shot PySceneDetect reports, frames")
    duplicate_threshold: float = Field(
        0.004, ge=0, description="a frame closer than this (mean absolute grey difference, 0..1) to the last kept one"
    )
    blur_ratio: float = Field(
        0.5, ge=0, le=1, description="a frame less sharp than this share of its shot's median sharpness is dropped"
    )

    @model_validator(mode="after")
    def _check(self) -> IngestParams:
        if self.min_frames > self.max_frames:
            raise ValueError(f"min_frames ({self.min_frames}) exceeds max_frames ({self.max_frames})")
        return self

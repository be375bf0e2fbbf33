"""``curate.masks`` (where the masks of moving things come from, the parallax input's sweep, random masks) and the
``parallax`` block (the stage that stores the parallax input of labelled and test clips)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from mannequin.config.base import Block
from mannequin.errors import InputError

MaskSource = Literal["auto", "given", "segmenter", "motion", "none"]
#: where a clip's masks came from, once resolved
ResolvedSource = Literal["given", "segmenter", "motion", "none"]


class SegmenterParams(Block):
    """``curate.masks.segmenter``: the person segmenter (:mod:`mannequin.curation.segmenter`), run on overlapping
    square tiles of a ladder of sizes so that small people are found, each size trusted for people of its scale."""

    smallest_tile: int = Field(128, ge=32, description="side (pixels) of the smallest tiles")
    tile_factor: float = Field(1.5, gt=1.0, description="each tile size is this factor larger than the last")
    min_height: float = Field(
        0.25, gt=0, le=1, description="a person found at a tile size counts when at least this fraction of it tall"
    )
    max_height: float = Field(
        0.8, gt=0, le=1, description="... and at most this fraction of it tall (the whole frame has no upper bound)"
    )
    threshold: float = Field(0.5, gt=0, lt=1, description="probability above which a pixel is a person")
    dilate: float = Field(0.01, ge=0, description="masks grow by this fraction of the frame height")
    max_width: int = Field(1024, ge=64, description="wider frames are downscaled to this width to be segmented")


class MaskParams(Block):
    """Masks of what may move (a clip's optional ``masks/``) and the parallax input built with them.

    ``source``: ``given`` reads the clip's ``masks/`` (an error where a clip has none), ``segmenter`` runs the
    person segmenter (its model installed by ``make install``) and adds curation's motion evidence where there is
    some, ``motion`` computes them from curation's motion evidence alone
    (:func:`mannequin.curation.motion.motion_masks`), ``none`` masks nothing, ``auto`` is ``given`` where the clip
    has ``masks/``, else ``segmenter`` where its model is installed, else ``motion``.
    """

    source: MaskSource = Field("auto", description="auto | given | segmenter | motion | none")
    motion_dilate_px: int = Field(
        2, ge=0, description="motion masks grow by this many pixels (at the curated resolution)"
    )
    motion_fill_px: int = Field(
        8, ge=0, description="motion masks then grow up to this many pixels more through pixels without MVS depth"
    )
    random_masks: int = Field(
        1, ge=0, description="random person-sized masks per frame of a frozen training clip without masks"
    )
    parallax_planes: int = Field(48, ge=4, description="planes of the parallax input's plane sweep")
    parallax_sources: int = Field(
        3,
        ge=1,
        le=8,
        description="source views of the parallax input's plane sweep; each pixel keeps its best one "
        "(1: the paper's input; more cover more of the frame where one source is occluded)",
    )
    segmenter: SegmenterParams = SegmenterParams()

    def resolve(
        self, has_given: bool, clip_dir: str | Path | None = None, segmenter_installed: bool = False
    ) -> ResolvedSource:
        """The source used for a clip that has (``has_given``) or has not a ``masks/`` folder, on a machine where
        the segmenter's model is (``segmenter_installed``) or is not installed."""
        if self.source == "auto":
            return "given" if has_given else "segmenter" if segmenter_installed else "motion"
        if self.source == "given" and not has_given:
            where = Path(clip_dir) / "masks" if clip_dir is not None else None
            raise InputError(where, "masks.source is 'given' but the clip has no masks/ folder", "missing_mask")
        return self.source


class ParallaxParams(Block):
    """The ``parallax`` stage: the parallax input of every ``labeled`` and ``test`` clip, once, in ``out``.

    It uses ``curate``'s poses (``curate.poses``, ``curate.sfm``), frame size (``curate.max_width``), plane sweep
    (``curate.mvs`` with ``curate.masks.parallax_sources`` source views and ``parallax_planes`` planes) and masks
    (``curate.masks``).
    """

    data: str = Field("data", description="the data folder: labeled and test clips")
    out: str = Field("parallax", description="one <clip_id>.npz per clip, and index.json")

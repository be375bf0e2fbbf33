"""``curate.masks`` (where the masks of moving things come from, the parallax input's sweep, random masks) and the
``parallax`` block (the stage that stores the parallax input of labelled and test clips)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from mannequin.config.base import Block
from mannequin.errors import InputError

MaskSource = Literal["auto", "given", "motion", "none"]


class MaskParams(Block):
    """Masks of what may move (a clip's optional ``masks/``) and the single-source parallax input built with them.

    ``source``: ``given`` reads the clip's ``masks/`` (an error where a clip has none), ``motion`` computes them
    from curation's motion evidence (:func:`mannequin.curation.motion.motion_masks`), ``none`` masks nothing,
    ``auto`` is ``given`` where the clip has ``masks/`` and ``motion`` elsewhere.
    """

    source: MaskSource = Field("auto", description="auto | given | motion | none")
    motion_dilate_px: int = Field(
        2, ge=0, description="motion masks grow by this many pixels (at the curated resolution)"
    )
    motion_fill_px: int = Field(
        8, ge=0, description="motion masks then grow up to this many pixels more through pixels without MVS depth"
    )
    random_masks: int = Field(
        1, ge=0, description="random person-sized masks per frame of a frozen training clip without masks"
    )
    parallax_planes: int = Field(48, ge=4, description="planes of the single-source plane sweep")

    def resolve(self, has_given: bool, clip_dir: str | Path | None = None) -> Literal["given", "motion", "none"]:
        """The source used for a clip that has (``has_given``) or has not a ``masks/`` folder."""
        if self.source == "auto":
            return "given" if has_given else "motion"
        if self.source == "given" and not has_given:
            where = Path(clip_dir) / "masks" if clip_dir is not None else None
            raise InputError(where, "masks.source is 'given' but the clip has no masks/ folder", "missing_mask")
        return self.source


class ParallaxParams(Block):
    """The ``parallax`` stage: the parallax input of every ``labeled`` and ``test`` clip, once, in ``out``.

    It uses ``curate``'s poses (``curate.poses``, ``curate.sfm``), frame size (``curate.max_width``), plane sweep
    (``curate.mvs``, one source view, ``curate.masks.parallax_planes`` planes) and masks (``curate.masks``).
    """

    data: str = Field("data", description="the data folder: labeled and test clips")
    out: str = Field("parallax", description="one <clip_id>.npz per clip, and index.json")

"""``mannequin masks``: a clip's ``masks/`` from the person segmenter or motion evidence (no dvc.yaml stage).

The masks of every frame (:func:`mannequin.curation.person_masks.clip_person_masks`, ``curate.masks.segmenter`` and
curation's motion evidence from ``curate``), written into ``out`` or the clip's own ``masks/``, which curation then
reads (``curate.masks.source`` ``auto`` or ``given``).
"""

from __future__ import annotations

from pathlib import Path

from mannequin.config import Params
from mannequin.curation.person_masks import ClipMasks, Source, check_masks_out, clip_person_masks, default_out


def run(params: Params, clip_dir: Path, source: Source, out: Path | None = None) -> tuple[ClipMasks, Path]:
    """Make and write the clip's masks; returns them and the folder they went to."""
    if out is not None:
        check_masks_out(out)  # a bad --out is said before minutes of segmenting
    found = clip_person_masks(clip_dir, source, params.curate)
    target = out if out is not None else default_out(clip_dir)
    found.write(target)
    return found, target

"""The target gap: how much of what its training targets know a pretrained model learnt.

A pretrained model learns from curated MVS depth. On the curated clips held out of its pretraining (``model.json``'s
``val_clips``: curated, never trained on), its median-aligned abs_rel against their MVS depth says how close it came
to its own targets. Beside its test score (against true depth) it separates "the targets are wrong" from "the model
does not learn them": a model at 0.18 on the test clips and 0.19 against held-out targets that are themselves within
0.02 of the truth is far from what its targets know. Scored as :func:`mannequin.evaluation.metrics.score_image`
scores a test frame (median alignment, per-image mean), at the shards' resolution, on confident MVS pixels only
(unconfident ones are NaN in the shard).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mannequin.curation.shards import list_shards
from mannequin.evaluation.metrics import score_image

#: MVS depth is in pose units (any scale): a tiny floor, no cap (metric depth's range does not apply)
_MIN_DEPTH, _MAX_DEPTH = 1e-6, float("inf")


class _Predictor(Protocol):
    meta: dict

    def predict(self, images: np.ndarray, parallax: np.ndarray | None = None) -> np.ndarray: ...


def target_gap(predictor: _Predictor, curated_dir: str | Path, batch_size: int = 8) -> dict[str, Any] | None:
    """Median-aligned abs_rel of ``predictor`` against the MVS depth of its held-out curated clips (mean over frames),
    with the numbers of clips and frames scored; None when none of its ``val_clips`` has a shard in ``curated_dir``."""
    clip_ids = [str(c) for c in predictor.meta.get("val_clips") or []]
    shards = list_shards(curated_dir, clip_ids) if clip_ids else []
    reads_parallax = bool(getattr(predictor, "needs_parallax", False))
    values: list[float] = []
    for shard in shards:
        images = np.array(shard.images)  # a writable copy: the shard is a read-only memory map
        for start in range(0, len(images), batch_size):
            part = slice(start, start + batch_size)
            extra = np.array(shard.parallax[part], np.float32) if reads_parallax else None
            depth = predictor.predict(images[part], parallax=extra)
            for pred, mvs in zip(depth, np.asarray(shard.depth[part], np.float32), strict=True):
                score = score_image(pred, mvs, "median", _MIN_DEPTH, _MAX_DEPTH)
                if score is not None:
                    values.append(score["abs_rel"])
    if not values:
        return None
    return {"abs_rel": float(np.mean(values)), "num_clips": len(shards), "num_frames": len(values)}

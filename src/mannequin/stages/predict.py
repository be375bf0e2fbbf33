"""``mannequin predict``: depth for every frame of a user's clip with a model folder (no dvc.yaml stage).

Inference (:func:`mannequin.inference.predict_clip.predict_clip_dir`) with curation's pose and mask settings
(``curate``; ``curate.masks.source`` for an rgb+parallax model's masks) and the evaluation's flicker measure
(:func:`mannequin.evaluation.flicker.clip_flicker`) recorded in ``predict.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.config import Params
from mannequin.evaluation.flicker import clip_flicker
from mannequin.inference.predict_clip import predict_clip_dir


def run(
    params: Params, clip_dir: Path, model: Path, out: Path, max_width: int | None = None, batch_size: int = 8
) -> dict[str, Any]:
    """Predict the clip into ``out``; returns what ``predict.json`` holds."""
    return predict_clip_dir(
        clip_dir,
        model,
        out,
        curate=params.curate,
        max_width=max_width,
        batch_size=batch_size,
        flicker=clip_flicker,
    )

"""Every model scored on real scenes with true depth (``mannequin real-data``'s folder), beside two baselines.

Each test clip of the folder is scored on its frames with sensor depth, per image then averaged, as
:mod:`mannequin.evaluation.evaluate` does, but every predictor is **median-aligned** per frame (a real scene's
metric scale is not what the models learnt on the sample's rooms; this scores the shape of the depth):

- every model: ``rgb`` models read the frames (grey frames as grey RGB); ``rgb+parallax`` models also read the
  parallax input (:mod:`mannequin.curation.parallax`: the plane sweep of ``sweep_params(curate.mvs, curate.masks)``
  at ``sweep_width``, as the ``parallax`` stage computes it, nothing masked), swept over **every** frame of the clip
  so that a frame without sensor depth can be a source (the right view of a stereo pair). Poses come from
  ``poses.txt``, else structure from motion (the one resolver);
- ``constant``: the same depth everywhere (after median alignment, the median of the truth);
- ``parallax-raw``: the parallax input's own depth, scored where it has depth (``coverage``: the share of the
  truth's valid pixels it covers).

The result (:func:`evaluate_real_depth`) is plain JSON data: per clip, one row per predictor with the
:data:`mannequin.evaluation.metrics.METRICS` means, the frames scored and, for models, their identity and inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.errors import InputError
from mannequin.evaluation.baselines import CONSTANT, PARALLAX
from mannequin.evaluation.evaluate import ModelRun, predict_clip
from mannequin.evaluation.metrics import METRICS, mean_metrics, score_image, valid_mask
from mannequin.evaluation.people_eval import RGB_PARALLAX, model_inputs

ALIGNMENT = "median"
BASELINES: dict[str, str] = {
    CONSTANT: "the same depth everywhere (after median alignment: the truth's median)",
    PARALLAX: "the parallax input's depth, where it has depth",
}


def score_where_known(pred: np.ndarray, gt: np.ndarray, min_depth: float, max_depth: float) -> dict | None:
    """:func:`score_image` (median-aligned) over the pixels where ``pred`` has depth, with its ``coverage`` of the
    truth's valid pixels; None when the truth has no valid pixel, coverage 0 and no metrics where pred has none."""
    truth = valid_mask(gt, min_depth, max_depth)
    if not truth.any():
        return None
    with np.errstate(invalid="ignore"):
        known = np.isfinite(pred) & (pred > 0)
    scored = truth & known
    if not scored.any():
        return {"coverage": 0.0, "n_pixels": 0}
    score = score_image(np.where(known, pred, 1.0), np.where(scored, gt, np.nan), ALIGNMENT, min_depth, max_depth)
    assert score is not None
    return {**score, "coverage": float(scored.sum() / truth.sum())}


@dataclass
class RealClip:
    """One real test clip: its ground-truth frames and the parallax input at them (at the frames' size)."""

    clip_id: str
    images: np.ndarray  # (N, H, W, 3) uint8
    depth: np.ndarray  # (N, H, W) metres, NaN invalid
    parallax: Any  # ParallaxInput at the ground-truth frames, resized to (H, W)
    poses: str  # where the poses came from


def load_real_clip(data_dir: Path, clip_id: str, poses: Any, mvs: Any, sweep_width: int, device: str) -> RealClip:
    """The clip's ground truth and its parallax input (a sweep over every frame of the clip at ``sweep_width``)."""
    from mannequin.curation.parallax import masked_parallax, sweep_parallax
    from mannequin.curation.sfm_store import lines_of_frames
    from mannequin.evaluation.testset import load_held_out_clip

    held = load_held_out_clip(data_dir, clip_id, poses)
    if held is None:
        raise InputError(data_dir / "depth" / clip_id, "no sensor-depth PNG for this test clip", "missing_depth")
    resolved = poses.resolve(data_dir / "clips" / clip_id)
    clip = resolved.clip
    if len(clip) < 2:
        raise InputError(clip.path, f"{len(clip)} frame with a pose: the parallax input needs two", "no_parallax")
    images, cameras = clip.read_frames(None, max_width=sweep_width)
    sweep = masked_parallax(sweep_parallax(images, cameras, mvs, device), None)
    lines = lines_of_frames(clip, held.frame_indices, resolved.source)
    h, w = held.images.shape[1:3]
    parallax = sweep.take(lines).resized(w, h)
    source = "poses.txt" if resolved.source == "given" else "structure from motion"
    if resolved.stats is not None:
        source += f" ({resolved.stats.registered} of {resolved.stats.frames} frames registered)"
    return RealClip(clip_id, held.images, held.depth, parallax, source)


def _row(scores: list[dict], extra: dict[str, Any]) -> dict[str, Any]:
    scored = [s for s in scores if s.get("n_pixels")]
    row: dict[str, Any] = {**extra, "frames": len(scored)}
    row.update(mean_metrics(scored))
    if scores and "coverage" in scores[0]:
        row["coverage"] = float(np.mean([s["coverage"] for s in scores]))
    return row


def score_clip(clip: RealClip, runs: list[ModelRun], min_depth: float, max_depth: float, batch_size: int) -> dict:
    """Rows for the baselines and every model on one clip (``{name: row}``)."""
    rows: dict[str, dict[str, Any]] = {}
    constant = [score_image(np.ones_like(gt), gt, ALIGNMENT, min_depth, max_depth) for gt in clip.depth]
    rows[CONSTANT] = _row([s for s in constant if s is not None], {"kind": "baseline"})
    parallax = [score_where_known(p, gt, min_depth, max_depth) for p, gt in zip(clip.parallax.depth, clip.depth)]
    rows[PARALLAX] = _row([s for s in parallax if s is not None], {"kind": "baseline", "inputs": "parallax"})
    channels = clip.parallax.channels_last()
    for run in runs:
        inputs = model_inputs(run.predictor)
        preds = predict_clip(run.predictor, clip.images, batch_size, channels if inputs == RGB_PARALLAX else None)
        scores = [score_image(p, gt, ALIGNMENT, min_depth, max_depth) for p, gt in zip(preds, clip.depth)]
        rows[run.info.name] = _row([s for s in scores if s is not None], {**run.info.as_dict(), "inputs": inputs})
    return rows


def evaluate_real_depth(
    runs: list[ModelRun],
    data_dir: str | Path,
    *,
    poses: Any,
    mvs: Any,
    sweep_width: int,
    min_depth: float,
    max_depth: float,
    batch_size: int = 8,
    device: str = "cpu",
    manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score ``runs`` and the baselines on every test clip of ``data_dir`` (see the module doc).

    ``poses`` is a ``PoseSource``; ``mvs`` the ``MvsParams`` of the parallax sweep (``sweep_params``); ``manifest`` what
    ``mannequin real-data`` recorded of the clips (their sources, castel's depth unit, the clips it skipped).
    """
    from mannequin.evaluation.testset import held_out_clip_ids

    data_dir = Path(data_dir)
    manifest = manifest or {}
    clips = {}
    for clip_id in held_out_clip_ids(data_dir):
        clip = load_real_clip(data_dir, clip_id, poses, mvs, sweep_width, device)
        h, w = clip.images.shape[1:3]
        clips[clip_id] = {
            "frames": len(clip.images),
            "size": [w, h],
            "poses": clip.poses,
            "source": manifest.get("clips", {}).get(clip_id, {}),
            "rows": score_clip(clip, runs, min_depth, max_depth, batch_size),
        }
    return {
        "alignment": ALIGNMENT,
        "min_depth": min_depth,
        "max_depth": max_depth,
        "metrics": list(METRICS),
        "baselines": BASELINES,
        "clips": clips,
        "skipped": manifest.get("skipped", {}),
    }

"""Scores where the people are: si-RMSE and abs_rel over human, non-human and all pixels, per kind of test clip.

The Mannequin Challenge paper reports its error separately on the human pixels, the non-human pixels and all of
them, on videos whose people move. Here the human pixels of a test frame are its mask (``masks/<i:06d>.png``:
nonzero where a person or anything else may move); the test clips are split by their ``people`` (``moving``: people
walk while the camera moves; ``frozen``: they stand still), read from the ``people`` column of the data's
``sample_truth.csv`` where it has one. A clip without a known kind counts in ``all`` clips only.

A prediction is aligned once per frame over all its valid pixels (the model's alignment, as in its metrics), then
scored on each pixel group of at least :data:`MIN_GROUP_PIXELS` valid pixels; averages are per image, as in
:mod:`mannequin.evaluation.evaluate`. The raw parallax depth is scored the same way where it has depth, median
aligned (it is in pose units), and how much of each group it covers is recorded.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.errors import InputError
from mannequin.evaluation.alignment import align
from mannequin.evaluation.baselines import PARALLAX as PARALLAX  # the raw parallax's row, re-exported here
from mannequin.evaluation.metrics import METRIC, DepthPair, valid_mask
from mannequin.evaluation.paper_metrics import PAPER_METRIC_NAMES, paper_errors

#: The pixel groups of the paper's table, in its column order.
PIXEL_GROUPS: tuple[str, ...] = ("human", "non_human", "all")
#: Their headers in the report.
GROUP_HEADERS: dict[str, str] = {"human": "human", "non_human": "non-human", "all": "all"}
#: The metrics scored per group (declared in :data:`mannequin.evaluation.metrics.DEPTH_METRICS`).
REGION_METRICS: tuple[str, ...] = ("si_rmse", "abs_rel")
#: The sets of test clips scored: by the kind of their people, and every clip.
CLIP_SETS: tuple[str, ...] = ("moving", "frozen", "all")
#: A group needs this many valid pixels in a frame to be scored in it (si-RMSE of a handful of pixels is noise).
MIN_GROUP_PIXELS = 16
TRUTH_FILE = "sample_truth.csv"


def clip_people(data_dir: str | Path) -> dict[str, str]:
    """``{clip_id: "moving" | "frozen"}`` from the ``people`` column of ``data_dir/sample_truth.csv`` ({} without)."""
    path = Path(data_dir) / TRUTH_FILE
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if "people" not in (reader.fieldnames or []):
            return {}
        out = {}
        for lineno, row in enumerate(reader, start=2):
            kind = (row.get("people") or "").strip()
            if kind not in ("moving", "frozen"):
                raise InputError(path, f"line {lineno}: people must be moving or frozen, got {kind!r}", "bad_table")
            out[(row.get("clip_id") or "").strip()] = kind
    return out


def group_masks(valid: np.ndarray, human: np.ndarray | None) -> dict[str, np.ndarray]:
    """The valid pixels of each group (``human`` bool (H,W) or None: nobody marked)."""
    human = np.zeros_like(valid) if human is None else np.asarray(human, bool)
    return {"human": valid & human, "non_human": valid & ~human, "all": valid}


def score_groups(
    pred: np.ndarray,
    gt: np.ndarray,
    human: np.ndarray | None,
    alignment: str,
    min_depth: float,
    max_depth: float,
) -> dict[str, dict[str, float]]:
    """One frame's :data:`REGION_METRICS` per pixel group (groups under :data:`MIN_GROUP_PIXELS` are left out).

    ``pred`` may hold NaN or non-positive values where it has no depth (the raw parallax); only pixels where both
    the truth is valid and the prediction has depth are scored, and the alignment is fitted on all of them.
    Each group's entry also holds ``n_pixels`` and ``coverage`` (its share of the group's valid-truth pixels).
    """
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} does not match ground truth {gt.shape}")
    truth = valid_mask(gt, min_depth, max_depth)
    with np.errstate(invalid="ignore"):
        scored = truth & np.isfinite(pred) & (pred > 0)
    if not scored.any():
        return {}
    aligned_values, _ = align(pred[scored], gt[scored], alignment, min_depth, max_depth)
    aligned = np.full(gt.shape, np.nan)
    aligned[scored] = np.clip(aligned_values, min_depth, max_depth)
    wanted = group_masks(truth, human)
    out = {}
    for group, pixels in group_masks(scored, human).items():
        n = int(pixels.sum())
        if n < MIN_GROUP_PIXELS:
            continue
        pair = DepthPair(gt[pixels], aligned[pixels])
        out[group] = {m: float(METRIC[m].compute(pair)) for m in REGION_METRICS}
        out[group]["n_pixels"] = n
        out[group]["coverage"] = n / int(wanted[group].sum())
    return out


def score_paper(
    pred: np.ndarray, gt: np.ndarray, human: np.ndarray | None, min_depth: float, max_depth: float
) -> dict[str, float]:
    """One frame's paper metrics (:mod:`mannequin.evaluation.paper_metrics`) over the pixels :func:`score_groups`
    scores; scale-invariant, so on the raw prediction (no alignment, no clipping); sets under
    :data:`MIN_GROUP_PIXELS` pixels leave their metrics out."""
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} does not match ground truth {gt.shape}")
    with np.errstate(invalid="ignore"):
        scored = valid_mask(gt, min_depth, max_depth) & np.isfinite(pred) & (pred > 0)
    return paper_errors(pred, gt, scored, human, MIN_GROUP_PIXELS)


@dataclass
class RegionScores:
    """What one predictor (a model, or the raw parallax) has scored so far: per clip set and group, per image."""

    name: str
    inputs: str
    alignment: str
    frames: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    paper: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def add(
        self, people: str | None, groups: Mapping[str, dict[str, float]], paper: Mapping[str, float] | None = None
    ) -> None:
        """Count one frame's group scores (and its paper metrics) in ``all`` clips and in its clip's kind
        (``people``) when known."""
        for clip_set in ("all", people) if people in CLIP_SETS else ("all",):
            for group, score in groups.items():
                self.frames.setdefault(clip_set, {}).setdefault(group, []).append(score)
            if paper:
                self.paper.setdefault(clip_set, []).append(dict(paper))

    def paper_summary(self) -> dict[str, dict[str, Any]]:
        """Per clip set, the per-image mean of each paper metric and how many frames had it."""
        out = {}
        for clip_set in CLIP_SETS:
            frames = self.paper.get(clip_set, [])
            means = {m: float(np.mean([f[m] for f in frames if m in f])) for m in PAPER_METRIC_NAMES
                     if any(m in f for f in frames)}  # fmt: skip
            if means:
                out[clip_set] = {**means, "num_frames": {m: sum(m in f for f in frames) for m in means}}
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-ready means: ``{clip_set: {group: {metric: mean, num_frames, num_pixels, coverage}}}``."""
        sets = {}
        for clip_set in CLIP_SETS:
            groups = self.frames.get(clip_set, {})
            sets[clip_set] = {
                group: {
                    **{m: float(np.mean([s[m] for s in groups[group]])) for m in REGION_METRICS},
                    "num_frames": len(groups[group]),
                    "num_pixels": int(sum(s["n_pixels"] for s in groups[group])),
                    "coverage": float(np.mean([s["coverage"] for s in groups[group]])),
                }
                for group in PIXEL_GROUPS
                if groups.get(group)
            }
        return {"inputs": self.inputs, "alignment": self.alignment, "clip_sets": sets, "paper": self.paper_summary()}

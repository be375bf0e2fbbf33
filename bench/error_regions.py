"""Where is a model wrong? Its test abs_rel split by what the parallax input knew of each pixel.

Each test frame's prediction is median-aligned to the sensor depth over all its valid pixels (as ``evaluate`` aligns
a pretrained model), then its relative error is averaged over four pixel sets: every valid pixel, those where the
stored parallax input (``mannequin parallax``) has a reading, those where it has none and no person is masked, and
the masked people. The raw parallax depth is scored too, where it has a reading, median-aligned on those pixels
alone. It also gives each model's boundary errors (ε_acc, ε_comp). Used for docs/experiments.md's "Where the errors
are"; it reads a finished ``make demo``.

    .venv/bin/python bench/error_regions.py models/pretrain/mvs models/pretrain/mvs-parallax

Prints a table and writes bench/results/error_regions.json.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from machine import write_result
from mannequin.evaluation.alignment import median_scale
from mannequin.evaluation.boundaries import Boundaries
from mannequin.evaluation.testset import HeldOutClip, iter_held_out_clips

RESULTS = Path(__file__).parent / "results" / "error_regions.json"
REGIONS = ("all", "parallax known", "parallax unknown", "people")


def region_masks(valid: np.ndarray, confidence: np.ndarray, people: np.ndarray) -> dict[str, np.ndarray]:
    """The pixel sets of :data:`REGIONS` for one frame (boolean H x W each)."""
    known = confidence > 0
    return {
        "all": valid,
        "parallax known": valid & known,
        "parallax unknown": valid & ~known & ~people,
        "people": valid & people,
    }


def median_aligned_error(pred: np.ndarray, gt: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """|s pred - gt| / gt with s the ratio of medians over ``fit``; NaN outside ``fit``."""
    scale = median_scale(pred[fit], gt[fit])
    err = np.full(gt.shape, np.nan)
    err[fit] = np.abs(scale * pred[fit] - gt[fit]) / gt[fit]
    return err


class Tally:
    """Sums of errors and pixel counts per region, and per-frame boundary errors."""

    def __init__(self) -> None:
        self.sums = dict.fromkeys(REGIONS, 0.0)
        self.counts = dict.fromkeys(REGIONS, 0)
        self.boundaries: list[tuple[float, float]] = []

    def add(self, err: np.ndarray, masks: dict[str, np.ndarray]) -> None:
        for name, mask in masks.items():
            self.sums[name] += float(np.nansum(err[mask]))
            self.counts[name] += int(np.isfinite(err[mask]).sum())

    def summary(self) -> dict[str, float | None]:
        total = max(1, self.counts["all"])
        out: dict[str, float | None] = {}
        for name in REGIONS:
            n = self.counts[name]
            out[name] = round(self.sums[name] / n, 4) if n else None
            out[f"{name} share"] = round(n / total, 3)
        if self.boundaries:
            out["eps_acc"] = round(float(np.mean([a for a, _ in self.boundaries])), 3)
            out["eps_comp"] = round(float(np.mean([c for _, c in self.boundaries])), 3)
        return out


def stored_channels(parallax: Path, clip: HeldOutClip, who: str) -> np.ndarray:
    """The clip's stored parallax input (``mannequin parallax``) at its ground-truth frames, (N, H, W, 3); a clip
    without one ends the benchmark ``who`` with one line naming the store."""
    from mannequin.evaluation.people_eval import stored_input

    stored = stored_input(parallax, clip)
    if stored is None:
        raise SystemExit(f"{who}: {parallax}: no stored parallax input for {clip.clip_id}'s test frames")
    return stored.channels_last()


def score_models(data: Path, parallax: Path, models: list[Path]) -> dict[str, dict]:
    """Every model's :class:`Tally` summary on the test clips, and the raw parallax's (key ``raw parallax``)."""
    from mannequin.learning.predict import DepthPredictor

    clips = list(iter_held_out_clips(data))
    channels = {clip.clip_id: stored_channels(parallax, clip, "error_regions") for clip in clips}

    def frames(clip: HeldOutClip) -> Iterator[tuple[int, np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
        """Each test frame's row, sensor depth, valid pixels and pixel sets."""
        for i, gt in enumerate(clip.depth):
            valid = np.isfinite(gt) & (gt > 0)
            ch = channels[clip.clip_id][i]
            yield i, gt, valid, region_masks(valid, ch[..., 1], ch[..., 2] > 0)

    results: dict[str, dict] = {}
    for model in models:
        predictor, tally = DepthPredictor.load(model), Tally()
        for clip in clips:
            given = channels[clip.clip_id] if predictor.needs_parallax else None
            depth = predictor.predict(clip.images, parallax=given)
            for i, gt, valid, masks in frames(clip):
                tally.add(median_aligned_error(depth[i], gt, valid), masks)
                b = Boundaries.of(np.where(valid, gt, 1.0), depth[i], valid)
                tally.boundaries.append((b.accuracy, b.completeness))
        results[str(model)] = tally.summary()
    raw = Tally()  # the raw parallax, on the pixels where it has a reading, aligned on those alone
    for clip in clips:
        for i, gt, _, masks in frames(clip):
            known = masks["parallax known"]
            if known.sum() >= 10:
                raw.add(median_aligned_error(np.exp(channels[clip.clip_id][i, ..., 0]), gt, known), {"all": known})
    results["raw parallax"] = {"all": raw.summary()["all"]}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model folders (pretrained or fine-tuned)")
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--parallax", type=Path, default=Path("parallax"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = score_models(args.data, args.parallax, args.models)
    print(f"{'model':<32} " + " ".join(f"{r:>17}" for r in REGIONS) + f" {'eps_acc':>8} {'eps_comp':>8}")
    for name, r in results.items():
        cells = " ".join(f"{'' if r.get(k) is None else r[k]:>17}" for k in REGIONS)
        print(f"{name:<32} {cells} {r.get('eps_acc', ''):>8} {r.get('eps_comp', ''):>8}")
    write_result(args.out, {
        "benchmark": "error_regions",
        "what": "median-aligned test abs_rel per pixel set (parallax input known, unknown, people) and boundary errors",
        "command": "python bench/error_regions.py " + " ".join(str(m) for m in args.models),
        "models": results,
    })  # fmt: skip


if __name__ == "__main__":
    main()

"""Is a fine-tuned model wrong in its shape or in its metric scale? Its test error split into the two.

For each test frame, over the sensor depth's valid pixels: the **scale error** ``log(median(gt) / median(pred))``
(positive: the model puts the frame too near), the metric abs_rel (the prediction as it is, as ``evaluate`` scores a
fine-tuned model) and the median-aligned abs_rel (the prediction scaled per frame to the truth's median: its shape
alone). Per model: the mean scale error over the frames (``bias``, set mostly by the offset its labelled frames
calibrated), their standard deviation (``spread``, how much the net's own scale wanders from room to room), their
root mean square, both abs_rels, the share of the metric abs_rel that a per-frame scale would remove, and the
correlation of the scale error with the log focal length of each clip (a net blind to the field of view would show
it). Used for docs/experiments.md's "Shape or scale"; it reads a finished ``make demo``.

    .venv/bin/python bench/scale_error.py models/finetune/mvs-parallax-2 models/finetune/mvs-parallax-32

Prints a table and writes bench/results/scale_error.json.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from error_regions import stored_channels
from machine import write_result
from mannequin.evaluation.alignment import median_scale

RESULTS = Path(__file__).parent / "results" / "scale_error.json"


def frame_scale_error(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray) -> float:
    """``log(median(gt) / median(pred))`` over ``valid``: how far the frame's scale is off, in log units."""
    return float(np.log(np.median(gt[valid]) / np.median(pred[valid])))


def abs_rel(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray, aligned: bool) -> float:
    """Mean ``|pred - gt| / gt`` over ``valid``; with ``aligned`` after scaling ``pred`` to the truth's median."""
    scale = median_scale(pred[valid], gt[valid]) if aligned else 1.0
    return float(np.mean(np.abs(scale * pred[valid] - gt[valid]) / gt[valid]))


@dataclass
class ScaleTally:
    """Per frame: the scale error, both abs_rels and the clip's log focal length."""

    scale: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    aligned: list[float] = field(default_factory=list)
    log_focal: list[float] = field(default_factory=list)

    def add(self, pred: np.ndarray, gt: np.ndarray, valid: np.ndarray, focal: float) -> None:
        self.scale.append(frame_scale_error(pred, gt, valid))
        self.metric.append(abs_rel(pred, gt, valid, aligned=False))
        self.aligned.append(abs_rel(pred, gt, valid, aligned=True))
        self.log_focal.append(float(np.log(focal)))

    def summary(self) -> dict[str, float]:
        s, metric, aligned = np.array(self.scale), float(np.mean(self.metric)), float(np.mean(self.aligned))
        f = np.array(self.log_focal)
        corr = float(np.corrcoef(f, s)[0, 1]) if f.std() > 0 and s.std() > 0 else float("nan")
        return {
            "bias": round(float(s.mean()), 4),
            "spread": round(float(s.std()), 4),
            "rms": round(float(np.sqrt(np.mean(s * s))), 4),
            "abs_rel": round(metric, 4),
            "abs_rel_aligned": round(aligned, 4),
            "scale_share": round(1.0 - aligned / metric, 3) if metric > 0 else float("nan"),
            "focal_corr": round(corr, 3),
            "frames": len(s),
        }


def room_depths(data: Path) -> dict[str, dict[str, float]]:
    """Per split with sensor depth (``labeled``, ``test``): the mean over its clips of each clip's mean log median
    sensor depth, their spread over clips and how many. A fine-tuned model whose level does not follow the room's
    size puts every room at its labelled rooms' typical depth: its bias is then about ``test - labeled``."""
    from mannequin.clips.depth_png import read_depth_png, sensor_depth_indices, sensor_depth_path
    from mannequin.clips.splits import read_splits

    per_split: dict[str, list[float]] = {}
    for clip_id, split in sorted(read_splits(data).items()):
        logs = []
        for i in sensor_depth_indices(data, clip_id):
            depth = read_depth_png(sensor_depth_path(data, clip_id, i))
            valid = np.isfinite(depth) & (depth > 0)
            if valid.any():
                logs.append(float(np.log(np.median(depth[valid]))))
        if logs:
            per_split.setdefault(split, []).append(float(np.mean(logs)))
    return {
        split: {"mean_log_depth": round(float(np.mean(v)), 4), "spread": round(float(np.std(v)), 4), "clips": len(v)}
        for split, v in sorted(per_split.items())
    }


def score_models(data: Path, parallax: Path, models: list[Path]) -> dict[str, dict[str, float]]:
    """Every model's :class:`ScaleTally` summary on the test clips of ``data``."""
    from mannequin.clips.clip import open_clip
    from mannequin.evaluation.testset import iter_held_out_clips
    from mannequin.learning.predict import DepthPredictor

    clips = list(iter_held_out_clips(data))
    focal = {}  # fx / width of each clip's first camera: the field of view, whatever the frame size
    for clip in clips:
        camera = open_clip(data / "clips" / clip.clip_id).cameras[0]
        focal[clip.clip_id] = float(camera.K[0, 0] / camera.width)
    results = {}
    for model in models:
        predictor, tally = DepthPredictor.load(model), ScaleTally()
        for clip in clips:
            given = stored_channels(parallax, clip, "scale_error") if predictor.needs_parallax else None
            depth = predictor.predict(clip.images, parallax=given)
            for i, gt in enumerate(clip.depth):
                valid = np.isfinite(gt) & (gt > 0)
                tally.add(depth[i], gt, valid, focal[clip.clip_id])
        results[str(model)] = tally.summary()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model folders (fine-tuned: metric depth)")
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--parallax", type=Path, default=Path("parallax"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = score_models(args.data, args.parallax, args.models)
    keys = ("bias", "spread", "rms", "abs_rel", "abs_rel_aligned", "scale_share", "focal_corr")
    print(f"{'model':<36} " + " ".join(f"{k:>15}" for k in keys))
    for name, row in results.items():
        print(f"{name:<36} " + " ".join(f"{row[k]:>15}" for k in keys))
    rooms = room_depths(args.data)
    for split, row in rooms.items():
        print(f"{split} clips: mean log median sensor depth {row['mean_log_depth']} (spread {row['spread']}, "
              f"{row['clips']} clips)")  # fmt: skip
    if {"labeled", "test"} <= rooms.keys():
        gap = round(rooms["test"]["mean_log_depth"] - rooms["labeled"]["mean_log_depth"], 4)
        print(f"test rooms against labelled rooms: {gap:+.4f} in log depth (a room-blind model's bias)")
    write_result(args.out, {
        "benchmark": "scale_error",
        "what": "per test frame log(median gt / median pred): bias and spread over frames, metric and median-aligned"
                " abs_rel, the share of abs_rel a per-frame scale removes, correlation with the log focal length",
        "command": "python bench/scale_error.py " + " ".join(str(m) for m in args.models),
        "models": results,
        "rooms": rooms,
    })  # fmt: skip


if __name__ == "__main__":
    main()

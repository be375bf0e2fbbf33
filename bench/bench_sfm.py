"""Pose accuracy of structure from motion on the default sample's clean clips, their poses.txt withheld.

For every clean unlabeled clip: pycolmap SfM (mannequin.curation.sfm_poses, which never reads poses.txt),
then, against the true cameras in truth/<id>/depth.npz, after a similarity alignment (evo's Umeyama):
the share of frames registered, the absolute trajectory error relative to the true path length, the
rotation error in degrees and the seconds per frame. Then MVS (curate's settings) on the same frames
with the SfM cameras and with the true cameras, in the same run: abs_rel of the median-scaled depth
against the true depth, and the ratio of the two.

    .venv/bin/python bench/bench_sfm.py [--data DIR] [--clips N] [--mapper global|incremental] [--jobs 2]
        [--set KEY=VALUE ...]   (any curate.sfm setting, e.g. --set sift_peak_threshold=0.004) [--out JSON]

Without --data it renders the default sample (128 clips) into a temporary folder. Prints a table of
distributions and writes bench/results/sfm.json.
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from machine import cpu_model, parse_settings, write_result
from mannequin.clips.cameras import Camera
from mannequin.config.curate import CurateParams
from mannequin.config.sfm import SfmParams
from mannequin.curation.quality import even_indices
from mannequin.curation.sfm_accuracy import pose_errors
from mannequin.curation.sfm_poses import clip_with_poses, estimate_clip_poses
from mannequin.errors import InputError

RESULTS = Path(__file__).parent / "results" / "sfm.json"  # sfm_incremental.json with --mapper incremental
ACCEPTANCE = {"registered": 0.90, "ate_ratio": 0.02, "rotation_deg": 1.0, "abs_rel_ratio": 1.5}


def clean_clips(data: Path) -> list[str]:
    with (data / "sample_truth.csv").open(encoding="utf-8") as fh:
        defects = {r["clip_id"]: r["defect"] for r in csv.DictReader(fh)}
    with (data / "splits.csv").open(encoding="utf-8") as fh:
        splits = {r["clip_id"]: r["split"] for r in csv.DictReader(fh)}
    return sorted(c for c, d in defects.items() if d == "none" and splits.get(c) == "unlabeled")


def true_cameras(data: Path, clip_id: str) -> tuple[list[Camera], np.ndarray]:
    with np.load(data / "truth" / clip_id / "depth.npz") as z:
        depth, K, R, t = z["depth"], z["K"], z["R"], z["t"]
    h, w = depth.shape[1:]
    return [Camera(K, Ri, ti, w, h) for Ri, ti in zip(R, t)], depth


def abs_rel(depth: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Median-scaled abs_rel over confident pixels, and the confident fraction."""
    ok = np.isfinite(depth) & np.isfinite(truth) & (truth > 0)
    if ok.sum() < 10:
        return float("nan"), float(ok.mean())
    d, g = depth[ok].astype(np.float64), truth[ok].astype(np.float64)
    d = d * np.median(g / d)
    return float(np.mean(np.abs(d - g) / g)), float(ok.mean())


def mvs_pair(clip, data: Path, clip_id: str, curate: CurateParams) -> dict:
    """MVS on the same frames with SfM cameras and with true cameras (true cameras scaled to the SfM frames)."""
    import cv2

    from mannequin.curation.mvs import clip_depth

    true, depth_true = true_cameras(data, clip_id)
    lines = even_indices(len(clip), curate.max_frames)
    images, sfm_cams = clip.read_frames(lines, max_width=curate.max_width)
    frames = [int(clip.source_indices[i]) for i in lines]
    w, h = images.shape[2], images.shape[1]
    gt_cams = [true[f].resized(w, h) for f in frames]
    gt_depth = np.stack([cv2.resize(depth_true[f], (w, h), interpolation=cv2.INTER_NEAREST) for f in frames])
    out = {}
    for name, cams in (("sfm", sfm_cams), ("true", gt_cams)):
        result = clip_depth(images, cams, curate.mvs, device="cpu")
        out[f"abs_rel_{name}"], out[f"coverage_{name}"] = abs_rel(result.depth, gt_depth)
    return out


def bench_clip(data: Path, clip_id: str, sfm: SfmParams, curate: CurateParams) -> dict:
    clip_dir = data / "clips" / clip_id
    true, _ = true_cameras(data, clip_id)
    try:
        est = estimate_clip_poses(clip_dir, sfm)
    except InputError as err:
        return {"clip_id": clip_id, "frames": len(true), "registered": 0, "failure": err.problem}
    s = est.stats
    row = {
        "clip_id": clip_id,
        "frames": s.frames,
        "registered": s.registered / s.frames,
        "s_per_frame": s.seconds / s.frames,
        "points": s.points,
        "reprojection_error_px": s.reprojection_error_px,
        "focal": s.focal,
        "focal_true": float(true[0].K[0, 0] / true[0].width),
        "method": s.method,
    }
    if s.registered >= 3:
        errors = pose_errors(est.cameras(), [true[int(i)] for i in est.source_indices])
        row.update(ate_ratio=errors.ate_ratio, rotation_deg=errors.max_rotation_deg)
        row.update(mvs_pair(clip_with_poses(clip_dir, est.table, est.source_indices), data, clip_id, curate))
        row["abs_rel_ratio"] = row["abs_rel_sfm"] / row["abs_rel_true"]
    return row


def _one_thread() -> None:
    """A shared 2-core machine: MVS on one thread per process, like one curation worker."""
    import torch

    torch.set_num_threads(1)


def distribution(values: list[float]) -> dict:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if not v.size:
        return {"n": 0}
    q = np.percentile(v, [0, 10, 50, 90, 100])
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "min": q[0],
        "p10": q[1],
        "median": q[2],
        "p90": q[3],
        "max": q[4],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a sample dataset (default: render the default one)")
    parser.add_argument("--clips", type=int, default=0, help="only the first N clean clips (0: all)")
    parser.add_argument("--mapper", choices=("global", "incremental"), default=SfmParams().mapper)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a curate.sfm setting")
    parser.add_argument("--out", type=Path, help="the result file (default: bench/results/sfm*.json)")
    parser.add_argument("--only", default="", help="comma-separated clip ids (written to sfm_only.json)")
    parser.add_argument("--jobs", type=int, default=1, help="clips benchmarked at once (processes)")
    args = parser.parse_args()
    _one_thread()
    with tempfile.TemporaryDirectory(prefix="bench-sfm-") as tmp:
        data = args.data
        if data is None:
            from mannequin.sample.dataset import write_sample_data

            data = Path(tmp) / "sample"
            write_sample_data(data, progress=False, workers=2)
        clips = clean_clips(data)[: args.clips or None]
        if args.only:
            clips = [c for c in clips if c in args.only.split(",")]
        sfm = SfmParams.model_validate({"mapper": args.mapper, **parse_settings(args.set, "bench_sfm")})
        curate = CurateParams()
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.jobs, initializer=_one_thread) as pool:
            futures = [pool.submit(bench_clip, data, clip_id, sfm, curate) for clip_id in clips]
            rows = []
            for k, future in enumerate(futures, 1):
                rows.append(future.result())
                print(f"\r{k}/{len(clips)} {rows[-1]['clip_id']}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        wall = time.perf_counter() - start
    keys = ("registered", "ate_ratio", "rotation_deg", "s_per_frame", "abs_rel_sfm", "abs_rel_true", "abs_rel_ratio")
    dists = {k: distribution([r.get(k) for r in rows]) for k in keys}
    frames = sum(r["frames"] for r in rows)
    registered = sum(round(r["registered"] * r["frames"]) for r in rows)
    pooled = {
        "frames_registered": registered / frames,
        "ate_ratio_median": dists["ate_ratio"].get("median"),
        "rotation_deg_median": dists["rotation_deg"].get("median"),
        "abs_rel_ratio_of_means": dists["abs_rel_sfm"].get("mean", float("nan"))
        / dists["abs_rel_true"].get("mean", float("nan")),
    }
    checks = {
        "frames_registered >= 90%": pooled["frames_registered"] >= ACCEPTANCE["registered"],
        "median ATE <= 2% of path": (pooled["ate_ratio_median"] or 1) <= ACCEPTANCE["ate_ratio"],
        "median rotation error <= 1 deg": (pooled["rotation_deg_median"] or 99) <= ACCEPTANCE["rotation_deg"],
        "abs_rel(SfM) <= 1.5x abs_rel(true)": pooled["abs_rel_ratio_of_means"] <= ACCEPTANCE["abs_rel_ratio"],
    }
    print(f"{len(rows)} clean clips, {frames} frames, mapper {args.mapper}, {wall:.0f} s")
    print(f"{'metric':<16}{'n':>4}{'mean':>10}{'min':>10}{'p10':>10}{'median':>10}{'p90':>10}{'max':>10}")
    for k, d in dists.items():
        if d["n"]:
            cells = "".join(f"{d[c]:>10.4f}" for c in ("mean", "min", "p10", "median", "p90", "max"))
            print(f"{k:<16}{d['n']:>4}{cells}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    failures = [r for r in rows if "failure" in r]
    for r in failures:
        print(f"not reconstructed: {r['clip_id']}: {r['failure']}")
    result = {
        "machine": {"cpu": cpu_model(), "python": platform.python_version()},
        "mapper": args.mapper,
        "settings": args.set,
        "jobs": args.jobs,
        "clips": len(rows),
        "wall_s": wall,
        "pooled": pooled,
        "distributions": dists,
        "acceptance": checks,
        "rows": rows,
    }
    out = RESULTS if args.mapper == SfmParams().mapper else RESULTS.with_name(f"sfm_{args.mapper}.json")
    out = out.with_name("sfm_set.json") if args.set else out
    out = out.with_name("sfm_only.json") if args.only else out
    out = args.out or out
    write_result(out, result, indent=1, default=float)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

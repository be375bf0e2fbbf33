"""How the plane-sweep MVS scales: frames/s, AbsRel against exact depth, peak memory, cost growth.

The sweeps use the analytic room of ``mannequin.curation.mvs_scene`` (exact depth at any resolution),
one thread, CPU:

- resolution (128x96 ... 640x480) at the default params, each in a fresh process for its peak RSS;
- plane count (24, 48, 96) at 160x120;
- source-view count (1, 2, 4, 6) at 160x120;
- and accuracy (AbsRel, coverage) of the default params on clean sample-data clips (160x120).

Times are CPU seconds of the process (single-threaded torch), split into the sparse stage (SIFT,
triangulation, source choice), the plane sweep (+ SGM) and the consistency stage. The sweep time is
fitted against pixels x planes x views on a log-log scale: a slope near 1 means linear growth.

    .venv/bin/python bench/bench_mvs_scaling.py [--quick]

Prints tables and writes bench/results/mvs_scaling.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from machine import cpu_model

RESULTS = Path(__file__).parent / "results" / "mvs_scaling.json"
RESOLUTIONS = [(128, 96), (160, 120), (320, 240), (640, 480)]
PLANES = [24, 48, 96]
SOURCES = [1, 2, 4, 6]


def _clip(width: int, height: int, frames: int, seed: int):
    """The analytic room of ``mannequin.curation.mvs_scene`` (exact depth at any resolution), poses scaled by 2.5."""
    from mannequin.curation.mvs_scene import render_clip

    clip = render_clip(frames=frames, width=width, height=height, scale=2.5, fov_deg=60, path="arc", seed=seed)
    return clip.images, clip.cameras, clip.depth, f"analytic room, arc path, seed {seed}"


def sample_clip_accuracy(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """AbsRel and coverage of the default MVS on clean sample-data clips (160x120), against their exact depth."""
    import torch

    from mannequin.config.curate import MvsParams
    from mannequin.curation.mvs import clip_depth
    from mannequin.sample.dataset import render_clip
    from mannequin.sample.plan import make_plan

    torch.set_num_threads(1)
    rows = []
    for plan in [p for p in make_plan(24, seed=seed) if p.defect == "none"][:count]:
        rc = render_clip(plan)
        truth = rc.depth * plan.pose_scale  # the written poses are metres times pose_scale
        t0 = time.process_time()
        out = clip_depth(rc.frames, rc.written, MvsParams())
        cpu = time.process_time() - t0
        ok = np.isfinite(out.depth) & (truth > 0)
        rows.append(
            {
                "clip": plan.clip_id,
                "trajectory": plan.trajectory,
                "hfov_deg": plan.hfov_deg,
                "pose_scale": plan.pose_scale,
                "frames": plan.n_frames,
                "abs_rel": float(np.mean(np.abs(out.depth[ok] - truth[ok]) / truth[ok])),
                "coverage": float(ok.mean()),
                "inconsistent_fraction": float(out.inconsistent_fraction.mean()),
                "median_angle_deg": float(np.median(out.median_angle_deg)),
                "cpu_s": cpu,
                "frames_per_s": plan.n_frames / cpu,
            }
        )
    return rows


def measure(width: int, height: int, frames: int, overrides: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Run the MVS stage by stage on one clip and score it; CPU times, single thread."""
    import torch

    from mannequin.config.curate import MvsParams
    from mannequin.curation.mvs import _ClipMvs

    torch.set_num_threads(1)
    images, cameras, truth, plan = _clip(width, height, frames, seed)
    params = MvsParams(**overrides)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall0 = time.perf_counter()
    t0 = time.process_time()
    mvs = _ClipMvs(images, cameras, params, torch.device("cpu"))
    for i in range(len(images)):
        mvs.plan(i)
    t1 = time.process_time()
    for i in range(len(images)):
        mvs.photometric(i)
    t2 = time.process_time()
    depth = np.stack([mvs.finish(i)[0] for i in range(len(images))])
    t3 = time.process_time()
    wall = time.perf_counter() - wall0
    ok = np.isfinite(depth) & (truth > 0)
    views = float(np.mean([len(mvs.plan(i).sources) for i in range(len(images))]))
    return {
        "clip": plan,
        "width": width,
        "height": height,
        "frames": len(images),
        "planes": params.planes,
        "views": views,
        "work": width * height * params.planes * views,
        "cpu_s": {"sparse": t1 - t0, "sweep": t2 - t1, "consistency": t3 - t2, "total": t3 - t0},
        "wall_s": wall,
        "frames_per_s": len(images) / (t3 - t0),
        "abs_rel": float(np.mean(np.abs(depth[ok] - truth[ok]) / truth[ok])) if ok.any() else float("nan"),
        "coverage": float(ok.mean()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024,
    }


def _measure_star(args: tuple) -> dict[str, Any]:
    return measure(*args)


def in_fresh_process(args: tuple) -> dict[str, Any]:
    """``measure`` in a new process, so that its peak RSS is its own."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_star, (args,))


def fit_loglog(x: list[float], y: list[float]) -> dict[str, float]:
    lx, ly = np.log(np.asarray(x)), np.log(np.asarray(y))
    slope, intercept = np.polyfit(lx, ly, 1)
    pred = slope * lx + intercept
    r2 = 1 - np.sum((ly - pred) ** 2) / max(np.sum((ly - ly.mean()) ** 2), 1e-12)
    return {"slope": float(slope), "r2": float(r2)}


def fit_two_terms(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Least squares t = a * pixels*planes*views + b * pixels*planes (matching per view + aggregation per frame)."""
    pdv = np.array([r["work"] for r in rows])
    pd = np.array([r["width"] * r["height"] * r["planes"] for r in rows], dtype=float)
    t = np.array([r["cpu_s"]["sweep"] / r["frames"] for r in rows])
    A = np.stack([pdv, pd], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, t, rcond=None)
    pred = A @ np.array([a, b])
    r2 = 1 - np.sum((t - pred) ** 2) / np.sum((t - t.mean()) ** 2)
    return {"ns_per_pixel_plane_view": float(a * 1e9), "ns_per_pixel_plane": float(b * 1e9), "r2": float(r2)}


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'size':>9}{'planes':>7}{'views':>6}{'frames/s':>9}{'sweep ms/f':>11}{'sparse ms/f':>12}"
          f"{'AbsRel':>8}{'cover':>7}{'peak MB':>9}")  # fmt: skip
    for r in rows:
        n = r["frames"]
        print(
            f"{r['width']:>4}x{r['height']:<4}{r['planes']:>7}{r['views']:>6.1f}{r['frames_per_s']:>9.2f}"
            f"{1000 * r['cpu_s']['sweep'] / n:>11.0f}{1000 * r['cpu_s']['sparse'] / n:>12.0f}"
            f"{r['abs_rel']:>8.4f}{r['coverage']:>7.2f}{r['peak_rss_mb']:>9.0f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=6, help="frames per clip")
    ap.add_argument("--sample-clips", type=int, default=4, help="clean sample-data clips scored for accuracy")
    ap.add_argument("--quick", action="store_true", help="skip 640x480 (for a smoke run)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    started = time.perf_counter()
    resolutions = RESOLUTIONS[:-1] if args.quick else RESOLUTIONS
    by_resolution = [in_fresh_process((w, h, args.frames, {})) for w, h in resolutions]
    table("resolution (default params: 48 planes, up to 4 views)", by_resolution)
    by_planes = [measure(160, 120, args.frames, {"planes": d}) for d in PLANES]
    table("planes (160x120)", by_planes)
    by_views = [measure(160, 120, max(args.frames, max(SOURCES) + 2), {"num_sources": v}) for v in SOURCES]
    table("source views (160x120)", by_views)
    samples = sample_clip_accuracy(args.sample_clips)
    print("\nclean sample-data clips, 160x120, default params (AbsRel on confident pixels vs exact depth)")
    print(
        f"{'clip':<11}{'path':<10}{'hfov':>6}{'scale':>7}{'frames':>7}{'AbsRel':>8}{'cover':>7}{'incons':>8}{'fr/s':>7}"
    )
    for r in samples:
        print(
            f"{r['clip']:<11}{r['trajectory']:<10}{r['hfov_deg']:>6.1f}{r['pose_scale']:>7.3g}{r['frames']:>7}"
            f"{r['abs_rel']:>8.4f}{r['coverage']:>7.2f}{r['inconsistent_fraction']:>8.3f}{r['frames_per_s']:>7.1f}"
        )
    rows = by_resolution + by_planes + by_views
    fits = {
        "sweep_vs_pixels_planes_views": fit_loglog(
            [r["work"] for r in rows], [r["cpu_s"]["sweep"] / r["frames"] for r in rows]
        ),
        "sweep_vs_pixels": fit_loglog(
            [r["width"] * r["height"] for r in by_resolution],
            [r["cpu_s"]["sweep"] / r["frames"] for r in by_resolution],
        ),
        "sweep_vs_planes": fit_loglog(
            [r["planes"] for r in by_planes], [r["cpu_s"]["sweep"] / r["frames"] for r in by_planes]
        ),
        "sweep_vs_views": fit_loglog(
            [r["views"] for r in by_views], [r["cpu_s"]["sweep"] / r["frames"] for r in by_views]
        ),
        "peak_rss_vs_pixels": fit_loglog(
            [r["width"] * r["height"] for r in by_resolution], [r["peak_rss_mb"] for r in by_resolution]
        ),
    }
    two = fit_two_terms(rows)
    print("\nlog-log slopes of sweep CPU time per frame (1 = linear):")
    for name, fit in fits.items():
        print(f"  {name:<32} slope {fit['slope']:.2f}  R^2 {fit['r2']:.3f}")
    print(
        f"  linear model: {two['ns_per_pixel_plane_view']:.1f} ns per pixel*plane*view (matching) + "
        f"{two['ns_per_pixel_plane']:.1f} ns per pixel*plane (SGM, winner-take-all)  R^2 {two['r2']:.3f}"
    )
    result = {
        "machine": f"{cpu_model()}, {platform.machine()}",
        "threads": 1,
        "note": "CPU s of one process, 1 torch thread; sweeps on the analytic room, accuracy on sample-data clips",
        "by_resolution": by_resolution,
        "by_planes": by_planes,
        "by_views": by_views,
        "sample_clips": samples,
        "fits": fits,
        "linear_model": two,
        "bench_wall_s": time.perf_counter() - started,
    }
    from mannequin.atomic import atomic_write_text

    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"\nbench wall time {result['bench_wall_s']:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()

"""How the plane-sweep MVS scales: frames/s, AbsRel against exact depth, peak memory, cost growth.

The sweeps use the analytic room of ``mannequin.sample.analytic`` (exact depth at any resolution), one
thread, CPU, the default backend (numba) unless said:

- resolution (128x96 ... 640x480) at the default params, each in a fresh process for its peak RSS;
- plane count (24, 48, 96) and source-view count (1, 2, 4, 6) at 160x120;
- clip length (12 ... 200 frames) at 160x120: the per-frame cost must stay flat;
- the compiled (numba) path against the torch CPU path at the default setting (160x120, 48 planes, 4 views),
  interleaved on the same clip;
- and accuracy (AbsRel, coverage) of both paths on clean sample-data clips (160x120).

Times are CPU seconds of the process (torch on one thread; numba's sweep on every core from the main
thread, so frames/s by CPU time is the one-core figure and ``frames_per_s_wall`` the wall-clock one), split
into the sparse stage (SIFT, triangulation, source choice), the plane sweep (+ SGM) and the consistency stage;
each process first runs a tiny clip so numba's on-disk cache is loaded before anything is timed (the load
time is reported). The sweep time is fitted against pixels x planes x views on a log-log scale: a slope near
1 means linear growth.

    .venv/bin/python bench/bench_mvs_scaling.py [--quick]

Prints tables and writes bench/results/mvs_scaling.json.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from machine import cpu_model, write_result

RESULTS = Path(__file__).parent / "results" / "mvs_scaling.json"
RESOLUTIONS = [(128, 96), (160, 120), (320, 240), (640, 480)]
PLANES = [24, 48, 96]
LENGTHS = [12, 25, 50, 100, 200]
BACKENDS = ["numba", "torch"]
SOURCES = [1, 2, 4, 6]


def _clip(width: int, height: int, frames: int, seed: int):
    """The analytic room of ``mannequin.sample.analytic`` (exact depth at any resolution), poses scaled by 2.5."""
    from mannequin.sample.analytic import render_clip

    clip = render_clip(frames=frames, width=width, height=height, scale=2.5, fov_deg=60, path="arc", seed=seed)
    return clip.images, clip.cameras, clip.depth, f"analytic room, arc path, seed {seed}"


def warm_up(backend: str) -> float:
    """Run a tiny clip once (numba loads its cached machine code on the first call); its CPU seconds."""
    import torch

    from mannequin.config.curate import MvsParams
    from mannequin.curation.mvs import clip_depth

    torch.set_num_threads(1)
    images, cameras, _, _ = _clip(48, 36, 3, 0)
    t0 = time.process_time()
    clip_depth(images, cameras, MvsParams(planes=8, backend=backend))
    return time.process_time() - t0


def sample_clip_accuracy(count: int, backend: str, seed: int = 0) -> list[dict[str, Any]]:
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
        out = clip_depth(rc.frames, rc.written, MvsParams(backend=backend))
        cpu = time.process_time() - t0
        ok = np.isfinite(out.depth) & (truth > 0)
        rows.append(
            {
                "clip": plan.clip_id,
                "backend": backend,
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
    params = MvsParams(**overrides)
    warm_s = warm_up(params.backend)
    images, cameras, truth, plan = _clip(width, height, frames, seed)
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
        "backend": params.backend,
        "first_call_s": warm_s,
        "width": width,
        "height": height,
        "frames": len(images),
        "planes": params.planes,
        "views": views,
        "work": width * height * params.planes * views,
        "cpu_s": {"sparse": t1 - t0, "sweep": t2 - t1, "consistency": t3 - t2, "total": t3 - t0},
        "wall_s": wall,
        "frames_per_s": len(images) / (t3 - t0),
        "frames_per_s_wall": len(images) / wall,  # the sweep takes every core from the main thread
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


def backend_comparison(frames: int, rounds: int) -> dict[str, Any]:
    """Numba against torch at the default setting (160x120, 48 planes, 4 views), interleaved on one clip."""
    runs: dict[str, list[dict[str, Any]]] = {b: [] for b in BACKENDS}
    for _ in range(rounds):
        for b in BACKENDS:
            runs[b].append(measure(160, 120, frames, {"backend": b}))
    fps = {b: float(np.median([r["frames_per_s"] for r in rs])) for b, rs in runs.items()}
    return {
        "frames_per_s": fps,
        "speedup_numba_over_torch": fps["numba"] / fps["torch"],
        "runs": runs,
        "abs_rel": {b: rs[0]["abs_rel"] for b, rs in runs.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=6, help="frames per clip")
    ap.add_argument("--sample-clips", type=int, default=4, help="clean sample-data clips scored for accuracy")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved numba/torch rounds at the default setting")
    ap.add_argument("--quick", action="store_true", help="skip 640x480 and clips over 50 frames (a smoke run)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    load_start = list(os.getloadavg())  # the machine is shared: how busy it was, start and end
    started = time.perf_counter()
    resolutions = RESOLUTIONS[:-1] if args.quick else RESOLUTIONS
    lengths = [n for n in LENGTHS if n <= 50] if args.quick else LENGTHS
    compare = backend_comparison(args.frames, args.rounds)
    fps = compare["frames_per_s"]
    print(f"default setting 160x120, 48 planes, 4 views, {args.frames} frames, median of {args.rounds} interleaved:")
    print(f"  numba {fps['numba']:.2f} frames/s, torch {fps['torch']:.2f} frames/s, "
          f"speed-up {compare['speedup_numba_over_torch']:.2f}x")  # fmt: skip
    by_resolution = [in_fresh_process((w, h, args.frames, {})) for w, h in resolutions]
    table("resolution (default params: 48 planes, up to 4 views)", by_resolution)
    by_planes = [measure(160, 120, args.frames, {"planes": d}) for d in PLANES]
    table("planes (160x120)", by_planes)
    by_views = [measure(160, 120, max(args.frames, max(SOURCES) + 2), {"num_sources": v}) for v in SOURCES]
    table("source views (160x120)", by_views)
    by_length = [measure(160, 120, n, {}) for n in lengths]
    table("clip length (160x120, default params)", by_length)
    samples = {b: sample_clip_accuracy(args.sample_clips, b) for b in BACKENDS}
    print("\nclean sample-data clips, 160x120, default params (AbsRel on confident pixels vs exact depth)")
    print(f"{'clip':<11}{'path':<10}{'hfov':>6}{'scale':>7}{'frames':>7}{'backend':>8}{'AbsRel':>8}{'cover':>7}"
          f"{'incons':>8}{'fr/s':>7}")  # fmt: skip
    for r in samples["numba"] + samples["torch"]:
        print(
            f"{r['clip']:<11}{r['trajectory']:<10}{r['hfov_deg']:>6.1f}{r['pose_scale']:>7.3g}{r['frames']:>7}"
            f"{r['backend']:>8}{r['abs_rel']:>8.4f}{r['coverage']:>7.2f}{r['inconsistent_fraction']:>8.3f}"
            f"{r['frames_per_s']:>7.1f}"
        )
    mean_rel = {b: float(np.mean([r["abs_rel"] for r in rs])) for b, rs in samples.items()}
    sample_fps = {b: float(sum(r["frames"] for r in rs) / sum(r["cpu_s"] for r in rs)) for b, rs in samples.items()}
    print(f"  mean AbsRel numba {mean_rel['numba']:.4f}, torch {mean_rel['torch']:.4f} "
          f"(ratio {mean_rel['numba'] / mean_rel['torch']:.3f}); frames/s numba {sample_fps['numba']:.2f}, "
          f"torch {sample_fps['torch']:.2f} ({sample_fps['numba'] / sample_fps['torch']:.2f}x)")  # fmt: skip
    rows = by_resolution + by_planes + by_views
    per_frame = {k: [r["cpu_s"][k] / r["frames"] for r in by_length] for k in ("sparse", "sweep", "consistency")}
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
        "total_vs_clip_length": fit_loglog([r["frames"] for r in by_length], [r["cpu_s"]["total"] for r in by_length]),
        "sparse_vs_clip_length": fit_loglog(
            [r["frames"] for r in by_length], [r["cpu_s"]["sparse"] for r in by_length]
        ),
        "peak_rss_vs_pixels": fit_loglog(
            [r["width"] * r["height"] for r in by_resolution], [r["peak_rss_mb"] for r in by_resolution]
        ),
    }
    two = fit_two_terms(rows)
    print("\nlog-log slopes (1 = linear; time per frame for pixels/planes/views, clip time for clip length):")
    for name, fit in fits.items():
        print(f"  {name:<32} slope {fit['slope']:.2f}  R^2 {fit['r2']:.3f}")
    print(
        f"  linear model: {two['ns_per_pixel_plane_view']:.1f} ns per pixel*plane*view (matching) + "
        f"{two['ns_per_pixel_plane']:.1f} ns per pixel*plane (SGM, winner-take-all)  R^2 {two['r2']:.3f}"
    )
    result = {
        "machine": f"{cpu_model()}, {platform.machine()}",
        "threads": 1,
        "note": "CPU s of one process, 1 thread; sweeps on the analytic room, accuracy on sample-data clips",
        "backend_comparison": compare,
        "by_resolution": by_resolution,
        "by_planes": by_planes,
        "by_views": by_views,
        "by_length": by_length,
        "per_frame_by_length_s": per_frame,
        "sample_clips": samples["numba"],
        "sample_clips_torch": samples["torch"],
        "sample_mean_abs_rel": mean_rel,
        "sample_frames_per_s": sample_fps,
        "fits": fits,
        "linear_model": two,
        "bench_wall_s": time.perf_counter() - started,
        "load_average_1_5_15_min": {"start": load_start, "end": list(os.getloadavg())},
    }

    write_result(args.out, result)
    print(f"\nbench wall time {result['bench_wall_s']:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()

"""Benchmark of the sample-data renderer: frames per second, rendering only and including encoding/writing.

Usage: .venv/bin/python bench/bench_render.py [--clips N] [--frames F] [--sizes 160x120,320x240]
Prints a table and writes bench/results/render.json. Clean (defect-free) clips of the default plan are used,
so the numbers are those of ordinary frames; blurred clips cost 7 renders per frame on top.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from machine import write_result
from mannequin.sample.dataset import render_clip, write_clip
from mannequin.sample.plan import make_plan
from mannequin.sample.textures import texture_bank

RESULTS = Path(__file__).parent / "results" / "render.json"


def bench_size(width: int, height: int, clips: int, frames: int) -> dict:
    """Render ``clips`` clean clips of ``frames`` frames at ``width`` x ``height``; time rendering and writing."""
    plans = [p for p in make_plan(24, seed=0, width=width, height=height) if p.defect == "none"][:clips]
    plans = [replace(p, n_frames=frames, form="video") for p in plans]
    render_s = write_s = render_cpu = total_cpu = 0.0
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for plan in plans:
            t0, c0 = time.perf_counter(), time.process_time()
            clip = render_clip(plan)
            t1, c1 = time.perf_counter(), time.process_time()
            write_clip(clip, Path(tmp))
            t2, c2 = time.perf_counter(), time.process_time()
            render_s += t1 - t0
            write_s += t2 - t1
            render_cpu += c1 - c0
            total_cpu += c2 - c0
            n += len(clip.frames)
    return {
        "resolution": f"{width}x{height}",
        "clips": len(plans),
        "frames": n,
        "render_s": round(render_s, 3),
        "write_s": round(write_s, 3),
        "render_fps": round(n / render_s, 2),
        "total_fps": round(n / (render_s + write_s), 2),
        "ms_per_frame": round(1000 * render_s / n, 2),
        "render_fps_cpu": round(n / render_cpu, 2),  # per CPU-second: what an unloaded core would do
        "total_fps_cpu": round(n / total_cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3, help="clips per resolution")
    parser.add_argument("--frames", type=int, default=20, help="frames per clip")
    parser.add_argument("--sizes", default="160x120,320x240", help="comma-separated WxH list")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    t0 = time.perf_counter()
    texture_bank()
    bank_s = time.perf_counter() - t0
    rows = []
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.lower().split("x"))
        rows.append(bench_size(w, h, args.clips, args.frames))
    header = (
        f"{'resolution':>11} {'clips':>5} {'frames':>6} {'render fps':>10} {'total fps':>9} {'ms/frame':>8}"
        f" {'render fps/cpu-s':>16} {'total fps/cpu-s':>15}"
    )
    print(f"texture bank: {bank_s:.2f} s (once per process)")
    print(header)
    for r in rows:
        print(
            f"{r['resolution']:>11} {r['clips']:>5} {r['frames']:>6} {r['render_fps']:>10.1f} "
            f"{r['total_fps']:>9.1f} {r['ms_per_frame']:>8.1f} {r['render_fps_cpu']:>16.1f} {r['total_fps_cpu']:>15.1f}"
        )
    result = {
        "benchmark": "render",
        "what": "sample-data renderer, clean clips; total includes H.264 encoding and writing depth/truth",
        "texture_bank_s": round(bank_s, 3),
        "rows": rows,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "numpy": np.__version__},
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()

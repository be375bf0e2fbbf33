"""MVS on CUDA (the torch path) against the CPU path (numba), frames/s at 160x120 and 640x480.

Runs only where torch sees a CUDA GPU; otherwise it says so and exits 0 (nothing written). Both paths
run the same clips of the analytic room (``mannequin.sample.analytic``) with the default params, each warmed
up once (CUDA context and kernels, numba's cache) before the timed runs (median wall seconds; the GPU is
synchronised before each clock read). Depth agreement between the two is reported as the median relative
difference where both have depth.

    .venv/bin/python bench/bench_mvs_gpu.py [--frames 6] [--repeats 3]

Prints a table and writes bench/results/mvs_gpu.json.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from machine import cpu_model, write_result
from mannequin.config.curate import MvsParams
from mannequin.curation.mvs import clip_depth
from mannequin.sample.analytic import render_clip

RESULTS = Path(__file__).parent / "results" / "mvs_gpu.json"
SIZES = [(160, 120), (640, 480)]


def _timed(images: np.ndarray, cameras: list, device: str, repeats: int) -> tuple[Any, float]:
    walls = []
    out = None
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = clip_depth(images, cameras, MvsParams(), device=device)
        if device == "cuda":
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t0)
    return out, float(np.median(walls))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU visible to torch: skipped (nothing written)")
        return
    torch.set_num_threads(1)
    rows = []
    for w, h in SIZES:
        clip = render_clip(frames=args.frames, width=w, height=h, scale=2.5, fov_deg=60, path="arc", seed=0)
        for device in ("cpu", "cuda"):  # warm-up
            clip_depth(clip.images[:3], clip.cameras[:3], MvsParams(), device=device)
        cpu, t_cpu = _timed(clip.images, clip.cameras, "cpu", args.repeats)
        gpu, t_gpu = _timed(clip.images, clip.cameras, "cuda", args.repeats)
        both = np.isfinite(cpu.depth) & np.isfinite(gpu.depth)
        ok = np.isfinite(gpu.depth) & (clip.depth > 0)
        rows.append(
            {
                "width": w,
                "height": h,
                "frames": args.frames,
                "cpu_frames_per_s": args.frames / t_cpu,
                "cuda_frames_per_s": args.frames / t_gpu,
                "speedup_cuda_over_cpu": t_cpu / t_gpu,
                "median_rel_diff": float(np.median(np.abs(gpu.depth[both] - cpu.depth[both]) / cpu.depth[both])),
                "cuda_abs_rel": float(np.mean(np.abs(gpu.depth[ok] - clip.depth[ok]) / clip.depth[ok])),
                "cuda_coverage": float(ok.mean()),
            }
        )
    result = {
        "machine": f"{cpu_model()}, {platform.machine()}, {torch.cuda.get_device_name(0)}",
        "note": "wall s, median of repeats; CPU path = numba on 1 thread, CUDA path = torch",
        "rows": rows,
    }
    write_result(args.out, result)
    print(f"{'size':>9}{'CPU fr/s':>10}{'CUDA fr/s':>11}{'speed-up':>10}{'rel diff':>10}{'AbsRel':>8}")
    for r in rows:
        print(f"{r['width']:>4}x{r['height']:<4}{r['cpu_frames_per_s']:>10.2f}{r['cuda_frames_per_s']:>11.2f}"
              f"{r['speedup_cuda_over_cpu']:>10.1f}{r['median_rel_diff']:>10.4f}{r['cuda_abs_rel']:>8.4f}")  # fmt: skip
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()

"""Our plane-sweep MVS against OpenCV StereoSGBM on real data: the Middlebury 2014 Motorcycle pair.

scikit-image ships the pair (already 1/4 of the full Middlebury size: 741x500) with ground-truth
disparity and the calibration in its docstring. We run our MVS on it as a 2-frame clip (left camera
R=I, t=0; right camera t=(-baseline, 0, 0), its principal point shifted by doffs) and SGBM on the same
images, both after the same optional downscale, in the same process. Disparity is compared at the
evaluated resolution: d = f*B/z - doffs.

Ours runs three ways in the same process: the compiled CPU path (numba, 4-path SGM: the default), the
same with 8-path SGM, and the torch path (the CUDA code, here on the CPU). Each is warmed up once (numba
loads its cached machine code on the first call), then timed (median CPU seconds of ``--repeats`` runs).

    .venv/bin/python bench/bench_mvs_middlebury.py [--downscale 2] [--planes 96]

Prints a table and writes bench/results/mvs_middlebury.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from skimage.data import stereo_motorcycle

from machine import cpu_model, write_result
from mannequin.clips.cameras import Camera
from mannequin.config.curate import MvsParams
from mannequin.curation.mvs import clip_depth
from mannequin.ingest.middlebury import QUARTER_MOTORCYCLE

# calibration of the scikit-image (1/4 size) pair, from help(skimage.data.stereo_motorcycle): declared once, in
# mannequin.ingest.middlebury (where `mannequin real-data` turns the pair into a test clip)
_CAL = QUARTER_MOTORCYCLE
FOCAL, CX, CY, DOFFS, BASELINE_MM = _CAL.focal, _CAL.cx, _CAL.cy, _CAL.doffs, 1000 * _CAL.baseline_m
RESULTS = Path(__file__).parent / "results" / "mvs_middlebury.json"


def load_pair(downscale: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float, float]:
    """Left, right (uint8 RGB), GT disparity (NaN invalid), and f, cx, cy, doffs at the evaluated size."""
    left, right, disp = stereo_motorcycle()
    disp = np.where(np.isfinite(disp), disp, np.nan).astype(np.float64)
    f, cx, cy, doffs = FOCAL, CX, CY, DOFFS
    if downscale > 1:
        h, w = left.shape[0] // downscale, left.shape[1] // downscale
        left = cv2.resize(left, (w, h), interpolation=cv2.INTER_AREA)
        right = cv2.resize(right, (w, h), interpolation=cv2.INTER_AREA)
        # GT disparity: nearest sample at the new pixel centres, scaled
        ys = ((np.arange(h) + 0.5) * downscale - 0.5).round().astype(int)
        xs = ((np.arange(w) + 0.5) * downscale - 0.5).round().astype(int)
        disp = disp[np.ix_(ys, xs)] / downscale
        f, doffs = f / downscale, doffs / downscale
        cx, cy = (cx + 0.5) / downscale - 0.5, (cy + 0.5) / downscale - 0.5
    return left, right, disp, f, cx, cy, doffs


def cameras_for(width: int, height: int, f: float, cx: float, cy: float, doffs: float) -> list[Camera]:
    K_left = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]])
    K_right = np.array([[f, 0, cx + doffs], [0, f, cy], [0, 0, 1]])
    return [
        Camera(K_left, np.eye(3), np.zeros(3), width, height),
        Camera(K_right, np.eye(3), np.array([-BASELINE_MM, 0.0, 0.0]), width, height, timestamp_us=1),
    ]


def run_sgbm(left: np.ndarray, right: np.ndarray, max_disp: float) -> np.ndarray:
    """OpenCV StereoSGBM (settings from OpenCV's stereo_match sample), NaN where it gives no disparity."""
    num = int(np.ceil((max_disp + 8) / 16) * 16)
    block = 5
    sgbm = cv2.StereoSGBM_create(
        minDisparity=0,
        numDisparities=num,
        blockSize=block,
        P1=8 * 3 * block**2,
        P2=32 * 3 * block**2,
        disp12MaxDiff=1,
        uniquenessRatio=10,
        speckleWindowSize=100,
        speckleRange=32,
        mode=cv2.STEREO_SGBM_MODE_SGBM,
    )
    raw = sgbm.compute(cv2.cvtColor(left, cv2.COLOR_RGB2BGR), cv2.cvtColor(right, cv2.COLOR_RGB2BGR))
    disp = raw.astype(np.float64) / 16.0
    return np.where(raw >= 0, disp, np.nan)


def scores(disp: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """bad-2px over the pixels given (with GT), density over the GT pixels, AbsRel of depth."""
    has_gt = np.isfinite(gt)
    pred = np.isfinite(disp) & has_gt
    err = np.abs(disp[pred] - gt[pred])
    z = 1.0 / (disp[pred] + DOFFS_EVAL)
    z_gt = 1.0 / (gt[pred] + DOFFS_EVAL)
    return {
        "bad2_pct": float(100 * np.mean(err > 2.0)) if pred.any() else float("nan"),
        "bad1_pct": float(100 * np.mean(err > 1.0)) if pred.any() else float("nan"),
        "density_pct": float(100 * pred.sum() / has_gt.sum()),
        "abs_rel": float(np.mean(np.abs(z - z_gt) / z_gt)) if pred.any() else float("nan"),
        "bad2_pct_all_gt": float(100 * (np.sum(err > 2.0) + (has_gt.sum() - pred.sum())) / has_gt.sum()),
    }


DOFFS_EVAL = DOFFS  # set in main() to the doffs at the evaluated resolution (depth is proportional to 1/(d+doffs))


def at_density(disp: np.ndarray, confidence: np.ndarray, gt: np.ndarray, density_pct: float) -> dict[str, float]:
    """Our scores keeping only the most confident pixels, as many as ``density_pct`` of the GT pixels."""
    has_gt = np.isfinite(gt)
    ok = np.isfinite(disp) & has_gt
    conf = np.where(ok, confidence, -1.0)
    k = round(float(density_pct) / 100 * int(has_gt.sum()))
    if k > ok.sum():
        nan = float("nan")
        return {"bad2_pct": nan, "bad1_pct": nan, "density_pct": float(100 * ok.sum() / has_gt.sum()), "abs_rel": nan}
    cut = np.sort(conf[ok])[::-1][k - 1] if k > 0 else np.inf
    keep = ok & (conf >= cut)
    return scores(np.where(keep, disp, np.nan), gt)


def timed(fn, repeats: int) -> tuple[Any, float, float]:
    """``fn()``'s result and the median wall and CPU seconds over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return out, float(np.median(walls)), float(np.median(cpus))


#: Our variants, run side by side: the compiled CPU path (4-path SGM, the default), with 8 paths, and the torch path.
VARIANTS = {
    "ours": ("numba, 4-path SGM (default)", {"backend": "numba", "sgm_paths": 4}),
    "ours_8_paths": ("numba, 8-path SGM", {"backend": "numba", "sgm_paths": 8}),
    "torch": ("torch CPU path (reference)", {"backend": "torch", "sgm_paths": 4}),
}


def main() -> None:
    global DOFFS_EVAL
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--downscale", type=int, default=2, help="extra downscale of the 741x500 pair (1 = none)")
    ap.add_argument("--planes", type=int, default=96)
    ap.add_argument("--window", type=int, default=MvsParams().window)
    ap.add_argument("--confidence-threshold", type=float, default=MvsParams().confidence_threshold)
    ap.add_argument("--threads", type=int, default=1, help="torch and OpenCV threads for both methods")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each of ours (median); SGBM gets 5x as many")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    load_start = list(os.getloadavg())  # the machine is shared: how busy it was, start and end
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    left, right, gt, f, cx, cy, doffs = load_pair(args.downscale)
    DOFFS_EVAL = doffs
    h, w = left.shape[:2]
    cams = cameras_for(w, h, f, cx, cy, doffs)
    images = np.stack([left, right])
    base = MvsParams(
        planes=args.planes, window=args.window, num_sources=1, best_k=1, confidence_threshold=args.confidence_threshold
    )
    disp_sgbm, t_sgbm, c_sgbm = timed(lambda: run_sgbm(left, right, float(np.nanmax(gt))), 5 * args.repeats)
    r_sgbm = scores(disp_sgbm, gt)
    methods: dict[str, dict[str, Any]] = {}
    for key, (label, update) in VARIANTS.items():
        params = base.model_copy(update=update)
        clip_depth(images, cams, params, device="cpu")  # warm-up: numba's cached machine code, torch's kernels
        repeats = args.repeats if update["backend"] == "numba" else 1
        out, t, c = timed(lambda p=params: clip_depth(images, cams, p, device="cpu"), repeats)
        disp = f * BASELINE_MM / out.depth[0].astype(np.float64) - doffs
        # like for like: our most confident pixels at exactly SGBM's density (a second run keeping every pixel
        # with any confidence, ranked by confidence)
        loose = clip_depth(images, cams, params.model_copy(update={"confidence_threshold": 0.01}), device="cpu")
        disp_loose = f * BASELINE_MM / loose.depth[0].astype(np.float64) - doffs
        methods[key] = {
            "label": label,
            **scores(disp, gt),
            "time_s": t,
            "cpu_s": c,
            "at_sgbm_density": at_density(disp_loose, loose.confidence[0], gt, r_sgbm["density_pct"]),
            "cpu_time_ratio_over_sgbm": c / c_sgbm,
            "depth_range_mm": out.depth_range[0].tolist(),
        }
    ours = methods["ours"]
    result = {
        "pair": "Middlebury 2014 Motorcycle (skimage.data.stereo_motorcycle)",
        "evaluated_size": [w, h],
        "downscale_from_741x500": args.downscale,
        "bad_px_threshold": 2.0,
        "threads": args.threads,
        "repeats": args.repeats,
        "machine": f"{cpu_model()}, {platform.machine()}, {torch.get_num_threads()} torch thread(s)",
        "params": base.model_dump(),
        "ours": {k: v for k, v in ours.items() if k != "at_sgbm_density"},
        "sgbm": {**r_sgbm, "time_s": t_sgbm, "cpu_s": c_sgbm},
        "ours_at_sgbm_density": ours["at_sgbm_density"],
        "methods": methods,
        "time_ratio_ours_over_sgbm": ours["time_s"] / t_sgbm,
        "cpu_time_ratio_ours_over_sgbm": ours["cpu_s"] / c_sgbm,
        "cpu_speedup_ours_over_torch": methods["torch"]["cpu_s"] / ours["cpu_s"],
        "depth_range_mm": ours["depth_range_mm"],
        "load_average_1_5_15_min": {"start": load_start, "end": list(os.getloadavg())},
    }
    write_result(args.out, result)

    print(f"Middlebury Motorcycle at {w}x{h} (bad-2px at this resolution; density over GT pixels; median CPU s)")
    head = f"{'method':<30}{'bad-2px %':>10}{'density %':>11}{'AbsRel':>9}{'@SGBM dens.':>12}{'cpu s':>9}{'x SGBM':>8}"
    print(head)
    for r in methods.values():
        print(
            f"{r['label']:<30}{r['bad2_pct']:>10.2f}{r['density_pct']:>11.1f}{r['abs_rel']:>9.4f}"
            f"{r['at_sgbm_density']['bad2_pct']:>12.2f}{r['cpu_s']:>9.3f}{r['cpu_time_ratio_over_sgbm']:>8.1f}"
        )
    print(f"{'OpenCV StereoSGBM':<30}{r_sgbm['bad2_pct']:>10.2f}{r_sgbm['density_pct']:>11.1f}{r_sgbm['abs_rel']:>9.4f}"
          f"{'':>12}{c_sgbm:>9.3f}{1:>8.1f}")  # fmt: skip
    print(f"CPU time ratio ours/SGBM {result['cpu_time_ratio_ours_over_sgbm']:.1f}, "
          f"torch/ours {result['cpu_speedup_ours_over_torch']:.1f}   -> {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark of pretraining throughput: samples/s per objective and the share of step time spent waiting for data.

Usage: .venv/bin/python bench/bench_training.py [--steps N] [--clips C] [--frames F] [--accelerator cpu|cuda]
Trains the default network (params.yaml defaults: width, depth, batch size, image size) on tiny synthetic
curated shards at the curation resolution (160x120), through the real data module, Lightning module and
Trainer. Data wait = time from the end of one training batch to the start of the next (the loader);
the target is under 10% of step time. ``photometric`` (issue 23) is timed beside ``mvs`` in the same run, and its
throughput ratio against ``mvs`` (same workers) is printed and recorded. Prints a table and writes
bench/results/training.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import torch

from machine import write_result
from mannequin.clips.cameras import Camera
from mannequin.config import load_params
from mannequin.curation.shards import write_shard

RESULTS = Path(__file__).parent / "results" / "training.json"
THREADS_RESULTS = Path(__file__).parent / "results" / "training_threads.json"
#: (torch threads, loader workers) of the --threads table; the first is the peer (TrainerParams' default; params.yaml
#: sets 2 threads from this table)
THREAD_RUNS = [(1, 1), (2, 1), (2, 0), (1, 0)]
RUNS = [("mvs", 1), ("masked", 1), ("contrastive", 1), ("photometric", 1), ("mvs+photometric", 1), ("mvs", 0)]
#: the peer each run's throughput is compared with (same loader workers, same run of this script)
PEER = "mvs"


def write_synthetic(root: Path, clips: int, frames: int, w: int = 160, h: int = 120) -> list[str]:
    """Curated shards of textured scenes with MVS-like depth (NaN holes, confidence) and a splits.csv; the camera
    slides sideways by 4% of the median depth a frame, so the photometric objective finds source frames."""
    rng = np.random.default_rng(0)
    ids = [f"bench_{i:02d}" for i in range(clips)]
    v = np.linspace(0, 1, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    K = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1.0]])
    for c in ids:
        depth = np.repeat((1 + 4 * (1 - v) ** 2)[None], frames, 0) * rng.uniform(0.5, 2)
        images = (rng.uniform(0.5, 1, (frames, h, w, 3)) * (200 / depth)[..., None]).clip(0, 255).astype(np.uint8)
        conf = rng.uniform(0.3, 1, depth.shape).astype(np.float32)
        depth[rng.uniform(size=depth.shape) < 0.1] = np.nan
        step = 0.04 * float(np.nanmedian(depth))
        cams = [Camera(K, np.eye(3), np.array([-step * f, 0.0, 0.0]), w, h) for f in range(frames)]
        write_shard(root / "curated", c, images, depth.astype(np.float32), conf, cams, list(range(frames)))
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "splits.csv").write_text("clip_id,split\n" + "".join(f"{c},unlabeled\n" for c in ids))
    return ids


def bench_objective(
    root: Path, objective: str, workers: int, steps: int, accelerator: str, threads: int | None = None
) -> dict:
    from mannequin.stages.pretrain import run as run_pretrain

    overrides = {
        **({"pretrain.trainer.threads": threads} if threads is not None else {}),
        "pretrain.trainer.max_steps": steps,
        "pretrain.trainer.accelerator": accelerator,
        "pretrain.trainer.val_every_n_epochs": 1000,
        "pretrain.trainer.checkpoint_every_n_steps": 10_000,
        "pretrain.num_workers": workers,
        "pretrain.val_fraction": 0.0,
        **{f"pretrain.{key}": str(root / key) for key in ("curated", "data", "runs")},
        "pretrain.out": str(root / "models"),
    }
    params = load_params(None, overrides)  # the defaults and these overrides
    c0, t0 = time.process_time(), time.perf_counter()
    result = run_pretrain(params, objective)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tp = result.throughput
    p = params.pretrain
    row = {
        "objective": objective,
        "threads": torch.get_num_threads(),
        "num_workers": workers,
        "batch_size": p.batch_size,
        "image_size": f"{p.image_size[0]}x{p.image_size[1]}",
        "net": f"width {p.net.width}, depth {p.net.depth}",
        "measured_steps": tp["steps"],
        "samples_per_s": round(tp["samples_per_s"], 2),
        "step_ms": round(tp["step_ms"], 1),
        "data_wait_share": round(tp["data_wait_share"], 4),
        "run_wall_s": round(wall, 2),
        "run_cpu_s": round(cpu, 2),
    }
    if torch.cuda.is_available() and accelerator != "cpu":
        row["peak_gpu_mem_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        torch.cuda.reset_peak_memory_stats()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="training steps per run (2 warm-up steps not timed)")
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help=f"default {RESULTS} ({THREADS_RESULTS} with --threads)")
    parser.add_argument(
        "--threads", action="store_true", help="only mvs, with 1 and 2 torch threads and 0 or 1 loader workers"
    )
    args = parser.parse_args()
    if args.threads:
        bench_threads(args)
        return
    args.out = args.out or RESULTS
    import logging

    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    rows = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic(Path(tmp), args.clips, args.frames)
        for objective, workers in RUNS:
            rows.append(bench_objective(Path(tmp), objective, workers, args.steps, args.accelerator))
    total = time.perf_counter() - start
    peers = {r["num_workers"]: r["samples_per_s"] for r in rows if r["objective"] == PEER}
    for r in rows:
        r[f"samples_per_s_vs_{PEER}"] = round(r["samples_per_s"] / peers[r["num_workers"]], 3)
    vs = f"vs {PEER}"
    print(f"{'objective':>24} {'workers':>7} {'samples/s':>9} {vs:>7} {'step ms':>8} {'data wait':>9} {'run s':>6}")
    for r in rows:
        print(
            f"{r['objective']:>24} {r['num_workers']:>7} {r['samples_per_s']:>9.1f} "
            f"{r[f'samples_per_s_vs_{PEER}']:>7.2f} {r['step_ms']:>8.0f} {100 * r['data_wait_share']:>8.1f}% "
            f"{r['run_wall_s']:>6.1f}"
        )
    worst = max(r["data_wait_share"] for r in rows)
    print(f"worst data-wait share {100 * worst:.1f}% (target < 10%): {'met' if worst < 0.10 else 'NOT met'}")
    result = {
        "benchmark": "training",
        "what": "pretraining throughput per objective on synthetic curated shards (160x120 stored, default net); "
        f"samples_per_s_vs_{PEER}: the ratio to {PEER} with the same loader workers, in the same run",
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "accelerator": args.accelerator,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() and args.accelerator != "cpu" else None,
        },
        "command": "python bench/bench_training.py"
        + (f" --accelerator {args.accelerator}" if args.accelerator != "cpu" else ""),
        "data_wait_target": 0.10,
        "data_wait_target_met": worst < 0.10,
        "total_s": round(total, 1),
        "rows": rows,
    }
    write_result(args.out, result)


def bench_threads(args: argparse.Namespace) -> None:
    """Does the second core pay? ``mvs`` pretraining samples/s at each of :data:`THREAD_RUNS`, as a ratio to the
    first (one thread, one loader worker: TrainerParams' default), in one run on the same shards."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic(Path(tmp), args.clips, args.frames)
        for threads, workers in THREAD_RUNS:
            rows.append(bench_objective(Path(tmp), "mvs", workers, args.steps, args.accelerator, threads))
    peer = rows[0]["samples_per_s"]
    print(f"{'threads':>7} {'workers':>7} {'samples/s':>9} {'vs 1+1':>7} {'data wait':>9} {'cpu s / wall s':>14}")
    for r in rows:
        r["samples_per_s_vs_default"] = round(r["samples_per_s"] / peer, 3)
        ratio, busy = r["samples_per_s_vs_default"], r["run_cpu_s"] / r["run_wall_s"]
        print(f"{r['threads']:>7} {r['num_workers']:>7} {r['samples_per_s']:>9.1f} {ratio:>7.2f}"
              f" {100 * r['data_wait_share']:>8.1f}% {busy:>14.2f}")  # fmt: skip
    write_result(args.out or THREADS_RESULTS, {
        "benchmark": "training_threads",
        "what": "mvs pretraining samples/s with 1 or 2 torch threads and 0 or 1 loader workers (synthetic shards,"
        " default net); samples_per_s_vs_default: the ratio to 1 thread + 1 worker (TrainerParams' default), same run",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]},
        "command": "python bench/bench_training.py --threads",
        "rows": rows,
    })  # fmt: skip


if __name__ == "__main__":
    main()

"""Pretraining's data path as the curated set grows: 1,000 clips against 100, in one run.

    .venv/bin/python bench/bench_data_scale.py [--clips 100,1000] [--frames 2] [--steps 30]

Writes small synthetic shards in the real format (``curation.shards.write_shard``, 160x120 as curation stores
them, ``--frames`` per clip) and, for each size, measures:

- start-up: building the pretraining data module (listing shards, reading each ``meta.json``, splitting), and
  reading every shard byte once, as ``run_pretrain``'s resume digest does;
- shard handles: one shuffled pass over every frame in one process (what a loader worker does in an epoch), then
  the memory maps and file descriptors it holds open; with the default bound on open shards
  (``ShardFrames.max_open_shards``) and without one (``None``: the behaviour before the bound), side by side;
- the data-wait share of a short real ``run_pretrain`` (objective mvs, one loader worker, default network):
  the share of step time spent waiting for the loader (target under 10%).

Prints a table and writes bench/results/data_scale.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import torch

from bench_training import write_synthetic  # the training bench's synthetic shards, shared
from machine import write_result
from mannequin.config import load_params

RESULTS = Path(__file__).parent / "results" / "data_scale.json"


def open_handles() -> tuple[int, int]:
    """(memory-mapped .npy files, open file descriptors) of this process."""
    maps = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if line.endswith(".npy")}
    return len(maps), len(os.listdir("/proc/self/fd"))


def one_pass(dataset, bound: int | None, seed: int = 0) -> dict:
    """Read every frame of ``dataset`` once in shuffled order with ``bound`` open shards; what stays open."""
    type(dataset).max_open_shards = bound
    dataset._shards = {}
    base_maps, base_fds = open_handles()
    order = np.random.default_rng(seed).permutation(len(dataset))
    start = time.perf_counter()
    for i in order:
        dataset[int(i)]
    seconds = time.perf_counter() - start
    maps, fds = open_handles()
    dataset._shards = {}
    return {"bound": bound, "frames": len(order), "s": round(seconds, 2), "ms_per_frame": 1000 * seconds / len(order),
            "open_shards_npy_maps": maps - base_maps, "extra_fds": fds - base_fds}  # fmt: skip


def measure(root: Path, steps: int, default_bound: int | None) -> dict:
    from mannequin.learning.data import PretrainDataModule, ShardFrames
    from mannequin.stages.pretrain import run as run_pretrain

    overrides = {
        "pretrain.trainer.max_steps": steps,
        "pretrain.trainer.accelerator": "cpu",
        "pretrain.trainer.val_every_n_epochs": 1000,
        "pretrain.trainer.checkpoint_every_n_steps": 10_000,
        "pretrain.num_workers": 1,
    }
    params = load_params(root / "absent.yaml", overrides)
    p = params.pretrain
    c0, t0 = time.process_time(), time.perf_counter()
    dm = PretrainDataModule(root / "curated", root / "data", p.image_size, p.batch_size, p.val_fraction, p.seed)
    dm_s, dm_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    h = hashlib.sha256()
    nbytes = 0
    for s in dm.shards:
        for name in ("meta.json", "images.npy", "depth.npy", "confidence.npy"):
            data = (s.path / name).read_bytes()
            nbytes += len(data)
            h.update(data)
    read_s = time.perf_counter() - t0
    for i in range(min(16, len(dm.train_set))):  # warm-up: first-call costs (OpenCV, torch) stay out of the passes
        dm.train_set[i]
    passes = [one_pass(dm.train_set, None), one_pass(dm.train_set, default_bound)]
    ShardFrames.max_open_shards = default_bound
    t0 = time.perf_counter()
    result = run_pretrain(params, "mvs", root / "curated", root / "data", root / "models", root / "runs")
    run_s = time.perf_counter() - t0
    tp = result.throughput
    return {
        "clips": len(dm.shards),
        "frames": len(dm.train_set) + len(dm.val_set),
        "datamodule_s": round(dm_s, 4),
        "datamodule_cpu_s": round(dm_cpu, 4),
        "read_all_shard_bytes_s": round(read_s, 4),
        "shard_mb": round(nbytes / 2**20, 1),
        "passes": passes,
        "measured_steps": tp["steps"],
        "samples_per_s": round(tp["samples_per_s"], 2),
        "data_wait_share": round(tp["data_wait_share"], 4),
        "run_pretrain_s": round(run_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default="100,1000", help="comma-separated clip counts; the last is the target")
    parser.add_argument("--frames", type=int, default=2, help="frames per shard")
    parser.add_argument("--steps", type=int, default=30, help="training steps per run (2 warm-up steps not timed)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    import logging

    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mannequin.learning.data import ShardFrames

    default_bound = ShardFrames.max_open_shards
    sizes = [int(c) for c in args.clips.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-data-scale-") as tmp:
        for n in sizes:
            t0 = time.perf_counter()
            write_synthetic(Path(tmp) / str(n), n, args.frames)
            write_s = time.perf_counter() - t0
            rows.append({**measure(Path(tmp) / str(n), args.steps, default_bound), "write_s": round(write_s, 1)})
    small, large = rows[0], rows[-1]
    ratios = {
        "clips": large["clips"] / small["clips"],
        "datamodule_s": large["datamodule_s"] / small["datamodule_s"],
        "datamodule_cpu_s": large["datamodule_cpu_s"] / max(small["datamodule_cpu_s"], 1e-9),
        "read_all_shard_bytes_s": large["read_all_shard_bytes_s"] / small["read_all_shard_bytes_s"],
        "data_wait_share": large["data_wait_share"] / max(small["data_wait_share"], 1e-9),
        "ms_per_frame_bounded": large["passes"][1]["ms_per_frame"] / small["passes"][1]["ms_per_frame"],
    }
    print(f"pretraining data path, {args.frames} frames per shard at 160x120, one loader worker")
    print(
        f"{'clips':>6} {'frames':>6} {'data module s':>13} {'read shards s':>13} {'data wait':>9} "
        f"{'samples/s':>9}   open after one pass (maps / fds): unbounded, bound {default_bound}"
    )
    for r in rows:
        ub, b = r["passes"]
        print(
            f"{r['clips']:>6} {r['frames']:>6} {r['datamodule_s']:>13.3f} {r['read_all_shard_bytes_s']:>13.2f} "
            f"{100 * r['data_wait_share']:>8.1f}% {r['samples_per_s']:>9.1f}   "
            f"{ub['open_shards_npy_maps']} / {ub['extra_fds']}, {b['open_shards_npy_maps']} / {b['extra_fds']}"
        )
    print(
        f"{large['clips']} / {small['clips']} clips: data module {ratios['datamodule_s']:.1f}x wall, "
        f"{ratios['datamodule_cpu_s']:.1f}x CPU, reading the shards "
        f"{ratios['read_all_shard_bytes_s']:.1f}x, data-wait share {ratios['data_wait_share']:.2f}x"
    )
    result = {
        "benchmark": "pretraining data path scaling",
        "command": "python bench/bench_data_scale.py " + " ".join(sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_1min_end": round(os.getloadavg()[0], 2),
        },
        "frames_per_shard": args.frames,
        "steps": args.steps,
        "max_open_shards": default_bound,
        "rows": rows,
        "ratios_large_over_small": ratios,
        "data_wait_target": 0.10,
        "data_wait_target_met": all(r["data_wait_share"] < 0.10 for r in rows),
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()

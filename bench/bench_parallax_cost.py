"""What the Mannequin Challenge model's parallax input costs, each cost against its peer in the same run.

1. Curation: the CPU share of an accepted clip's curation spent computing its parallax input (the
   sweep and masks stored in the shard), on the first ``--clips`` unlabeled clips of the default sample.
2. The ``parallax`` stage on the labeled and test clips of that sample (wall and CPU).
3. Pretraining: seconds per step of the rgb+parallax net against the rgb net on the same shards and steps.

    .venv/bin/python bench/bench_parallax_cost.py [--clips 8] [--steps 40]

Prints a table and writes bench/results/parallax_cost.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from machine import write_result

RESULTS = Path(__file__).parent / "results" / "parallax_cost.json"


def curation_share(data: Path, out: Path, clips: int) -> dict:
    import mannequin.curation.curate as cur
    from mannequin.config import load_params

    params = load_params(None, {"curate.device": "cpu"}).curate
    jobs = [j for j in cur.plan_curation(data, params)[0] if j.split == "unlabeled"][:clips]
    real, spent = cur.shard_parallax, []

    def timed(state):  # type: ignore[no-untyped-def]
        c0 = time.process_time()
        result = real(state)
        spent.append(time.process_time() - c0)
        return result

    cur.shard_parallax = timed
    code, total_accepted, accepted = cur.code_version(), 0.0, 0
    try:
        for job in jobs:
            c0 = time.process_time()
            row = cur.curate_clip(job, params, out, code=code)
            if row.accepted:
                total_accepted += time.process_time() - c0
                accepted += 1
    finally:
        cur.shard_parallax = real
    share = round(sum(spent) / total_accepted, 3) if total_accepted else None
    return {"clips": len(jobs), "accepted": accepted, "accepted_cpu_s": round(total_accepted, 2),
            "parallax_cpu_s": round(sum(spent), 2), "parallax_share": share}  # fmt: skip


def parallax_stage(data: Path, out: Path) -> dict:
    from mannequin.config import load_params
    from mannequin.curation.parallax_store import store_parallax

    p = load_params(None, {"curate.device": "cpu", "parallax.data": str(data), "parallax.out": str(out)})
    c0, t0 = time.process_time(), time.perf_counter()
    index = store_parallax(p.curate, p.parallax)
    return {"clips": len(index["clips"]), "frames": sum(c["frames"] for c in index["clips"].values()),
            "wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2)}  # fmt: skip


def pretrain_steps(data: Path, curated: Path, root: Path, steps: int) -> dict:
    from mannequin.config import load_params
    from mannequin.stages.pretrain import run as run_pretrain

    rows = {}
    for objective in ("mvs", "mvs-parallax"):
        p = load_params(None, {
            "pretrain.curated": str(curated), "pretrain.data": str(data), "pretrain.runs": str(root / "runs"),
            "pretrain.out": str(root / "models"), "pretrain.trainer.max_steps": steps,
            "pretrain.trainer.accelerator": "cpu", "pretrain.trainer.val_every_n_epochs": 1000,
            "pretrain.trainer.checkpoint_every_n_steps": 10_000, "pretrain.val_fraction": 0.0,
        })  # fmt: skip
        result = run_pretrain(p, objective)
        rows[objective] = {"step_ms": round(result.throughput["step_ms"], 1),
                           "data_wait_share": round(result.throughput["data_wait_share"], 4)}  # fmt: skip
    rows["ratio"] = round(rows["mvs-parallax"]["step_ms"] / rows["mvs"]["step_ms"], 3)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    import logging

    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mannequin.sample.dataset import write_sample_data

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "data"
        write_sample_data(data, n_clips=24, progress=False)
        curated = root / "curated"
        cur = curation_share(data, curated, args.clips)
        stage = parallax_stage(data, root / "parallax")
        train = pretrain_steps(data, curated, root, args.steps)
    print(f"curation: parallax input {100 * cur['parallax_share']:.1f}% of the CPU of {cur['accepted']} accepted clips")
    print(f"parallax stage: {stage['clips']} clips, {stage['frames']} frames, {stage['wall_s']} s wall")
    print(f"pretraining step: rgb {train['mvs']['step_ms']} ms, rgb+parallax {train['mvs-parallax']['step_ms']} ms "
          f"(x{train['ratio']})")  # fmt: skip
    result = {
        "benchmark": "parallax_cost",
        "command": f"python bench/bench_parallax_cost.py --clips {args.clips} --steps {args.steps}",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_start": load},
        "curation": cur,
        "parallax_stage": stage,
        "pretrain": train,
    }
    write_result(RESULTS, result, indent=1)


if __name__ == "__main__":
    main()

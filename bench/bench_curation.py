"""Curation throughput: clips/s of the Prefect curate flow with the thread runner and a local Dask cluster of 1 and
2 worker processes, and of the plain library loop (no Prefect), on the same small sample dataset, in one run.

    .venv/bin/python bench/bench_curation.py [--clips 6] [--width 64] [--height 48] [--frames 6]

Every runner starts from an empty output folder (no cache). Times are the runs' own wall time (``timings.json``:
planning, content hashing and the clip tasks; not the gates), without the Prefect server's start-up, which is
reported separately.
One torch thread per task (OMP_NUM_THREADS=1) so runners compare worker counts, not thread oversubscription.
Per runner it also splits the wall time: seconds inside the clip tasks (median, slowest) and outside them
(cluster start-up, scheduling), which is where Dask's cost on a small set goes.
Prints a table and writes bench/results/curation.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "curation.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    from mannequin.env import configure_offline

    configure_offline(ROOT)
    from mannequin.cli.curate_commands import load_curate_flow
    from mannequin.config import load_params
    from mannequin.curation.curate import curate_dataset
    from mannequin.sample.dataset import write_sample_data

    work = Path(tempfile.mkdtemp(prefix="bench-curation-"))
    try:
        data = work / "data"
        write_sample_data(
            data, args.clips, args.seed, args.width, args.height, (args.frames, args.frames), progress=False
        )
        base = load_params(ROOT / "params.yaml", {"curate.max_width": args.width, "curate.device": "cpu"}).curate
        # the gates judge the data, not the speed: a small random set may fall under the accepted-fraction floor
        base = base.model_copy(update={"gates": base.gates.model_copy(update={"min_accepted_fraction": 0.0})})

        import great_expectations  # noqa: F401  (import costs stay out of the timed runs)

        import mannequin.curation.mvs  # noqa: F401
        from mannequin.curation.curate import curate_clip, plan_curation

        jobs, _ = plan_curation(data, base)  # warm-up: first-call costs (torch, OpenCV) stay out of the timed runs
        curate_clip(next(j for j in jobs if j.split != "test"), base, work / "warm-up")

        rows = []
        outcome = curate_dataset(data, work / "serial", base)
        serial_wall = json.loads((work / "serial" / "timings.json").read_text())["wall_s"]
        rows.append({"runner": "serial (no Prefect)", "workers": 1, "wall_s": serial_wall, "clips": args.clips})

        t0 = time.perf_counter()
        flow = load_curate_flow()
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:  # starts the temporary server once, outside the timed runs
            client.hello()
        startup = time.perf_counter() - t0

        for runner, workers in (("threads", 2), ("dask", 1), ("dask", 2)):
            params = base.model_copy(update={"runner": runner, "workers": workers})
            out = work / f"{runner}-{workers}"
            t0 = time.perf_counter()
            flow(data=str(data), out=str(out), params=params.model_dump(mode="json"))
            outer = time.perf_counter() - t0
            timings = json.loads((out / "timings.json").read_text())
            assert timings["executed"] == args.clips and timings["failed"] == 0, timings
            same = (out / "clips.csv").read_text() == (work / "serial" / "clips.csv").read_text()
            task_s = sorted(timings["clip_s"].values())
            rows.append(
                {"runner": runner, "workers": workers, "wall_s": timings["wall_s"], "call_s": outer,
                 "clips": args.clips, "same_clips_csv": same, "task_s_sum": sum(task_s),
                 "task_s_median": task_s[len(task_s) // 2], "task_s_max": task_s[-1],
                 # wall time not spent inside clip tasks (cluster start-up, scheduling, result transfer)
                 "outside_tasks_s": timings["wall_s"] - sum(task_s) / workers}
            )  # fmt: skip
        for r in rows:
            r["clips_per_s"] = r["clips"] / r["wall_s"]
        by = {(r["runner"], r["workers"]): r for r in rows}
        speedup = by[("dask", 2)]["clips_per_s"] / by[("dask", 1)]["clips_per_s"]
        threads_vs_dask1 = by[("threads", 2)]["clips_per_s"] / by[("dask", 1)]["clips_per_s"]
        prefect_overhead = by[("threads", 2)]["wall_s"] / by[("serial (no Prefect)", 1)]["wall_s"]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"curation throughput: {args.clips} sample clips, {args.width}x{args.height}, {args.frames} frames each")
    print(
        f"{'runner':<22} {'workers':>7} {'wall s':>8} {'clips/s':>8} {'task s median':>13} {'task s max':>10} "
        f"{'outside tasks s':>15}  same clips.csv as serial"
    )
    for r in rows:
        same = "" if "same_clips_csv" not in r else ("yes" if r["same_clips_csv"] else "NO")
        med = " " * 40
        if same:
            med = f"{r['task_s_median']:>13.2f} {r['task_s_max']:>10.2f} {r['outside_tasks_s']:>15.2f}"
        print(f"{r['runner']:<22} {r['workers']:>7} {r['wall_s']:>8.2f} {r['clips_per_s']:>8.3f} {med}  {same}")
    print(f"Dask 2 workers / 1 worker speed-up: {speedup:.2f}x; threads(2) / Dask(1): {threads_vs_dask1:.2f}x")
    print(f"Prefect temporary server start-up {startup:.1f} s (not in the walls above)")
    result = {
        "benchmark": "curation throughput",
        "command": "python bench/bench_curation.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "dataset": {
            "clips": args.clips,
            "width": args.width,
            "height": args.height,
            "frames": args.frames,
            "seed": args.seed,
            "by_reason": outcome.summary["by_reason"],
        },
        "runs": rows,
        "dask_speedup_2_over_1": speedup,
        "threads2_over_dask1": threads_vs_dask1,
        "prefect_flow_over_serial_wall": prefect_overhead,
        "prefect_server_startup_s": startup,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

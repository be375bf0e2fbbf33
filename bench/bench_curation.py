"""Curation throughput: clips/s of the Prefect curate flow with the thread runner and a local Dask cluster of 1 and
2 worker processes, and of the plain library loop (no Prefect), on the same sample dataset, in one run.

    .venv/bin/python bench/bench_curation.py [--clips 256] [--width 160] [--height 120] [--frames 8,12]

The clips are the sample renderer's at its default size (160x120, 8-12 frames, as ``make demo``'s), and many, so
that per-clip costs dominate and start-up does not. Every runner starts from an empty output folder (no cache), and
every runner's clips.csv must equal the serial loop's (``same_clips_csv``). Times are the runs' own wall time
(``timings.json``: planning, content hashing and the clip tasks; not the gates).
Start-up is spent once and reported apart: the Prefect temporary server is started before any timed run, and for
each Dask worker count the bench starts the local cluster itself, with the ``cluster_kwargs`` of
the curate flow's ``make_task_runner`` (so the same worker setup), runs a warm-up flow on a few clips (the
workers' first imports and numba's cache load) and then the timed flow against the cluster's address
(``curate.dask_address``).
One thread per task (OMP_NUM_THREADS=1 and NUMBA_NUM_THREADS=1, set here and inherited by the workers), so runners
compare worker counts, not thread oversubscription; the workers' torch thread count is read back and recorded.
Per runner it also splits the wall time: seconds inside the clip tasks (median, sum) and outside them
(scheduling, result transfer, the Prefect API), and the CPU seconds per clip of the orchestration (the flow
process and the Prefect server) against those of the work.
The parallel headroom (two CPU-bound processes against one, 2.0 on two idle cores) is measured before and after
each run: on a shared machine it, not the runner, caps the 2-worker speed-up.
Prints a table and writes bench/results/curation.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from machine import write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "curation.json"
WARMUP_CLIPS = 4


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _burn(n: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - start


def parallel_headroom(n: int = 4_000_000) -> float:
    """How much faster two CPU-bound processes finish two units of work than one does one, right now (2.0 on two
    idle cores; less when other work shares the machine): the ceiling for a 2-worker speed-up at that moment."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(2) as pool:
        one = pool.apply(_burn, (n,))
        two = max(pool.map(_burn, [n, n], chunksize=1))
    return 2 * one / two


def cpu_by_role() -> dict[str, float]:
    """CPU seconds so far of this process and its live children, by role (flow, Prefect server, Dask)."""
    import psutil

    me = psutil.Process()
    out = {"flow process": 0.0, "prefect server": 0.0, "dask workers": 0.0, "other": 0.0}
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            cmd = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        role = "flow process" if proc.pid == me.pid else "other"
        if "uvicorn" in cmd or ("prefect" in cmd and "server" in cmd):
            role = "prefect server"
        elif "multiprocessing" in cmd:  # Dask's nannies spawn the workers with multiprocessing
            role = "dask workers"
        out[role] += t.user + t.system
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=120)
    parser.add_argument("--frames", default="8,12", help="frames per clip: N, or MIN,MAX (the sample's range)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--unbatched",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run Dask(2) with one clip per task, as the flow was before batching",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    from mannequin.env import configure_offline, quiet_prefect_logs

    configure_offline(ROOT)
    quiet_prefect_logs("WARNING")
    import mannequin.stages.curate_flow as flows
    from mannequin.config import load_params
    from mannequin.curation.curate import curate_dataset
    from mannequin.sample.dataset import write_sample_data

    work = Path(tempfile.mkdtemp(prefix="bench-curation-"))
    try:
        data, warm_data = work / "data", work / "warm-data"
        t0 = time.perf_counter()
        size = (args.width, args.height)
        low, _, high = args.frames.partition(",")
        frames = (int(low), int(high or low))
        write_sample_data(data, args.clips, args.seed, *size, frames, progress=False, workers=2)
        write_sample_data(warm_data, WARMUP_CLIPS, args.seed + 1, *size, frames, progress=False)
        render_s = time.perf_counter() - t0
        base = load_params(ROOT / "params.yaml", {"curate.max_width": args.width, "curate.device": "cpu"}).curate

        import great_expectations  # noqa: F401  (import costs stay out of the timed runs)

        import mannequin.curation.mvs  # noqa: F401
        from mannequin.curation.curate import curate_clip, plan_curation

        jobs, _ = plan_curation(warm_data, base)  # warm-up: first-call costs (torch, OpenCV) stay out of the timed runs
        curate_clip(next(j for j in jobs if j.split != "test"), base, work / "warm-up")

        rows = []
        outcome = curate_dataset(data, work / "serial", base)
        serial_timings = json.loads((work / "serial" / "timings.json").read_text())
        serial_clip_s = sorted(serial_timings["clip_s"].values())
        rows.append({"runner": "serial (no Prefect)", "workers": 1, "wall_s": serial_timings["wall_s"],
                     "clips": args.clips, "task_s_sum": sum(serial_clip_s),
                     "task_s_median": serial_clip_s[len(serial_clip_s) // 2]})  # fmt: skip

        t0 = time.perf_counter()
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:  # starts the temporary server once, outside the timed runs
            client.hello()
        prefect_startup = time.perf_counter() - t0

        def run_flow(params, data_dir: Path, out: Path) -> tuple[dict, float]:
            t = time.perf_counter()
            flows.run_curate(data=str(data_dir), out=str(out), params=params.model_dump(mode="json"))
            return json.loads((out / "timings.json").read_text()), time.perf_counter() - t

        # the last run is the flow as it was before batching (one clip per task), for the orchestration cost per clip
        runs = [("threads", 2, None), ("dask", 1, None), ("dask", 2, None)]
        runs += [("dask", 2, 1)] if args.unbatched else []
        batch_size = flows.batch_size
        for runner, workers, per_task in runs:
            params = base.model_copy(update={"runner": runner, "workers": workers})
            flows.batch_size = batch_size if per_task is None else (lambda clips, workers, n=per_task: n)
            startup: dict = {"parallel_headroom_before": round(parallel_headroom(), 2)}
            cluster = None
            if runner == "dask":
                import dask
                from distributed import Client, LocalCluster

                dask.config.set({"logging.distributed": "warning"})

                kwargs = flows.make_task_runner(params).cluster_kwargs  # the flow's own worker setup
                t = time.perf_counter()
                cluster = LocalCluster(**kwargs)
                startup["cluster_start_s"] = time.perf_counter() - t
                params = params.model_copy(update={"dask_address": cluster.scheduler_address})
                _, startup["warmup_flow_s"] = run_flow(params, warm_data, work / f"warm-{workers}")
                with Client(cluster) as client:
                    startup["worker_torch_threads"] = sorted(client.run(_torch_threads).values())
            try:
                out = work / f"{runner}-{workers}-{per_task}"
                before = cpu_by_role()
                timings, outer = run_flow(params, data, out)
                after = cpu_by_role()  # before the cluster closes: a dead process's CPU time is gone
                cpu = {k: round(after[k] - before.get(k, 0.0), 2) for k in after}
                startup["parallel_headroom_after"] = round(parallel_headroom(), 2)
            finally:
                flows.batch_size = batch_size
                if cluster is not None:
                    cluster.close()
            assert timings["executed"] == args.clips and timings["failed"] == 0, timings
            same = (out / "clips.csv").read_text() == (work / "serial" / "clips.csv").read_text()
            task_s = sorted(timings["clip_s"].values())
            rows.append(
                {"runner": runner if per_task is None else f"{runner}, {per_task} clip/task", "workers": workers,
                 "clips_per_task": per_task or flows.batch_size(args.clips, workers),
                 "wall_s": timings["wall_s"], "call_s": outer,
                 "clips": args.clips, "same_clips_csv": same, "task_s_sum": sum(task_s),
                 "task_s_median": task_s[len(task_s) // 2], "task_s_max": task_s[-1],
                 "worker_processes": timings["worker_processes"],
                 # wall time not spent inside clip tasks (scheduling, result transfer, the Prefect API)
                 "outside_tasks_s": timings["wall_s"] - sum(task_s) / workers, "cpu_s": cpu, **startup}
            )  # fmt: skip
            if runner == "dask":  # the clips ran in the workers: the flow process and the server only orchestrate
                rows[-1]["orchestration_cpu_s_per_clip"] = (cpu["flow process"] + cpu["prefect server"]) / args.clips
                rows[-1]["work_cpu_s_per_clip"] = cpu["dask workers"] / args.clips
        for r in rows:
            r["clips_per_s"] = r["clips"] / r["wall_s"]
        by = {(r["runner"], r["workers"]): r for r in rows}
        speedup = by[("dask", 2)]["clips_per_s"] / by[("dask", 1)]["clips_per_s"]
        threads_vs_serial = by[("threads", 2)]["clips_per_s"] / by[("serial (no Prefect)", 1)]["clips_per_s"]
        dask1_vs_serial = by[("dask", 1)]["clips_per_s"] / by[("serial (no Prefect)", 1)]["clips_per_s"]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"curation throughput: {args.clips} sample clips, {args.width}x{args.height}, {args.frames} frames each")
    print(
        f"{'runner':<20} {'workers':>7} {'wall s':>8} {'clips/s':>8} {'task s med':>10} {'task s sum':>10} "
        f"{'outside s':>9} {'start-up s':>10}  same clips.csv"
    )
    for r in rows:
        same = "" if "same_clips_csv" not in r else ("yes" if r["same_clips_csv"] else "NO")
        outside = f"{r['outside_tasks_s']:>9.2f}" if "outside_tasks_s" in r else " " * 9
        start = f"{r['cluster_start_s'] + r['warmup_flow_s']:>10.2f}" if "cluster_start_s" in r else " " * 10
        print(
            f"{r['runner']:<20} {r['workers']:>7} {r['wall_s']:>8.2f} {r['clips_per_s']:>8.3f} "
            f"{r['task_s_median']:>10.3f} {r['task_s_sum']:>10.1f} {outside} {start}  {same}"
        )
    print("CPU seconds by process during each flow run:")
    for r in rows:
        if "cpu_s" in r:
            print(f"  {r['runner']}({r['workers']}): " + ", ".join(f"{k} {v:.1f}" for k, v in r["cpu_s"].items()))
    headroom = [
        f"{r['runner']}({r['workers']}) {r['parallel_headroom_before']}/{r['parallel_headroom_after']}"
        for r in rows
        if "parallel_headroom_before" in r
    ]
    print("Parallel headroom (2 CPU-bound processes against 1; 2.0 = two idle cores), before/after each run:")
    print("  " + ", ".join(headroom))
    for r in rows:
        if "orchestration_cpu_s_per_clip" in r:
            print(
                f"  {r['runner']}({r['workers']}): orchestration {r['orchestration_cpu_s_per_clip']:.3f} CPU s "
                f"per clip (flow process + Prefect server), work {r['work_cpu_s_per_clip']:.3f} CPU s per clip"
            )
    print(f"Dask 2 workers / 1 worker: {speedup:.2f}x (target >= 1.7x); threads(2) / serial: {threads_vs_serial:.2f}x")
    print(f"Prefect temporary server start-up {prefect_startup:.1f} s (not in the walls above)")
    result = {
        "benchmark": "curation throughput",
        "command": "python bench/bench_curation.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1min_start": round(load_start, 2),
            "load_average_1min_end": round(os.getloadavg()[0], 2),
        },
        "dataset": {
            "clips": args.clips,
            "width": args.width,
            "height": args.height,
            "frames": args.frames,
            "seed": args.seed,
            "render_s": round(render_s, 1),
            "by_reason": outcome.summary["by_reason"],
        },
        "runs": rows,
        "dask_speedup_2_over_1": speedup,
        "dask_speedup_target": 1.7,
        "threads2_over_serial": threads_vs_serial,
        "dask1_over_serial": dask1_vs_serial,
        "prefect_server_startup_s": prefect_startup,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()

"""Pipeline overhead: a no-op `dvc repro`, a fully cached pipeline flow run, and Prefect's per-task cost.

On a toy git + DVC project (prep -> train@s1, train@s2; one-line Python stages), already reproduced:

- no-op ``dvc repro``: DVC checks every stage and skips all (target: under 2 s);
- cached pipeline flow: flows/pipeline.py (:mod:`mannequin.stages.pipeline`), one Prefect task per stage; each
  asks DVC's status in
  process first and starts ``dvc repro --single-item`` only for a stage that is not up to date;
- Prefect per-task overhead: K trivial task calls against K plain calls, timed inside one flow run;
  and the wall time of an empty flow run.

Prefect runs against a temporary local API (``prefect_test_harness``), as in the tests.

    .venv/bin/python bench/bench_pipeline.py [--repeats 3] [--tasks 50]

Prints a table and writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from machine import write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "pipeline.json"


#: the toy project's stages: one line of Python each (prep copies the data, train@<s> writes a metric)
PREP = (
    "python -c \"import pathlib; pathlib.Path('out').mkdir(exist_ok=True); "
    "pathlib.Path('out/prep.txt').write_text(pathlib.Path('data/x.txt').read_text() * 2)\""
)
TRAIN = (
    "python -c \"import json, pathlib; n = len(pathlib.Path('out/prep.txt').read_text()); "
    "pathlib.Path('out/m-${item}.json').write_text(json.dumps({'score': 3 * n}))\""
)


def make_toy_project(root: Path) -> Path:
    """A git + DVC project of three one-line stages (prep -> train@s1, train@s2), committed, nothing reproduced."""
    from mannequin.orchestration.dvc_runner import dvc_command, dvc_env

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, env=dvc_env(), check=True, capture_output=True)

    root.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    git("config", "user.email", "bench@example.invalid")
    git("config", "user.name", "bench")
    git("config", "commit.gpgsign", "false")
    dvc_command(root, ["init", "-q"])
    (root / ".dvc" / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
    (root / "data").mkdir()
    (root / "data" / "x.txt").write_text("frozen\n")
    (root / "params.yaml").write_text("pipeline:\n  retries: 1\n  retry_delay_s: 0.0\n")
    stages = {
        "prep": {"cmd": PREP, "deps": ["data"], "outs": ["out/prep.txt"]},
        "train": {"foreach": ["s1", "s2"], "do": {"cmd": TRAIN, "deps": ["out/prep.txt"],
                                                  "metrics": [{"out/m-${item}.json": {"cache": False}}]}},
    }  # fmt: skip
    (root / "dvc.yaml").write_text(json.dumps({"stages": stages}, indent=2))  # JSON is YAML
    (root / ".gitignore").write_text("/out/prep.txt\n")
    dvc_command(root, ["add", "-q", "data"])
    git("add", ".")
    git("commit", "-q", "-m", "toy project")
    return root


def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=50, help="K trivial tasks for the per-task overhead")
    args = parser.parse_args()

    from mannequin.env import configure_offline, quiet_prefect_logs

    configure_offline(ROOT)
    quiet_prefect_logs("ERROR")
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.environ["DVC_SITE_CACHE_DIR"] = str(work / "dvc-site-cache")

    from mannequin.orchestration import run_stage, stage_order
    from mannequin.orchestration.dvc_runner import dvc_env

    repo = make_toy_project(work / "toy")
    order = stage_order(repo)
    for stage in order:
        run_stage(repo, stage)

    def noop_repro() -> None:
        out = subprocess.run(
            [sys.executable, "-m", "dvc", "repro"], cwd=repo, env=dvc_env(repo), capture_output=True, text=True
        )
        assert out.returncode == 0 and "Running stage" not in out.stdout, out.stdout + out.stderr

    repro_s = timed(noop_repro, args.repeats)
    single_s = timed(lambda: run_stage(repo, order[0], precheck=False), args.repeats)
    precheck_s = timed(lambda: run_stage(repo, order[0]), args.repeats)
    order_s = timed(lambda: stage_order(repo), args.repeats)

    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.flows import load_flow_from_entrypoint
    from prefect.testing.utilities import prefect_test_harness

    pipeline = load_flow_from_entrypoint(f"{ROOT / 'flows' / 'pipeline.py'}:pipeline")

    def trivial(i: int) -> int:
        return i + 1

    trivial_task = task(trivial, name="trivial", cache_policy=NO_CACHE, persist_result=False)

    @flow(name="bench-task-overhead")
    def overhead(k: int) -> tuple[float, float]:
        """Inside one flow run: K task calls, then K plain calls (flow start/finish costs excluded)."""
        start = time.perf_counter()
        for i in range(k):
            trivial_task(i)
        middle = time.perf_counter()
        for i in range(k):
            trivial(i)
        return middle - start, time.perf_counter() - middle

    @flow(name="bench-empty")
    def empty() -> None:
        return None

    start = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=180):
        server_s = time.perf_counter() - start
        pipeline(repo=str(repo))  # warm-up (imports, first API calls)
        flow_runs: list[dict[str, Any]] = []

        def cached_flow() -> None:
            flow_runs.append(pipeline(repo=str(repo)))

        flow_s = timed(cached_flow, args.repeats)
        assert all(s["status"] == "skipped" for run in flow_runs for s in run["stages"])
        overhead(2)  # warm-up
        inside = [overhead(args.tasks) for _ in range(args.repeats)]
        empty_s = timed(empty, args.repeats)

    med = statistics.median
    tasks_s = [t for t, _ in inside]
    plain_s = [p for _, p in inside]
    per_task_ms = 1000 * (med(tasks_s) - med(plain_s)) / args.tasks
    rows = [
        ("no-op dvc repro (3 stages, all skipped)", med(repro_s), "target < 2 s"),
        ("dvc repro --single-item (1 stage, skipped)", med(single_s), "one DVC start-up"),
        ("stage skipped by in-process dvc status", med(precheck_s), "what the flow does first"),
        ("stage order from DVC's graph (in process)", med(order_s), ""),
        ("cached pipeline flow (3 tasks, all skipped)", med(flow_s), f"{med(flow_s) / med(repro_s):.1f}x no-op repro"),
        (f"{args.tasks} trivial task calls in a flow", med(tasks_s), ""),
        (f"{args.tasks} plain calls in a flow", med(plain_s), ""),
        ("Prefect per-task overhead", per_task_ms / 1000, f"{per_task_ms:.1f} ms/task"),
        ("empty flow run (start to finish)", med(empty_s), "per flow run"),
        ("Prefect test server start-up", server_s, "once per session"),
    ]
    print(f"\n{'measurement':<46} {'seconds':>9}  note")
    for name, seconds, note in rows:
        print(f"{name:<46} {seconds:9.3f}  {note}")

    result = {
        "benchmark": "pipeline",
        "command": "python bench/bench_pipeline.py " + " ".join(sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1min": os.getloadavg()[0],
        },
        "repeats": args.repeats,
        "stages": order,
        "noop_dvc_repro_s": med(repro_s),
        "noop_dvc_repro_all_s": repro_s,
        "noop_dvc_repro_under_2s": med(repro_s) < 2.0,
        "single_stage_skip_s": med(single_s),
        "single_stage_precheck_skip_s": med(precheck_s),
        "stage_order_s": med(order_s),
        "cached_flow_s": med(flow_s),
        "cached_flow_all_s": flow_s,
        "cached_flow_over_noop_repro": med(flow_s) / med(repro_s),
        "tasks": args.tasks,
        "task_calls_s": med(tasks_s),
        "task_calls_all_s": tasks_s,
        "plain_calls_s": med(plain_s),
        "empty_flow_run_s": med(empty_s),
        "empty_flow_run_all_s": empty_s,
        "prefect_per_task_overhead_ms": per_task_ms,
        "prefect_test_server_startup_s": server_s,
    }
    write_result(RESULTS, result)


if __name__ == "__main__":
    main()

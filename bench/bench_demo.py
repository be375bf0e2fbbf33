"""The demo, stage by stage: wall time and peak memory of every dvc.yaml stage on the default sample data.

Copies this checkout's tracked files into a temp git repo, writes the sample data there, then runs
``dvc repro --single-item <stage>`` for each stage in DVC's order, measuring the wall time and the peak
resident memory of the stage's process tree (``wait4`` rusage of the dvc child).

    .venv/bin/python bench/bench_demo.py          (about 10-15 minutes on a 2-core CPU)

Prints a table and writes bench/results/demo.json.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "demo.json"
BIN = Path(sys.executable).parent


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Run ``cmd``; return wall seconds, peak RSS in MiB of its largest descendant, and the exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else "")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    from mannequin.env import configure_offline
    from mannequin.orchestration import stage_order

    work = Path(tempfile.mkdtemp(prefix="bench-demo-")) / "repo"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel in ("dvc.lock",):
            continue
        dst = work / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", DVC_SITE_CACHE_DIR=str(work / ".dvc/tmp/sc"))
    configure_offline(work)
    env.update({k: v for k, v in os.environ.items() if k.startswith(("PREFECT", "DVC", "GX", "DO_NOT"))})
    env["PREFECT_HOME"] = str(work / ".prefect")
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)

    rows = []
    wall, rss, rc = run_measured([str(BIN / "mannequin"), "sample-data", "data", "--no-progress"], work, env)
    rows.append({"stage": "sample-data", "wall_s": round(wall, 1), "peak_rss_mib": round(rss), "rc": rc})
    for stage in stage_order(work):
        if stage.endswith(".dvc"):
            continue
        wall, rss, rc = run_measured([str(BIN / "dvc"), "repro", "--single-item", stage], work, env)
        rows.append({"stage": stage, "wall_s": round(wall, 1), "peak_rss_mib": round(rss), "rc": rc})
        print(f"{stage:28s} {wall:8.1f} s {rss:8.0f} MiB  rc={rc}", flush=True)
        if rc:
            break
    total = sum(r["wall_s"] for r in rows)
    result = {
        "benchmark": "demo",
        "command": "python bench/bench_demo.py",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_start": os.getloadavg()},
        "rows": rows,
        "total_wall_s": round(total, 1),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in rows),
        "under_15_min": total < 900,
    }
    print(f"\n{'stage':28s} {'wall s':>8s} {'peak MiB':>9s}")
    for r in rows:
        print(f"{r['stage']:28s} {r['wall_s']:8.1f} {r['peak_rss_mib']:9d}")
    print(f"{'total':28s} {total:8.1f}")
    write_result(RESULTS, result, indent=1)
    shutil.rmtree(work.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Curation of the default sample, before the speed work and now: ``mannequin curate`` of two checkouts, one run.

    .venv/bin/python bench/bench_curation_versions.py [--old f6617c8] [--new HEAD] [--clips 128] [--repeats 1]

The issue's target: ``make demo``'s curate stage at least 2x faster than before the speed work (160 s then),
under the same conditions. Both versions are exported from git (``git archive``, no worktree registered) into a
temporary folder and run with this venv (each checkout's ``src`` and root first on PYTHONPATH, as
``/work/wt/env.sh`` does), on the same sample data (this checkout's ``mannequin sample-data``, the default 128
clips), each with its own ``params.yaml`` (what ``dvc repro curate`` runs): ``mannequin curate --params params.yaml
--data DATA --out OUT --no-progress``, from an empty output folder, timed from outside (process start to exit: the
imports, Prefect's temporary server, the clips and the gates). Before the timed runs each version curates a 4-clip
warm-up set once (numba compiles into its cache, files reach the page cache). Timed runs alternate old, new, old,
new... so that drift of the machine's load hits both alike; the ratio is of the medians. The load average and the
parallel headroom (bench_curation.parallel_headroom: 2.0 on two idle cores) are recorded around every run.

The default old commit is ``f6617c8``, the parent of ``8929341`` (the dependencies of the speed work: numba,
pycolmap, ...), whose curate stage README recorded at 160 s. Prints a table and writes
bench/results/curation_versions.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench_curation import parallel_headroom
from machine import write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "curation_versions.json"
OLD = "f6617c8"
WARMUP_CLIPS = 4


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def export(commit: str, dest: Path) -> str:
    """The tree of ``commit`` written into ``dest`` (``git archive``); returns the full commit id."""
    full = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    tar = subprocess.run(["git", "archive", "--format=tar", full], cwd=ROOT, check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    return full


def checkout_env(checkout: Path, home: Path) -> dict[str, str]:
    """This venv, the checkout's code first on PYTHONPATH, Prefect's home and DVC's site cache in ``home``."""
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PREFECT_API_URL")}
    env.update(
        PYTHONPATH=f"{checkout / 'src'}{os.pathsep}{checkout}",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        PREFECT_HOME=str(home / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        PREFECT_SERVER_API_HOST="127.0.0.1",
        DO_NOT_TRACK="1",
        DVC_NO_ANALYTICS="1",
        GX_ANALYTICS_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def package_file(checkout: Path, env: dict[str, str]) -> str:
    """Where ``import mannequin`` resolves with ``env`` (must be inside the checkout)."""
    code = "import mannequin, flows; print(mannequin.__file__)"
    run = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return run.stdout.strip()


def curate(checkout: Path, env: dict[str, str], data: Path, out: Path) -> float:
    """Wall seconds of ``mannequin curate`` run in ``checkout`` on ``data`` into an empty ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "mannequin"), "curate", "--params", "params.yaml", "--data", str(data),
           "--out", str(out), "--no-progress"]  # fmt: skip
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise RuntimeError(f"mannequin curate failed in {checkout} ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD, help="the commit before the speed work")
    parser.add_argument("--new", default="HEAD")
    parser.add_argument("--clips", type=int, default=128, help="sample clips (the default sample: 128)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per version (alternating)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-curation-versions-"))
    try:
        versions = {}
        for name, commit in (("old", args.old), ("new", args.new)):
            checkout = work / name
            full = export(commit, checkout)
            env = checkout_env(checkout, work / f"{name}-home")
            where = package_file(checkout, env)
            if not where.startswith(str(checkout)):
                raise RuntimeError(f"{name}: mannequin resolves to {where}, not to {checkout}")
            versions[name] = {"commit": full, "subject": git("log", "-1", "--format=%s", full), "checkout": checkout,
                              "env": env}  # fmt: skip
        data, warm = work / "data", work / "warm-data"
        new = versions["new"]
        t0 = time.perf_counter()
        for folder, clips, seed in ((data, args.clips, 0), (warm, WARMUP_CLIPS, 1)):
            cmd = [str(Path(sys.executable).parent / "mannequin"), "sample-data", str(folder), "--clips", str(clips),
                   "--seed", str(seed), "--workers", "2"]  # fmt: skip
            subprocess.run(cmd, cwd=new["checkout"], env=new["env"], check=True, capture_output=True)
        render_s = time.perf_counter() - t0
        for name, v in versions.items():  # warm-up: numba's first compile, imports and files in the page cache
            v["warmup_s"] = round(curate(v["checkout"], v["env"], warm, work / f"warm-{name}"), 1)
        runs: list[dict] = []
        for i in range(args.repeats):
            for name in ("old", "new") if i % 2 == 0 else ("new", "old"):
                v = versions[name]
                before = {"load_average_1min": round(os.getloadavg()[0], 2), "headroom": round(parallel_headroom(), 2)}
                out = work / f"out-{name}"
                seconds = curate(v["checkout"], v["env"], data, out)
                runs.append({"version": name, "repeat": i, "wall_s": round(seconds, 1), **before,
                             "load_average_1min_after": round(os.getloadavg()[0], 2),
                             "headroom_after": round(parallel_headroom(), 2)})  # fmt: skip
                v["summary"] = json.loads((out / "summary.json").read_text())
                v["clips_csv"] = (out / "clips.csv").read_text()
                timings = json.loads((out / "timings.json").read_text())
                v["runner"] = f"{timings.get('runner')}({timings.get('workers')})"
    finally:
        shutil.rmtree(work, ignore_errors=True)

    median = {n: statistics.median(r["wall_s"] for r in runs if r["version"] == n) for n in versions}
    speedup = median["old"] / median["new"]
    print(f"mannequin curate of the default sample ({args.clips} clips), old and new checkouts, alternating")
    print(f"{'version':<8} {'commit':<10} {'runner':<11} {'median s':>9} {'runs s':<20} {'accepted':>8}  subject")
    for n, v in versions.items():
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in runs if r["version"] == n)
        accepted = v["summary"]["by_reason"].get("accepted", 0)
        print(f"{n:<8} {v['commit'][:8]:<10} {v['runner']:<11} {median[n]:>9.1f} {walls:<20} {accepted:>8}  "
              f"{v['subject'][:60]}")  # fmt: skip
    print(f"new is {speedup:.2f}x faster than old (target >= 2x)")
    print("load average / parallel headroom before each run: "
          + ", ".join(f"{r['version']} {r['load_average_1min']}/{r['headroom']}" for r in runs))  # fmt: skip
    result = {
        "benchmark": "curation of the default sample, before and after the speed work",
        "command": "python bench/bench_curation_versions.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_1min_start": round(load_start, 2),
                    "load_average_1min_end": round(os.getloadavg()[0], 2)},
        "clips": args.clips,
        "render_s": round(render_s, 1),
        "versions": {n: {"commit": v["commit"], "subject": v["subject"], "runner": v["runner"],
                         "median_wall_s": median[n], "warmup_s": v["warmup_s"], "by_reason": v["summary"]["by_reason"]}
                     for n, v in versions.items()},
        "same_clips_csv": versions["old"]["clips_csv"] == versions["new"]["clips_csv"],
        "runs": runs,
        "speedup_new_over_old": speedup,
        "speedup_target": 2.0,
        "target_met": speedup >= 2.0,
    }  # fmt: skip
    write_result(args.out, result)


if __name__ == "__main__":
    main()

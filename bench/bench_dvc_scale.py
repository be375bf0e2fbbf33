"""No-op ``dvc repro`` as ``data/`` grows: 1,024 clips against 128, in one run, on the real pipeline definition.

    .venv/bin/python bench/bench_dvc_scale.py [--clips 128,1024] [--repeats 3] [--variants project,data-in-every-stage]

For each size, a temporary git + DVC project holds the project's own ``dvc.yaml`` and ``params.yaml`` (same
stages, deps, params, outs), a copy of the code the stages depend on (``src/mannequin``, ``flows``), and a
``data/`` of N small clip folders in the data contract's layout (``clips/<id>/video.mp4`` and ``poses.txt``,
12 sensor-depth PNGs for every fourth clip, ``splits.csv``), tracked by ``data.dvc`` as in the project. Each stage's
command is swapped for a stub that writes its outputs, so one ``dvc repro`` brings every stage up to date
cheaply; the timed calls are the no-op ``dvc repro`` (every stage checked and skipped) and ``dvc status``,
alternating between the sizes so that drift of the machine's load hits both alike.
Variant ``data-in-every-stage`` (``--variants``) times the pipeline as it was before the data digest (every stage
reading ``data/`` lists ``data``; see ``data_in_every_stage``), in the same run. DVC reads YAML (dvc.yaml, dvc.lock,
params.yaml once per stage with params) with ruamel.yaml, whose C parser comes from ruamel.yaml.clib
(requirements.lock): whether it was active is recorded (``yaml_c_parser``).
Wall times on a loaded machine mostly measure the wait for a CPU; the CPU seconds of the ``dvc`` process are
reported beside them. The target: under 2 s with 1,024 clips; the ratio to 128 (8x the clips) says how the
cost grows: ~1x is flat, 8x linear.
Prints a table and writes bench/results/dvc_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from machine import write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "dvc_scale.json"
CODE = ["src/mannequin", "flows"]
STUB = """import sys
from pathlib import Path

for name in sys.argv[1:]:
    path = Path(name)
    if path.suffix:  # a file output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name + "\\n")
    else:  # a directory output
        path.mkdir(parents=True, exist_ok=True)
        (path / "stub.txt").write_text(name + "\\n")
"""


def _paths(entries: list) -> list[str]:
    """Paths of a stage's outs/metrics/plots list (each a string or a one-key mapping)."""
    return [next(iter(e)) if isinstance(e, dict) else e for e in entries or []]


def stub_pipeline(dvc_yaml: dict) -> dict:
    """The same stages, each command replaced by the stub writing that stage's outputs."""
    stages = {}
    for name, stage in dvc_yaml["stages"].items():
        stage = json.loads(json.dumps(stage))
        body = stage.get("do", stage)
        outs = [p for key in ("outs", "metrics", "plots") for p in _paths(body.get(key))]
        body["cmd"] = "python stub.py " + " ".join(outs)
        stages[name] = stage
    return {**dvc_yaml, "stages": stages}


DIGEST_STAGE = "data-digest"
DIGEST_FILE = "runs/data-digest.json"


def data_in_every_stage(dvc_yaml: dict) -> dict:
    """The pipeline as it was before the data digest: every stage that reads ``data/`` lists ``data`` itself.

    DVC walks a directory dependency (a stat and a state-database lookup per file) once per stage that lists it:
    with ``data`` in N stages, a no-op repro walks ``data/`` N times (plus once for ``data.dvc``). The project's
    ``dvc.yaml`` lists ``data`` in its ``data-digest`` stage only, and that stage's small output everywhere else,
    so ``data/`` is walked twice however many stages read it.
    """
    stages = {}
    for name, stage in dvc_yaml["stages"].items():
        if name == DIGEST_STAGE:
            continue
        stage = json.loads(json.dumps(stage))
        body = stage.get("do", stage)
        body["deps"] = ["data" if d == DIGEST_FILE else d for d in body.get("deps", [])]
        stages[name] = stage
    return {**dvc_yaml, "stages": stages}


def yaml_c_parser() -> bool:
    """Whether DVC's YAML reader (ruamel.yaml, typ="safe") runs on the C parser (ruamel.yaml.clib) here."""
    out = subprocess.run(
        [sys.executable, "-c", "from ruamel.yaml import YAML; print(YAML(typ='safe').Parser.__name__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip() == "CParser"


VARIANTS = {"project": lambda d: d, "data-in-every-stage": data_in_every_stage}


def write_data(data: Path, clips: int) -> int:
    """``clips`` clip folders in the data contract's layout (contents are filler: the stubs never read them)."""
    rows = ["clip_id,split"]
    for i in range(clips):
        clip_id = f"clip_{i:04d}"
        folder = data / "clips" / clip_id
        folder.mkdir(parents=True)
        (folder / "video.mp4").write_bytes(os.urandom(4096))
        (folder / "poses.txt").write_text("stub\n" + f"{i} 1 1 0.5 0.5 0 0 1 0 0 0 0 1 0 0 0 0 1 0\n" * 6)
        split = ("labeled", "unlabeled", "unlabeled", "test")[i % 4]
        if split == "labeled":
            depth = data / "depth" / clip_id
            depth.mkdir(parents=True)
            for f in range(12):
                (depth / f"{f:06d}.png").write_bytes(os.urandom(1024))
        rows.append(f"{clip_id},{split}")
    (data / "splits.csv").write_text("\n".join(rows) + "\n")
    return sum(1 for _ in data.rglob("*") if _.is_file())


def run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DVC_SITE_CACHE_DIR": str(repo / ".dvc" / "tmp" / "site-cache"), "DVC_NO_ANALYTICS": "1"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    out = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed in {repo}:\n{out.stdout}\n{out.stderr}")
    return out


def make_project(repo: Path, clips: int, dvc_yaml: dict) -> int:
    """A reproduced project of ``clips`` clips; returns the number of files in ``data/``."""
    repo.mkdir(parents=True)
    for rel in CODE:
        shutil.copytree(ROOT / rel, repo / rel, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "params.yaml", repo / "params.yaml")
    (repo / "dvc.yaml").write_text(yaml.safe_dump(stub_pipeline(dvc_yaml), sort_keys=False))
    (repo / "stub.py").write_text(STUB)
    files = write_data(repo / "data", clips)
    run(repo, "git", "init", "-q")
    run(repo, "git", "config", "user.email", "bench@example.invalid")
    run(repo, "git", "config", "user.name", "bench")
    run(repo, "dvc", "init", "-q")
    shutil.copy(ROOT / ".dvcignore", repo / ".dvcignore")  # the project's: Python caches in code deps ignored
    run(repo, "dvc", "config", "--local", "core.analytics", "false")
    run(repo, "dvc", "add", "-q", "data")
    run(repo, "dvc", "repro", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "reproduced")
    return files


def timed(repo: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of the child) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = run(repo, *args)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if args[1] == "repro" and "Running stage" in out.stdout:
        raise RuntimeError(f"dvc repro was not a no-op in {repo}:\n{out.stdout}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default="128,1024", help="comma-separated clip counts; the last is the target")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--variants",
        default="project,data-in-every-stage",
        help=f"comma-separated pipeline variants: {', '.join(VARIANTS)}",
    )
    parser.add_argument("--dvc-yaml", type=Path, default=ROOT / "dvc.yaml", help="the pipeline definition to time")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    c_parser = yaml_c_parser()
    sizes = [int(c) for c in args.clips.split(",")]
    variants = args.variants.split(",")
    dvc_yaml = yaml.safe_load(args.dvc_yaml.read_text())
    keys = [(v, n) for v in variants for n in sizes]
    work = Path(tempfile.mkdtemp(prefix="bench-dvc-scale-"))
    try:
        repos, files, setup_s, stages = {}, {}, {}, {}
        for v, n in keys:
            t0 = time.perf_counter()
            repos[v, n] = work / f"{v}-{n}"
            files[v, n] = make_project(repos[v, n], n, VARIANTS[v](dvc_yaml))
            setup_s[v, n] = time.perf_counter() - t0
            stages[v] = run(repos[v, n], "dvc", "stage", "list", "--name-only").stdout.split()
        repro: dict[tuple, list[tuple[float, float]]] = {k: [] for k in keys}
        status: dict[tuple, list[tuple[float, float]]] = {k: [] for k in keys}
        for k in keys:  # warm-up: first calls fill the OS and DVC caches
            timed(repos[k], "dvc", "repro")
        for _ in range(args.repeats):  # interleaved, so that drift of the machine's load hits every project alike
            for k in keys:
                repro[k].append(timed(repos[k], "dvc", "repro"))
                status[k].append(timed(repos[k], "dvc", "status"))
        version = run(repos[keys[0]], "dvc", "--version").stdout.strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(calls: list[tuple[float, float]], i: int) -> float:
        return round(statistics.median(c[i] for c in calls), 3)

    rows = [
        {"variant": v, "clips": n, "data_files": files[v, n], "noop_repro_s": med(repro[v, n], 0),
         "noop_repro_cpu_s": med(repro[v, n], 1), "noop_repro_all_s": [round(t, 3) for t, _ in repro[v, n]],
         "status_s": med(status[v, n], 0), "status_cpu_s": med(status[v, n], 1), "setup_s": round(setup_s[v, n], 1)}
        for v, n in keys
    ]  # fmt: skip
    by = {(r["variant"], r["clips"]): r for r in rows}
    per_variant = {}
    for v in variants:
        small, large = by[v, sizes[0]], by[v, sizes[-1]]
        per_variant[v] = {
            "stages": len(stages[v]),
            "ratio_large_over_small": large["noop_repro_s"] / small["noop_repro_s"],
            "cpu_ratio_large_over_small": large["noop_repro_cpu_s"] / small["noop_repro_cpu_s"],
            # the clip-dependent part: CPU seconds per 1,000 files of data/ between the two sizes
            "cpu_s_per_1000_files": 1000
            * (large["noop_repro_cpu_s"] - small["noop_repro_cpu_s"])
            / (large["data_files"] - small["data_files"]),
            "target_met": large["noop_repro_s"] < 2.0,
        }
    print(f"no-op dvc repro on the project's dvc.yaml (stub commands), DVC {version}")
    print(
        f"{'variant':<19} {'stages':>6} {'clips':>6} {'data files':>10} {'no-op repro s':>13} {'CPU s':>6} "
        f"{'dvc status s':>12} {'CPU s':>6}"
    )
    for r in rows:
        print(
            f"{r['variant']:<19} {len(stages[r['variant']]):>6} {r['clips']:>6} {r['data_files']:>10} "
            f"{r['noop_repro_s']:>13.3f} {r['noop_repro_cpu_s']:>6.2f} {r['status_s']:>12.3f} {r['status_cpu_s']:>6.2f}"
        )
    for v, pv in per_variant.items():
        print(
            f"{v}: {sizes[-1]} clips / {sizes[0]}: {pv['ratio_large_over_small']:.2f}x wall, "
            f"{pv['cpu_ratio_large_over_small']:.2f}x CPU for {sizes[-1] / sizes[0]:.0f}x the clips; "
            f"{pv['cpu_s_per_1000_files']:.2f} CPU s per 1,000 files; under 2 s at {sizes[-1]}: {pv['target_met']}"
        )
    print(
        f"YAML C parser: {c_parser}; load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"on {os.cpu_count()} CPUs"
    )
    main_variant = per_variant[variants[0]]
    result = {
        "benchmark": "dvc no-op repro scaling",
        "command": "python bench/bench_dvc_scale.py " + " ".join(sys.argv[1:]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                    "load_average_1min_start": round(load_start, 2)},
        "yaml_c_parser": c_parser,
        "dvc": version,
        "stages": stages[variants[0]],
        "repeats": args.repeats,
        "rows": [r for r in rows if r["variant"] == variants[0]],
        "all_rows": rows,
        "variants": per_variant,
        "ratio_large_over_small": main_variant["ratio_large_over_small"],
        "cpu_ratio_large_over_small": main_variant["cpu_ratio_large_over_small"],
        "clips_ratio": sizes[-1] / sizes[0],
        "target_s": 2.0,
        "target_met": main_variant["target_met"],
    }  # fmt: skip
    write_result(args.out, result)


if __name__ == "__main__":
    main()

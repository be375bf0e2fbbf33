"""`make install` with uv against the pip fallback: wall time of each in a fresh clone, alternating, as a ratio.

Clones this checkout (its committed state) into temp folders and runs ``make install`` there, with the Makefile's
uv and with ``UV_VERSION=none`` (uv cannot be installed: every step falls back to pip), ``--rounds`` times each,
alternating so that a slow spell of the machine hits both. Both package caches (uv's, pip's) are whatever this
machine has: warm after the first round.

    .venv/bin/python bench/bench_install.py [--rounds 1]

Prints a table and writes bench/results/install.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model, write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "install.json"
#: the two ways of installing, as ``make install`` arguments
WAYS = {"uv": [], "pip": ["UV_VERSION=none"]}


def timed_install(args: list[str]) -> float:
    """Seconds ``make install <args>`` takes in a fresh clone of ROOT (removed afterwards); exits on failure."""
    work = Path(tempfile.mkdtemp(prefix="bench-install-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(work / "repo")], check=True)
        start = time.perf_counter()
        done = subprocess.run(["make", "install", *args], cwd=work / "repo", capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode:
            sys.stderr.write(done.stderr[-2000:])
            raise SystemExit(f"bench_install: make install {' '.join(args)} failed (exit {done.returncode})")
        return wall
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="installs of each kind, alternating")
    opts = parser.parse_args()
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    for r in range(opts.rounds):
        for way, args in WAYS.items():
            times[way].append(timed_install(args))
            print(f"round {r + 1}: {way} {times[way][-1]:.1f} s", flush=True)
    median = {way: statistics.median(t) for way, t in times.items()}
    ratio = median["pip"] / median["uv"]
    print("\n| install | median s | runs |\n|---|---|---|")
    for way in WAYS:
        print(f"| {way} | {median[way]:.1f} | {len(times[way])} |")
    print(f"\npip / uv: {ratio:.2f}x")
    write_result(RESULTS, {"machine": cpu_model(), "rounds": opts.rounds, "seconds": times,
                           "median_s": median, "pip_over_uv": ratio})  # fmt: skip


if __name__ == "__main__":
    main()

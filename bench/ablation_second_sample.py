"""The curation ablation on the default sample and on a second one drawn with another seed and a milder defect mix.

Usage: python bench/ablation_second_sample.py [--params params.yaml] [--out compare] [--seeds 0 1]
       [--samples default second] [--sample-seed 1] [--set KEY=VALUE ...]

The experiment is :mod:`mannequin.stages.ablation` (what each sample is, where its runs go); this script runs it,
writes ``bench/results/ablation_second_sample.json`` and prints a table. Runs resume like ``make compare``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from machine import parse_settings, write_result
from mannequin.errors import InputError
from mannequin.stages.ablation import SAMPLES, run_sample

RESULTS = Path(__file__).resolve().parent / "results" / "ablation_second_sample.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=Path("compare"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--samples", nargs="+", choices=SAMPLES, default=list(SAMPLES))
    ap.add_argument("--sample-seed", type=int, default=1)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = parse_settings(args.overrides, "ablation")
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    try:
        for sample in args.samples:
            entry = run_sample(args.params, sample, args.out, args.seeds, args.sample_seed, overrides)
            results = {**(json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}), sample: entry}
            write_result(RESULTS, results, sort_keys=True)
    except InputError as exc:
        print(f"ablation: error: {exc}", file=sys.stderr)
        return 2
    for sample, r in results.items():
        print(f"\n{sample}: {r['mix']} (seeds {r['seeds']}, {r['wall_s']} s)")
        print(f"{'comparison':<58} {'per seed':<26} {'mean ± spread':<18} beyond")
        for key, c in r["comparisons"].items():
            seeds = ", ".join(f"{100 * v:+.1f}%" for v in c["per_seed"].values())
            print(f"{key:<58} {seeds:<26} {100 * c['mean']:+.1f}% ± {100 * c['spread']:.1f}%    {c['beyond_spread']}")
    print(f"-> {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

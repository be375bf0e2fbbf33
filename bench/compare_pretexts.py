"""Every registered pretext compared on the same curated shards (``make compare``).

Usage: python bench/compare_pretexts.py [--params params.yaml] [--out compare] [--seeds 0 1] [--set KEY=VALUE ...]
       [--report-only] [--results-page docs/results.md] [--results bench/results/compare_pretexts.json]
Needs ``curated/`` (``dvc repro curate``). Writes ``<out>/seed-<s>/{models,runs,metrics}`` and
``<out>/report/pretexts_compared.{md,json,png}`` (the "Pretexts compared" section), and prints the wall time.
``--set`` takes params overrides, e.g. ``--set pretrain.trainer.max_steps=5`` for a quick check.
``--report-only`` writes the report from the seeds' metrics already there (e.g. after one run per seed in
parallel); ``--results-page`` then rewrites the generated table of that page of the docs (between its markers).
The experiment is :mod:`mannequin.stages.compare`. ``--results``
(``make compare``: ``bench/results/compare_pretexts.json``) also gets the comparison, the overrides and the wall
time (None with ``--report-only``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from machine import parse_settings, write_result
from mannequin.errors import InputError
from mannequin.stages.compare import compare_report, run_compare, update_results_page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=Path("compare"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--report-only", action="store_true", help="only write the report from existing metrics")
    ap.add_argument("--results-page", type=Path, default=None, help="rewrite this docs page's generated table")
    ap.add_argument("--results", type=Path, default=None, help="also write the comparison here (bench JSON)")
    args = ap.parse_args()
    overrides = parse_settings(args.overrides, "compare")
    start = time.perf_counter()
    try:
        if args.report_only:
            comparison = compare_report(args.out, args.seeds)
        else:
            comparison = run_compare(args.params, args.seeds, args.out, overrides)
        if args.results_page is not None:
            update_results_page(args.results_page, comparison)
    except InputError as exc:
        print(f"compare: error: {exc}", file=sys.stderr)
        return 2
    if args.results is not None:
        wall = None if args.report_only else round(time.perf_counter() - start, 1)
        record = {"seeds": args.seeds, "overrides": overrides, "wall_s": wall, "comparison": comparison}
        write_result(args.results, record, sort_keys=True)
    wins = ", ".join(f"{b}: {init}" for b, init in comparison["best"].items())
    print(f"pretexts compared over seeds {args.seeds} in {time.perf_counter() - start:.0f} s; best per budget: {wins}")
    print(
        f"-> {args.out / 'report' / 'pretexts_compared.md'}" + (f", {args.results_page}" if args.results_page else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

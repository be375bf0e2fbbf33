"""Every registered pretext compared on the same curated shards (``make compare``).

Usage: python bench/compare_pretexts.py [--params params.yaml] [--out compare] [--seeds 0 1] [--set KEY=VALUE ...]
Needs ``curated/`` (``dvc repro curate``). Writes ``<out>/seed-<s>/{models,runs,metrics}`` and
``<out>/report/pretexts_compared.{md,json,png}`` (the "Pretexts compared" section), and prints the wall time.
``--set`` takes params overrides, e.g. ``--set pretrain.trainer.max_steps=5`` for a quick check.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from mannequin.errors import InputError
from mannequin.learning.compare import run_compare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, default=Path("compare"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = {}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"compare: error: --set {item!r}: expected KEY=VALUE", file=sys.stderr)
            return 2
        overrides[key] = yaml.safe_load(value)
    start = time.perf_counter()
    try:
        comparison = run_compare(args.params, args.seeds, args.out, overrides)
    except InputError as exc:
        print(f"compare: error: {exc}", file=sys.stderr)
        return 2
    wins = ", ".join(f"{b}: {init}" for b, init in comparison["best"].items())
    print(f"pretexts compared over seeds {args.seeds} in {time.perf_counter() - start:.0f} s; best per budget: {wins}")
    print(f"-> {args.out / 'report' / 'pretexts_compared.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fine-tuning recipes compared: the default against the recipe before issue 22, on one sample.

Usage: python bench/bench_finetune_recipe.py [--name default] [--data data] [--curated curated]
       [--parallax parallax] [--pretrained models/pretrain] [--out scale/recipes/<name>] [--set KEY=VALUE ...]

``--pretrained`` reuses pretrained models (the demo's); without it ``mvs`` and ``mvs-parallax`` are pretrained on
``--curated`` first. Then scratch, ``mvs`` and ``mvs-parallax`` are fine-tuned at ``finetune.budgets`` with each
recipe of :data:`RECIPES` and scored on the sample's test clips (:mod:`mannequin.stages.finetune_recipe`). Writes
``bench/results/finetune_recipe.json`` (one entry per ``--name``, kept beside the others) and prints, per recipe,
the abs_rel at each budget and the slope from the smallest to the largest budget, as a ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from machine import cpu_model, parse_settings, write_result
from mannequin.errors import InputError
from mannequin.stages.finetune_recipe import run_recipes

RESULTS = Path(__file__).resolve().parent / "results" / "finetune_recipe.json"
#: the recipes compared: the defaults, and the fine-tuning of before issue 22 (60 steps whatever the budget, the
#: pretrained weights at 0.02 x lr, the last weights exported, 8 held-out frames)
RECIPES = {
    "default": {},
    "before": {
        "finetune.epochs": 0.0, "finetune.select": "last", "finetune.pretrained_lr_scale": 0.02,
        "finetune.val_frames": 8, "finetune.trainer.max_steps": 60, "finetune.trainer.val_every_n_epochs": 2,
    },
}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--name", default="default", help="the sample's name in the results file")
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--curated", type=Path, default=Path("curated"))
    ap.add_argument("--parallax", type=Path, default=Path("parallax"))
    ap.add_argument("--pretrained", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = parse_settings(args.overrides, "bench_finetune_recipe")
    start = time.perf_counter()
    sample = {"data": args.data, "curated": args.curated, "parallax": args.parallax}
    try:
        table = run_recipes(args.params, args.out or Path("scale/recipes") / args.name, RECIPES, sample,
                            args.pretrained, overrides)  # fmt: skip
    except InputError as exc:
        print(f"bench_finetune_recipe: error: {exc}", file=sys.stderr)
        return 2
    entry = {"sample": {k: str(v) for k, v in sample.items()}, "pretrained": str(args.pretrained),
             "overrides": overrides, "recipes": table, "slope": {}, "wall_s": round(time.perf_counter() - start, 1),
             "machine": cpu_model()}  # fmt: skip
    for recipe, rows in table.items():
        print(f"{recipe}:")
        inits = sorted({k.rsplit("-", 1)[0] for k in rows})
        for init in inits:
            budgets = sorted(int(k.rsplit("-", 1)[1]) for k in rows if k.rsplit("-", 1)[0] == init)
            values = [rows[f"{init}-{b}"]["abs_rel"] for b in budgets]
            slope = values[-1] / values[0] - 1.0
            entry["slope"].setdefault(recipe, {})[init] = round(slope, 4)
            cells = "  ".join(f"{b}: {v:.4f}" for b, v in zip(budgets, values, strict=True))
            print(f"  {init:14s} {cells}   {budgets[-1]} vs {budgets[0]} labels: {100 * slope:+.1f}%")
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    write_result(RESULTS, {**results, args.name: entry}, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

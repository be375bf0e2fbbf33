"""Scaling, measured: pretrained depth as unlabelled clips grow, and as compute grows (issue 22, item 5).

Usage: python bench/bench_learning_scale.py [--source DATA:CURATED ...] [--part data|compute|all]
       [--clips 64 128 256 512 1024] [--steps 500 1000 2000] [--widths 16 32] [--out scale]
       [--report-only] [--results bench/results/learning_scale.json] [--figure docs/learning_scale.png]

The pool of unlabelled clips is the first source's (default ``data:curated``, the demo's), then each further
source's. A further source is a sample rendered with another seed and curated, its clip ids renamed apart, e.g.::

    mannequin sample-data extra/raw --clips 540 --seed 11      # then rename its unlabeled clips u11_<n>
    mannequin curate --data extra/data --out extra/curated

The **data curve** pretrains at ``pretrain.trainer.max_steps`` on the first N pool clips for each ``--clips`` the
pool can fill, plus the demo's own clip count; the **compute curve** uses the demo's clips at each ``--steps`` and
each wider ``--widths``. Each point pretrains ``mvs`` and ``mvs-parallax``, scores them median-aligned on the test
clips, the target gap, and fine-tuned at the smallest ``finetune.budgets`` (:mod:`mannequin.stages.learning_scale`).
Points resume (``<out>/<point>/result.json``), so the two parts can run as two processes, one core each, and
``--report-only`` then writes the JSON (with the slope per doubling of clips) and the figure; ``bench/summarize.py``
puts its tables in BENCHMARKS.md. The peer of every point is the demo's point, as a ratio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from machine import cpu_model, parse_settings, write_result
from mannequin.errors import InputError
from mannequin.stages.learning_scale import (
    OBJECTIVES,
    collect,
    compute_curve,
    data_curve,
    pool_clips,
    run_point,
    summarise,
)
from mannequin.stages.params import load_params


def parse_source(text: str) -> tuple[Path, Path]:
    data, sep, curated = text.partition(":")
    if not sep or not data or not curated:
        raise argparse.ArgumentTypeError(f"{text!r}: expected DATA:CURATED")
    return Path(data), Path(curated)


def seed_from(runs: Path, into: Path, objectives: list[str]) -> None:
    """Copy the finished ``pretrain-<objective>`` runs of ``runs`` into a point's runs folder: same shards, params
    and seed give the same digest, so the point resumes at their end instead of training again."""
    import shutil

    for objective in objectives:
        src, dst = runs / f"pretrain-{objective}", into / f"pretrain-{objective}"
        if src.is_dir() and not dst.exists():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("tb"))
            print(f"seeded {dst} from {src}")


def figure(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2))
    budget = next((p["budget"] for p in summary["data_curve"]), "?")
    names = {"pretrained": "pretrained (median-aligned)", "finetuned": f"fine-tuned on {budget} labels (metric)"}
    for objective, colour in zip(OBJECTIVES, ("tab:blue", "tab:orange"), strict=True):
        for key, style in (("pretrained", "-o"), ("finetuned", "--s")):
            pts = [p for p in summary["data_curve"] if objective in p["models"]]
            a.plot([p["clips"] for p in pts], [p["models"][objective][key]["abs_rel"] for p in pts], style,
                   color=colour, label=f"{objective} {names[key]}")  # fmt: skip
            pts = [
                p for p in summary["compute_curve"] if p["width"] == summary["base_width"] and objective in p["models"]
            ]
            b.plot([p["steps"] for p in pts], [p["models"][objective][key]["abs_rel"] for p in pts], style,
                   color=colour)  # fmt: skip
    a.set(xscale="log", xlabel="unlabelled clips rendered (log; dotted: the demo's)", ylabel="test abs_rel",
          title=f"more unlabelled clips ({summary['base_steps']} steps)")  # fmt: skip
    b.set(xscale="log", xlabel="pretraining steps (log)", title=f"more compute ({summary['demo_clips']} clips)")
    a.axvline(summary["demo_clips"], color="grey", lw=0.8, ls=":")
    fig.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--source", type=parse_source, action="append", default=None, metavar="DATA:CURATED")
    ap.add_argument("--part", choices=("data", "compute", "all"), default="all")
    ap.add_argument("--clips", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    ap.add_argument("--steps", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--widths", type=int, nargs="+", default=None, help="net widths (default: params', then 2x)")
    ap.add_argument("--out", type=Path, default=Path("scale"))
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--objectives", nargs="+", choices=OBJECTIVES, default=list(OBJECTIVES))
    ap.add_argument(
        "--reuse-runs",
        type=Path,
        default=None,
        help="a runs folder (e.g. the demo's runs/) whose finished pretrain-<objective> runs seed the demo's point",
    )
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--results", type=Path, default=Path("bench/results/learning_scale.json"))
    ap.add_argument("--figure", type=Path, default=Path("docs/learning_scale.png"))
    args = ap.parse_args()
    overrides = parse_settings(args.overrides, "bench_learning_scale")
    sources = args.source or [(Path("data"), Path("curated"))]
    try:
        params = load_params(args.params, overrides)
        steps, width = params.pretrain.trainer.max_steps, params.pretrain.net.width
        widths = args.widths or [width, 2 * width]
        pool = pool_clips(sources)
        demo_clips = len(pool_clips(sources[:1]))
        clips = sorted({n for n in args.clips if n <= len(pool)} | {demo_clips})
        runs = []
        if args.part in ("data", "all"):
            runs += data_curve(clips, steps, width)
        if args.part in ("compute", "all"):
            runs += compute_curve(demo_clips, args.steps, widths, steps)
        if not args.report_only:
            for run in dict.fromkeys(runs):
                print(f"point {run.name}", flush=True)
                if args.reuse_runs is not None and (run.clips, run.steps, run.width) == (demo_clips, steps, width):
                    seed_from(args.reuse_runs, args.out / run.name / "runs", args.objectives)
                run_point(args.params, run, pool, sources, args.out, args.objectives, overrides)
        budget = min(params.finetune.budgets)
        summary = summarise(collect(args.out, pool, budget), demo_clips, steps, width)
    except InputError as exc:
        print(f"bench_learning_scale: error: {exc}", file=sys.stderr)
        return 2
    summary.update(machine=cpu_model(), pool_clips=len(pool), overrides=overrides,
                   sources=[f"{d}:{c}" for d, c in sources])  # fmt: skip
    print(f"{'point':34s} {'objective':13s} {'clips ok':>8s} {'pre abs_rel':>11s} {'gap':>6s} {'ft abs_rel':>10s}")
    for r in summary["data_curve"] + [r for r in summary["compute_curve"] if r not in summary["data_curve"]]:
        for o, m in r["models"].items():
            gap = "-" if m["target_gap"] is None else f"{m['target_gap']:.3f}"
            print(f"{r['run']:34s} {o:13s} {r['accepted']:8d} {m['pretrained']['abs_rel']:11.4f} {gap:>6s} "
                  f"{m['finetuned']['abs_rel']:10.4f}")  # fmt: skip
    print("slope of abs_rel per doubling of clips:", summary["slope_per_doubling"])
    write_result(args.results, summary)
    if summary["data_curve"]:
        figure(summary, args.figure)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the evaluation where the people are costs: ``mannequin evaluate`` with and without ``evaluate.people``, in
one run, on the same models and test clips.

    .venv/bin/python bench/bench_people_eval.py --data data --models models [--params params.yaml]

The people evaluation runs the parallax input's plane sweep once per test frame (the raw parallax baseline and the
input of rgb+parallax models) and scores every model by pixel group; the plain evaluation only predicts and
scores. Both write into temporary folders; the ratio of their wall times is the figure (a noisy machine shifts
both alike). Prints a table and writes bench/results/people_eval.json (with the verdict figures of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "people_eval.json"


def _timed(params, models: list[Path], out: Path, people: bool) -> tuple[float, dict]:
    from mannequin.evaluation.evaluate import evaluate_dirs

    p = params.evaluate
    start = time.perf_counter()
    results = evaluate_dirs(
        models,
        p.data,
        out,
        alignment=p.alignment,
        min_depth=p.min_depth,
        max_depth=p.max_depth,
        batch_size=p.batch_size,
        examples=0,
        people_curate=params.curate if people else None,
        parallax_store=params.parallax.out,
    )
    return time.perf_counter() - start, results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data")
    ap.add_argument("--models", default="models")
    ap.add_argument("--params", default="params.yaml")
    args = ap.parse_args()
    from machine import cpu_model, write_result
    from mannequin.config import load_params
    from mannequin.evaluation.evaluate import find_model_dirs
    from mannequin.evaluation.people_report import people_summary
    from mannequin.evaluation.regions import PARALLAX

    params = load_params(args.params, {"evaluate.data": args.data})
    models = find_model_dirs(args.models)
    with tempfile.TemporaryDirectory() as tmp:
        plain_s, results = _timed(params, models, Path(tmp) / "plain", people=False)
        people_s, _ = _timed(params, models, Path(tmp) / "people", people=True)
        regions = json.loads((Path(tmp) / "people" / "people" / "regions.json").read_text())
    frames = sum(r["num_frames"] for r in results.values()) // max(len(results), 1)
    people = people_summary(regions, results)
    verdicts = {str(b): e["verdict"] for b, e in people["budgets"].items()}
    out = {
        "models": len(models),
        "test_frames": frames,
        "evaluate_s": round(plain_s, 2),
        "evaluate_people_s": round(people_s, 2),
        "ratio_people_to_plain": round(people_s / plain_s, 3),
        "extra_s_per_test_frame": round((people_s - plain_s) / max(frames, 1), 3),
        "parallax_coverage": {
            s: {g: round(v["coverage"], 4) for g, v in regions["models"][PARALLAX]["clip_sets"][s].items()}
            for s in ("moving", "frozen")
            if s in regions["models"][PARALLAX]["clip_sets"]
        },
        "verdicts": verdicts,
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(f"{'evaluate':<24}{'seconds':>10}")
    print(f"{'plain':<24}{plain_s:>10.1f}")
    print(f"{'with people':<24}{people_s:>10.1f}")
    print(f"ratio {out['ratio_people_to_plain']}, {out['extra_s_per_test_frame']} s more per test frame ({frames})")
    write_result(RESULTS, out, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

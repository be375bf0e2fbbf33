"""What the flicker figures cost the ``evaluate`` stage: the time inside the flicker measure over the stage's time,
in one run of the stage.

    .venv/bin/python bench/bench_flicker_cost.py [--params params.yaml] [--root .]

Runs the evaluate stage (:func:`mannequin.stages.evaluate.run`, the params of ``--params`` with every path under
``--root``: a checkout after ``make demo``, for its data/, models/, parallax/ and curated/) into a temporary folder,
with a clock around each call of the flicker measure of the people evaluation (every model, the raw parallax and
the sensor depth, on every test clip). Both times come from the same run, so a loaded machine shifts them alike.
Prints a table and writes bench/results/flicker_cost.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "flicker_cost.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--root", type=Path, default=Path("."), help="the checkout whose demo outputs are read")
    args = ap.parse_args()
    from machine import cpu_model, write_result
    from mannequin.evaluation import people_eval
    from mannequin.stages import evaluate
    from mannequin.stages.params import load_params

    measure = people_eval.clip_flicker
    calls: list[tuple[float, int]] = []

    def timed(*a, **kw):
        start = time.perf_counter()
        out = measure(*a, **kw)
        calls.append((time.perf_counter() - start, int(out["pairs"])))
        return out

    people_eval.clip_flicker = timed
    root = args.root.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {
            "evaluate.data": str(root / "data"),
            "evaluate.models": str(root / "models"),
            "evaluate.curated": str(root / "curated"),
            "evaluate.out": str(Path(tmp) / "metrics"),
            "parallax.out": str(root / "parallax"),
        }
        params = load_params(args.params, overrides, missing_ok=False)
        start = time.perf_counter()
        results = evaluate.run(params)
        stage_s = time.perf_counter() - start
    people_eval.clip_flicker = measure
    flicker_s = sum(s for s, _ in calls)
    out = {
        "models": len(results),
        "flicker_calls": len(calls),
        "frame_pairs": sum(p for _, p in calls),
        "evaluate_s": round(stage_s, 2),
        "flicker_s": round(flicker_s, 2),
        "flicker_share_of_evaluate": round(flicker_s / stage_s, 4),
        "ms_per_frame_pair": round(1000 * flicker_s / max(sum(p for _, p in calls), 1), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print("| evaluate stage | flicker measure | share | calls | frame pairs | ms per pair |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {stage_s:.1f} s | {flicker_s:.1f} s | {flicker_s / stage_s:.1%} | {len(calls)} | {out['frame_pairs']} "
        f"| {out['ms_per_frame_pair']} |"
    )
    write_result(RESULTS, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

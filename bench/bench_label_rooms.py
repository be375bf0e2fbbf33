"""A label budget over more rooms: the same fine-tuning with the sample's labeled clips and with more of them.

Usage: python bench/bench_label_rooms.py [--extra 24] [--data data] [--parallax parallax]
       [--pretrained models/pretrain] [--out scale/rooms] [--set KEY=VALUE ...]

The demo's sample has 10 labeled clips; fine-tuning holds two out for choosing its weights
(``finetune.val_frames``), so a budget of 8 is one frame of each of 8 rooms and a budget of 32 is four frames of the
same 8 rooms. This benchmark renders the demo's sample again with ``--extra`` more labeled clips (``mannequin
sample-data --extra-labeled``: other rooms; every clip of the demo's sample, the test clips included, byte-identical)
and fine-tunes scratch, ``mvs`` and ``mvs-parallax`` from the same pretrained models (``--pretrained``, the demo's)
at ``finetune.budgets`` on each sample (:func:`mannequin.stages.finetune_recipe.run_recipes`), scored on the same
test clips. It prints metric abs_rel per init and budget, each curve's slope (largest budget against the smallest)
and, per budget, the ratio of the two samples' abs_rel, and writes ``bench/results/label_rooms.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from machine import cpu_model, parse_settings, write_result
from mannequin.errors import InputError

RESULTS = Path(__file__).resolve().parent / "results" / "label_rooms.json"


def compare(fewer: dict[str, dict[str, Any]], more: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per init (``"<init>-<budget>"`` rows of both samples): abs_rel at each budget on both, each curve's slope
    (largest budget / smallest - 1) and the ratio ``more / fewer`` at each budget."""
    out: dict[str, dict[str, Any]] = {}
    for init in sorted({k.rsplit("-", 1)[0] for k in fewer}):
        budgets = sorted(int(k.rsplit("-", 1)[1]) for k in fewer if k.rsplit("-", 1)[0] == init)
        few = [fewer[f"{init}-{b}"]["abs_rel"] for b in budgets]
        many = [more[f"{init}-{b}"]["abs_rel"] for b in budgets]
        out[init] = {
            "budgets": budgets,
            "fewer_rooms": few,
            "more_rooms": many,
            "slope_fewer": round(few[-1] / few[0] - 1.0, 4),
            "slope_more": round(many[-1] / many[0] - 1.0, 4),
            "ratio": [round(y / x, 4) for x, y in zip(few, many, strict=True)],
        }
    return out


def render(data: Path, extra: int, sample: list[str], out: Path) -> Path:
    """The sample of ``data`` rendered again into ``out`` with ``extra`` more labeled clips (``sample``: its
    ``sample-data`` options); ends with one line unless every test clip's sensor depth is byte-identical to
    ``data``'s (another seed or size than the one ``data`` was rendered with)."""
    if not (out / "splits.csv").is_file():
        mannequin = str(Path(sys.executable).with_name("mannequin"))
        cmd = [mannequin, "sample-data", str(out), *sample, "--extra-labeled", str(extra), "--workers", "2",
               "--no-progress"]  # fmt: skip
        subprocess.run(cmd, check=True)
    from mannequin.clips.depth_png import sensor_depth_indices, sensor_depth_path
    from mannequin.evaluation.testset import held_out_clip_ids

    for clip in held_out_clip_ids(data):
        for i in sensor_depth_indices(data, clip):
            png, mine = sensor_depth_path(data, clip, i), sensor_depth_path(out, clip, i)
            if not mine.is_file() or mine.read_bytes() != png.read_bytes():
                raise SystemExit(f"bench_label_rooms: {mine}: not the test clip of {data}: pass --sample as "
                                 "rendered")  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--extra", type=int, default=24, help="labeled clips added to the sample")
    ap.add_argument("--sample", default="--seed 0 --width 160 --height 120",
                    help="the sample-data options --data was rendered with (the demo's)")  # fmt: skip
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--parallax", type=Path, default=Path("parallax"))
    ap.add_argument("--pretrained", type=Path, default=Path("models/pretrain"))
    ap.add_argument("--out", type=Path, default=Path("scale/rooms"))
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = parse_settings(args.overrides, "bench_label_rooms")
    from mannequin.stages.finetune_recipe import run_recipes

    start = time.perf_counter()
    grown = render(args.data, args.extra, args.sample.split(), args.out / "data")
    samples = {
        "fewer": {"data": args.data, "curated": Path("curated"), "parallax": args.parallax},
        "more": {"data": grown, "curated": Path("curated"), "parallax": args.out / "parallax"},
    }
    tables = {}
    try:
        for name, sample in samples.items():
            tables[name] = run_recipes(args.params, args.out / name, {"default": {}}, sample, args.pretrained,
                                       overrides)["default"]  # fmt: skip
    except InputError as exc:
        print(f"bench_label_rooms: error: {exc}", file=sys.stderr)
        return 2
    rows = compare(tables["fewer"], tables["more"])
    print(f"metric test abs_rel; labeled clips: the sample's, and {args.extra} more")
    for init, r in rows.items():
        for i, b in enumerate(r["budgets"]):
            print(f"  {init:14s} {b:3d} labels: {r['fewer_rooms'][i]:.4f} -> {r['more_rooms'][i]:.4f}"
                  f"  (x{r['ratio'][i]:.3f})")  # fmt: skip
        print(f"  {init:14s} slope {100 * r['slope_fewer']:+.1f}% -> {100 * r['slope_more']:+.1f}%")
    write_result(RESULTS, {
        "benchmark": "label_rooms", "command": " ".join(["python", "bench/bench_label_rooms.py", *sys.argv[1:]]),
        "extra_labeled": args.extra, "overrides": overrides, "inits": rows, "scores": tables,
        "wall_s": round(time.perf_counter() - start, 1), "machine": cpu_model(),
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

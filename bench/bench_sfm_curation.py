"""Curation decisions without poses.txt against those with it, on the default sample.

The sample is curated twice in the same run: as written (``curate.poses: given``), and as a copy whose clip
folders hold no ``poses.txt`` (``curate.poses: auto``, so every clip's poses come from pycolmap SfM). The
clips whose accept/reject decisions differ are listed with their defect and both reasons.

    .venv/bin/python bench/bench_sfm_curation.py [--data DIR] [--workers 2] [--clips N]

Without --data it renders the default sample (128 clips) into a temporary folder. Prints the agreement and
the differing clips, and writes bench/results/sfm_curation.json. Acceptance: agreement on at least 90% of clips.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import cpu_model, write_result
from mannequin.config import load_params
from mannequin.curation.curate import code_version, curate_clip, plan_curation, write_outputs

RESULTS = Path(__file__).parent / "results" / "sfm_curation.json"
MIN_AGREEMENT = 0.90


def copy_clips(data: Path, out: Path, clips: int, keep_poses: bool) -> None:
    """The first ``clips`` clips of ``data`` (0: all) and its splits.csv, with or without poses.txt (hard links)."""
    for clip in sorted((data / "clips").iterdir())[: clips or None]:
        for f in clip.rglob("*"):
            if f.is_file() and (keep_poses or f.name != "poses.txt"):
                dst = out / "clips" / clip.name / f.relative_to(clip)
                dst.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(f, dst)
                except OSError:
                    shutil.copy2(f, dst)
    shutil.copy2(data / "splits.csv", out / "splits.csv")


def curate(data: Path, out: Path, poses: str, workers: int) -> dict[str, object]:
    params = load_params(Path(__file__).parent.parent / "params.yaml", {"curate.poses": poses}).curate
    jobs, _ = plan_curation(data, params)
    code = code_version()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(lambda job: curate_clip(job, params, out, device="cpu", code=code), jobs))
    write_outputs(out, rows, params, run_gates=False)
    return {r.clip_id: r for r in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a sample dataset (default: render the default one)")
    parser.add_argument("--workers", type=int, default=2, help="clips curated at once")
    parser.add_argument("--clips", type=int, default=0, help="only the first N clips of the sample (0: all)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench-sfm-curation-") as tmp:
        tmp = Path(tmp)
        data = args.data
        if data is None:
            from mannequin.sample.dataset import write_sample_data

            data = tmp / "sample"
            write_sample_data(data, progress=False, workers=2)
        copy_clips(data, tmp / "with_poses", args.clips, keep_poses=True)
        copy_clips(data, tmp / "no_poses", args.clips, keep_poses=False)
        t0 = time.perf_counter()
        given = curate(tmp / "with_poses", tmp / "curated_given", "given", args.workers)
        t1 = time.perf_counter()
        sfm = curate(tmp / "no_poses", tmp / "curated_sfm", "auto", args.workers)
        t2 = time.perf_counter()
        with (data / "sample_truth.csv").open(encoding="utf-8") as fh:
            defects = {r["clip_id"]: r["defect"] for r in csv.DictReader(fh)}
    curated = [c for c in given if given[c].code != "held_out_test"]
    differ = [c for c in curated if given[c].accepted != sfm[c].accepted]
    agreement = 1 - len(differ) / len(curated)
    same_code = sum(given[c].code == sfm[c].code for c in curated) / len(curated)
    print(f"{len(curated)} curated clips (test clips are never curated): decisions agree on {agreement:.1%}")
    print(f"same reason code on {same_code:.1%}; curate with poses {t1 - t0:.0f} s, with SfM poses {t2 - t1:.0f} s")
    rows = []
    for c in differ:
        rows.append({"clip_id": c, "defect": defects.get(c, "?"), "with_poses": given[c].reason or "accepted",
                     "sfm_poses": sfm[c].reason or "accepted"})  # fmt: skip
        print(f"  {c} ({defects.get(c, '?')}): with poses {rows[-1]['with_poses']!r}; SfM {rows[-1]['sfm_poses']!r}")
    print(f"{'PASS' if agreement >= MIN_AGREEMENT else 'FAIL'}  decisions agree on >= {MIN_AGREEMENT:.0%} of clips")
    result = {
        "machine": {"cpu": cpu_model()},
        "clips": len(curated),
        "sample_clips_used": args.clips or "all",
        "agreement": agreement,
        "same_reason_code": same_code,
        "accepted_with_poses": sum(given[c].accepted for c in curated),
        "accepted_with_sfm": sum(sfm[c].accepted for c in curated),
        "wall_s": {"given": t1 - t0, "sfm": t2 - t1},
        "differ": rows,
        "codes": {c: [given[c].code or "accepted", sfm[c].code or "accepted", defects.get(c, "?")] for c in curated},
    }
    write_result(RESULTS, result, indent=1)
    return 0 if agreement >= MIN_AGREEMENT else 1


if __name__ == "__main__":
    sys.exit(main())

"""The curation ablation on the default sample and on a second one drawn with another seed and a milder defect mix
(the entry point is ``bench/ablation_second_sample.py``).

For each sample and seed (``pretrain.seed`` and ``finetune.seed``: the pretraining and the label draw), the
curation ablation of the DAG: ``ablation.objective`` pretrained on the curated clips and on every readable clip
(``curate --accept-all``), both fine-tuned at ``ablation.budgets`` (scratch beside them), every model scored on the
sample's test clips. The reduction (uncurated - curated) / uncurated abs_rel is given per seed, with its mean and
spread over the seeds by :data:`mannequin.evaluation.summary.SPREAD_RULE`.

- ``default``: ``data/`` and ``curated/`` (``dvc repro curate``), pretraining under ``<out>/seed-<s>``: with the
  same ``--set`` as ``make compare`` the curated pretraining is that run's (reused, not retrained; start this after
  the comparison's pretraining); fine-tunes and metrics under ``<out>/default-ablation/seed-<s>``.
- ``second``: written to ``<out>/second-sample/data`` from the sample plan of ``sample_seed`` with the milder
  mix of :func:`milder_plan`, curated into ``<out>/second-sample/curated``, runs under ``<out>/second-sample/seed-<s>``.

Runs resume like ``make compare``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from mannequin.atomic import atomic_write_text
from mannequin.sample.plan import ClipPlan, make_plan
from mannequin.sample.trajectory import MOVING_KINDS
from mannequin.stages import finetune, pretrain
from mannequin.stages.compare import seed_params
from mannequin.stages.finetune import SCRATCH

#: the samples the ablation runs on
SAMPLES = ("default", "second")
#: the defects the second sample keeps: those whose clip still decodes, has poses and gives MVS depth that looks
#: usable (people walking, motion blur, poses of another path). The others of the default mix (rotation only, a
#: static camera, a truncated video) become clean clips, so the second sample has half the defects, all subtle.
MILD_DEFECTS = ("moving", "blur", "pose_mismatch")


def milder_plan(seed: int) -> list[ClipPlan]:
    """The default plan of ``seed`` with only :data:`MILD_DEFECTS` kept; a dropped defect's clip gets a moving
    camera path (drawn from its own seed) instead of the rotation, static or fast path its defect had."""
    plans = []
    for p in make_plan(seed=seed):
        if p.defect not in ("none", *MILD_DEFECTS):
            p = replace(p, defect="none", trajectory=MOVING_KINDS[p.seed % len(MOVING_KINDS)])
        plans.append(p)
    return plans


def write_sample(out: Path, plans: list[ClipPlan]) -> None:
    """Render and write ``plans`` into ``out`` in the data layout (as ``mannequin sample-data`` does)."""
    from mannequin.sample.dataset import render_clip, write_clip

    if (out / "splits.csv").is_file():
        return  # written by an earlier run (the last file written)
    shutil.rmtree(out, ignore_errors=True)
    for p in plans:
        write_clip(render_clip(p), out)
    atomic_write_text(
        out / "sample_truth.csv",
        "\n".join(["clip_id,defect,pose_scale", *(f"{p.clip_id},{p.defect},{p.pose_scale!r}" for p in plans)]) + "\n",
    )
    atomic_write_text(
        out / "splits.csv", "\n".join(["clip_id,split", *(f"{p.clip_id},{p.split}" for p in plans)]) + "\n"
    )


def curate(params: Path, data: Path, out: Path, *extra: str) -> None:
    """``mannequin curate`` (the stage command) of ``data`` into ``out``."""
    exe = shutil.which("mannequin") or str(Path(sys.executable).parent / "mannequin")
    cmd = [exe, "curate", "--params", str(params), "--data", str(data), "--out", str(out), "--no-progress", *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def run_seed(
    params_path: Path, seed: int, roots: tuple[Path, Path], paths: dict[str, str], curated_all: Path, overrides: dict
) -> dict:
    """Pretrain curated and uncurated under ``roots[0]``, fine-tune both and scratch at ``ablation.budgets`` and
    score them under ``roots[1]``; returns the summary of those metrics."""
    from mannequin.evaluation.evaluate import evaluate_dirs
    from mannequin.evaluation.summary import build_summary, load_metrics

    pre, fine = roots
    into = {"finetune.out": str(fine / "models" / "finetune"), "finetune.runs": str(fine / "runs")}
    params = seed_params(params_path, seed, pre, {**overrides, **paths, **into})
    objective, budgets = params.ablation.objective, params.ablation.budgets
    uncurated = f"{objective}-uncurated"
    all_params = seed_params(
        params_path, seed, pre, {**overrides, **paths, **into, "pretrain.curated": str(curated_all)}
    )
    dirs = [pretrain.run(params, objective).out_dir, pretrain.run(all_params, objective, name=uncurated).out_dir]
    dirs += [finetune.run(params, init, b).out_dir for init in (SCRATCH, objective, uncurated) for b in budgets]
    e = params.evaluate
    out = fine / "ablation-metrics"
    evaluate_dirs(dirs, e.data, out, alignment=e.alignment, min_depth=e.min_depth, max_depth=e.max_depth,
                  batch_size=e.batch_size, examples=0)  # fmt: skip
    return build_summary(load_metrics(out), objective)


def over_seeds(summaries: dict[int, dict]) -> dict[str, Any]:
    """Per comparison (pretrained only, fine-tuned at each budget, pretrained against scratch): the per-seed
    reductions, their mean and spread, and whether the mean exceeds the spread."""
    from mannequin.evaluation.summary import beyond_spread, seed_spread

    per: dict[str, dict[int, float]] = {}
    for seed, s in summaries.items():
        for base, parts in s.get("ablation", {}).items():
            if "pretrain" in parts:
                per.setdefault(f"{base}: curated vs uncurated, pretrained only", {})[seed] = parts["pretrain"][
                    "reduction"
                ]
            for b, r in parts.get("finetune", {}).items():
                per.setdefault(f"{base}: curated vs uncurated, fine-tuned on {b}", {})[seed] = r["reduction"]
        for init, rows in s.get("gap", {}).items():
            for b, r in rows.items():
                per.setdefault(f"{init} vs scratch, {b} labels", {})[seed] = r["reduction"]
    out = {}
    for key, by_seed in per.items():
        values = [by_seed[k] for k in sorted(by_seed)]
        mean, spread = seed_spread(values)
        out[key] = {"per_seed": {str(k): v for k, v in sorted(by_seed.items())}, "mean": mean, "spread": spread,
                    "beyond_spread": beyond_spread(values)}  # fmt: skip
    return out


def run_sample(
    params_path: Path, sample: str, out: Path, seeds: list[int], sample_seed: int, overrides: dict[str, Any]
) -> dict[str, Any]:
    """The ablation on one sample (``default`` or ``second``) for every seed: its data, mix, seeds, overrides, wall
    time and comparisons over the seeds."""
    start = time.perf_counter()
    if sample == "default":
        data, curated, base, fine_base = Path("data"), Path("curated"), out, out / "default-ablation"
        mix = "the default sample (mannequin sample-data, seed 0): 32 defects of 6 kinds in 128 clips"
    else:
        base = fine_base = out / "second-sample"
        data, curated = base / "data", base / "curated"
        plans = milder_plan(sample_seed)
        write_sample(data, plans)
        n = sum(p.defect != "none" for p in plans)
        mix = f"sample seed {sample_seed}, {n} defects in {len(plans)} clips, only {', '.join(MILD_DEFECTS)}"
        if not (curated / "clips.csv").is_file():
            curate(params_path, data, curated)
    curated_all = Path(f"{curated}-all")
    if not (curated_all / "clips.csv").is_file():
        curate(params_path, data, curated_all, "--accept-all", "--reuse", str(curated))
    paths = {"pretrain.curated": str(curated), "pretrain.data": str(data), "finetune.data": str(data),
             "evaluate.data": str(data), "evaluate.curated": str(curated)}  # fmt: skip
    summaries = {}
    for seed in seeds:
        roots = (base / f"seed-{seed}", fine_base / f"seed-{seed}")
        summaries[seed] = run_seed(params_path, seed, roots, paths, curated_all, overrides)
    wall = round(time.perf_counter() - start, 1)
    return {"data": str(data), "mix": mix, "seeds": seeds, "overrides": overrides, "wall_s": wall,
            "comparisons": over_seeds(summaries)}  # fmt: skip

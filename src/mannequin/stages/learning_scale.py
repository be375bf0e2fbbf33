"""Scaling, measured (``bench/bench_learning_scale.py``): what more unlabelled clips and more compute buy.

The **pool** is the unlabelled clips of one or more ``(data, curated)`` sources, in order: the default sample's
first, then extra renders (:func:`pool_clips`). A run at ``clips=N`` pretrains on the curated shards of the first
``N`` pool clips that curation accepted, plus the curated non-test clips of the first source that are not unlabelled
(its labelled clips, the same in every run): more rooms is the only change, and the labelled and test clips stay the
first source's. A compute run changes the steps or the width at a fixed number of clips.

Each run pretrains ``mvs`` and ``mvs-parallax`` and scores them as the pipeline does: median-aligned on the test
clips (abs_rel, δ<1.25, the boundary errors ε_acc and ε_comp), the target gap on its held-out curated clips, and
fine-tuned at the smallest label budget (metric abs_rel). Everything of a run lives under ``<out>/<run>/``; a run
objective whose ``<objective>.result.json`` is there is not redone, and its pretrainings resume from their checkpoints.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.clips.ids import validate_clip_id
from mannequin.curation.shards import SHARDS_DIR, list_shards
from mannequin.errors import InputError
from mannequin.learning.data import read_split_table
from mannequin.stages import finetune, pretrain
from mannequin.stages.compare import ensure_parallax_store
from mannequin.stages.params import load_params

#: the pretrainings of every run: the rgb net and the rgb+parallax net, both on MVS targets
OBJECTIVES = ("mvs", "mvs-parallax")
RESULT_SUFFIX = ".result.json"
UNLABELED = "unlabeled"


@dataclass(frozen=True)
class ScaleRun:
    """One point of a curve: ``clips`` pool clips, ``steps`` pretraining steps, net ``width``."""

    clips: int
    steps: int
    width: int

    @property
    def name(self) -> str:
        return f"clips{self.clips:05d}-steps{self.steps:05d}-width{self.width:03d}"

    @classmethod
    def parse(cls, name: str) -> ScaleRun:
        """The run a folder :attr:`name` names."""
        match = _NAME.fullmatch(name)
        if match is None:
            raise InputError(name, "not a scaling point's folder (clipsN-stepsN-widthN)", "bad_point")
        return cls(*(int(v) for v in match.groups()))


_NAME = re.compile(r"clips(\d+)-steps(\d+)-width(\d+)")


@dataclass(frozen=True)
class PoolClip:
    clip_id: str
    shard: Path | None  # None: curation rejected it


def pool_clips(sources: Sequence[tuple[Path, Path]]) -> list[PoolClip]:
    """The unlabelled clips of every ``(data, curated)`` source in ``splits.csv`` order, each with its curated shard
    (None where curation rejected it). A clip id in two sources is an error: runs must not mix two clips' shards."""
    clips: list[PoolClip] = []
    seen: set[str] = set()
    for data, curated in sources:
        shards = {s.path.name: s.path for s in list_shards(curated)}
        for clip_id, split in read_split_table(data).items():
            if split != UNLABELED:
                continue
            if clip_id in seen:
                where = Path(data) / "splits.csv"
                raise InputError(where, f"clip {clip_id!r} is also in an earlier source", "bad_pool")
            seen.add(clip_id)
            clips.append(PoolClip(clip_id, shards.get(clip_id)))
    return clips


def fixed_clips(data: Path) -> dict[str, str]:
    """The first source's clips every run keeps: labelled and test ids (``splits.csv``), besides the pool."""
    return {c: s for c, s in read_split_table(data).items() if s != UNLABELED}


def write_run_inputs(root: Path, pool: list[PoolClip], n: int, data: Path, curated: Path) -> dict[str, int]:
    """``root/curated/shards`` (links to the shards used) and ``root/data/splits.csv`` for a run on the first ``n``
    pool clips; returns the counts of pool clips and accepted ones."""
    shards_dir = root / "curated" / SHARDS_DIR
    shards_dir.mkdir(parents=True, exist_ok=True)
    chosen = pool[:n]
    rows = list(fixed_clips(data).items()) + [(c.clip_id, UNLABELED) for c in chosen]
    fixed_shards = {s.path.name: s.path for s in list_shards(curated)}
    links = {c.clip_id: c.shard for c in chosen if c.shard is not None}
    links.update({c: fixed_shards[c] for c, s in rows if s != UNLABELED and s != "test" and c in fixed_shards})
    for clip_id, target in links.items():
        validate_clip_id(clip_id, "pool clip")
        link = shards_dir / clip_id
        if not link.exists():
            link.symlink_to(Path(target).resolve(), target_is_directory=True)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([("clip_id", "split"), *rows])
    atomic_write_text(root / "data" / "splits.csv", text.getvalue())
    return pool_counts(pool, n)


def pool_counts(pool: list[PoolClip], n: int) -> dict[str, int]:
    """How many pool clips a point on the first ``n`` reads, and how many of them curation accepted."""
    chosen = pool[:n]
    return {"pool_clips": len(chosen), "accepted": sum(c.shard is not None for c in chosen)}


#: the figures a benchmark keeps of a model's metrics file
SCORED = ("abs_rel", "a1", "dbe_acc", "dbe_comp")


def scored_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """:data:`SCORED` of one model's evaluation result."""
    return {k: result["metrics"][k] for k in SCORED}


def run_point(
    params_path: str | Path | None,
    run: ScaleRun,
    pool: list[PoolClip],
    sources: Sequence[tuple[Path, Path]],
    out: Path,
    objectives: Sequence[str] = OBJECTIVES,
    overrides: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Pretrain, score and fine-tune one point for each of ``objectives`` (an objective whose
    ``<objective>.result.json`` is there is read, not redone); returns the point's result."""
    from mannequin.evaluation.evaluate import evaluate_dirs

    root = out / run.name
    data, curated = sources[0]
    counts = write_run_inputs(root, pool, run.clips, data, curated)
    params = load_params(params_path, {
        **(overrides or {}),
        "pretrain.curated": str(root / "curated"), "pretrain.data": str(root / "data"),
        "pretrain.out": str(root / "models" / "pretrain"), "pretrain.runs": str(root / "runs"),
        "pretrain.trainer.max_steps": run.steps, "pretrain.step_factors": {}, "pretrain.net.width": run.width,
        "finetune.pretrained": str(root / "models" / "pretrain"), "finetune.data": str(data),
        "finetune.out": str(root / "models" / "finetune"), "finetune.runs": str(root / "runs"),
        "evaluate.data": str(data),
    })  # fmt: skip
    budget, e = min(params.finetune.budgets), params.evaluate
    todo = [o for o in objectives if not (root / f"{o}{RESULT_SUFFIX}").is_file()]
    if todo:  # the people evaluation (and an rgb+parallax fine-tune) read the stored parallax input
        ensure_parallax_store(params, log)
    for objective in todo:
        done = root / f"{objective}{RESULT_SUFFIX}"
        start = time.perf_counter()
        trained = pretrain.run(params, objective)
        pretrain_s = time.perf_counter() - start
        tuned = finetune.run(params, objective, budget)
        log(f"{run.name}: {objective} pretrained ({trained.steps} steps) and fine-tuned at {budget} labels")
        scored = evaluate_dirs(
            [trained.out_dir, tuned.out_dir], e.data, root / "metrics" / objective, alignment=e.alignment,
            min_depth=e.min_depth, max_depth=e.max_depth, batch_size=e.batch_size, examples=0,
            curated_dir=root / "curated", people_curate=params.curate, parallax_store=params.parallax.out,
        )  # fmt: skip
        pre, ft = scored[f"pretrain-{objective}"], scored[f"finetune-{objective}-{budget}"]
        model = {
            "pretrained": scored_metrics(pre),
            "target_gap": (pre.get("target_gap") or {}).get("abs_rel"),
            "finetuned": scored_metrics(ft),
            "pretrain_s": round(pretrain_s, 1),
            "resumed": trained.resumed,
            "samples_per_s": trained.throughput.get("samples_per_s"),
        }
        atomic_write_text(done, json.dumps(model, indent=2, sort_keys=True) + "\n")
    return _point_result(root, run, counts, budget)


def _point_result(root: Path, run: ScaleRun, counts: dict[str, int], budget: int) -> dict[str, Any]:
    models = {
        p.name.removesuffix(RESULT_SUFFIX): json.loads(p.read_text()) for p in sorted(root.glob(f"*{RESULT_SUFFIX}"))
    }
    return {"run": run.name, "clips": run.clips, "steps": run.steps, "width": run.width, **counts, "budget": budget,
            "models": models}  # fmt: skip


def data_curve(clips: Sequence[int], steps: int, width: int) -> list[ScaleRun]:
    return [ScaleRun(n, steps, width) for n in clips]


def compute_curve(clips: int, steps: Sequence[int], widths: Sequence[int], base_steps: int) -> list[ScaleRun]:
    """The steps at the default width, then each other width at ``base_steps``."""
    base_width = widths[0]
    return [ScaleRun(clips, s, base_width) for s in steps] + [ScaleRun(clips, base_steps, w) for w in widths[1:]]


def collect(out: Path, pool: list[PoolClip], budget: int) -> list[dict[str, Any]]:
    """Every point under ``out`` with at least one finished objective, ordered by clips, steps and width."""
    results = []
    for root in sorted(p for p in Path(out).iterdir() if _NAME.fullmatch(p.name) and any(p.glob(f"*{RESULT_SUFFIX}"))):
        run = ScaleRun.parse(root.name)
        results.append(_point_result(root, run, pool_counts(pool, run.clips), budget))
    return sorted(results, key=lambda r: (r["clips"], r["steps"], r["width"]))


def slope_per_doubling(points: list[dict[str, Any]], objective: str, key: str) -> float | None:
    """Least-squares change of abs_rel per doubling of the pool clips (negative: more clips, lower error)."""
    points = [p for p in points if objective in p["models"]]
    xs = [np.log2(p["clips"]) for p in points]
    ys = [p["models"][objective][key]["abs_rel"] for p in points]
    if len(set(xs)) < 2:
        return None
    return float(np.polyfit(xs, ys, 1)[0])


def summarise(results: list[dict[str, Any]], demo_clips: int, steps: int, width: int) -> dict[str, Any]:
    """The data curve (``steps``, ``width``), the compute curve (``demo_clips``), each model's pretrained abs_rel as
    a ratio to the demo's point, and the slope per doubling of clips."""
    data = sorted((r for r in results if r["steps"] == steps and r["width"] == width), key=lambda r: r["clips"])
    compute = sorted((r for r in results if r["clips"] == demo_clips), key=lambda r: (r["width"], r["steps"]))
    peer = next((r for r in data if r["clips"] == demo_clips), None)
    for r in results:
        for objective, m in r["models"].items():
            if peer is not None and objective in peer["models"]:
                base = peer["models"][objective]["pretrained"]["abs_rel"]
                m["pretrained_ratio_to_demo"] = round(m["pretrained"]["abs_rel"] / base, 4)
    return {
        "demo_clips": demo_clips,
        "base_steps": steps,
        "base_width": width,
        "data_curve": data,
        "compute_curve": compute,
        "slope_per_doubling": {
            o: {k: slope_per_doubling(data, o, k) for k in ("pretrained", "finetuned")} for o in OBJECTIVES
        },
    }

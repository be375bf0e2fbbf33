"""Hand-made ``metrics/<model>.json`` files: known numbers for the report tests."""

from __future__ import annotations

import json
from pathlib import Path

from mannequin.evaluation.metrics import METRICS

# name: (kind, init or objective, budget, abs_rel, a1, alignment)
MODELS = {
    "finetune-scratch-4": ("finetune", "scratch", 4, 0.40, 0.50, "none"),
    "finetune-scratch-16": ("finetune", "scratch", 16, 0.30, 0.60, "none"),
    "finetune-mvs-4": ("finetune", "mvs", 4, 0.20, 0.70, "none"),
    "finetune-mvs-16": ("finetune", "mvs", 16, 0.27, 0.75, "none"),
    "finetune-mvs-uncurated-4": ("finetune", "mvs-uncurated", 4, 0.25, 0.65, "none"),
    "pretrain-mvs": ("pretrain", "mvs", None, 0.35, 0.55, "median"),
    "pretrain-mvs-uncurated": ("pretrain", "mvs-uncurated", None, 0.50, 0.45, "median"),
}


def write_metrics(metrics: Path, name: str, kind: str, which: str, budget, abs_rel: float, a1: float, align: str):
    values = {m: 0.1 + 0.01 * k for k, m in enumerate(METRICS)}
    values.update(abs_rel=abs_rel, a1=a1)
    model = {"name": name, "kind": kind, "init": None, "budget": budget, "objective": None}
    model["init" if kind == "finetune" else "objective"] = which
    doc = {"model": model, "alignment": align, "metrics": values, "num_clips": 2, "num_frames": 7, "num_pixels": 1234}
    metrics.mkdir(parents=True, exist_ok=True)
    (metrics / f"{name}.json").write_text(json.dumps(doc))

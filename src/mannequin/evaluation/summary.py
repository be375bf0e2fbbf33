"""The report's numbers as plain data, computed from the metrics files written by ``mannequin evaluate``.

:func:`build_summary` returns ``models`` (every model's identity, counts and metrics), ``gap`` (per pretrained init
and budget, the relative abs_rel reduction against scratch: ``(scratch - init) / scratch``, positive when
pretraining helps), ``smallest_budget``, ``claim`` (that reduction at the smallest budget for ``claim_init``),
``ablation`` (curated against ``-uncurated`` models) and ``audit`` (reject precision/recall, mean MVS accuracy), each
only when it applies. Which way is better comes from the metric's declaration in
:data:`mannequin.evaluation.metrics.DEPTH_METRICS`.

The curation ablation is found by name: an init or objective ``<base>-uncurated`` (a model pretrained with
curation's decisions ignored) is compared with ``<base>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mannequin.errors import InputError
from mannequin.evaluation.metrics import METRIC, METRICS

UNCURATED_SUFFIX = "-uncurated"
SCRATCH = "scratch"
# the gap, the claim and the ablation compare abs_rel (summary.json names it in its keys); its direction is declared
ABS_REL = METRIC["abs_rel"]


def load_metrics(metrics_dir: str | Path) -> dict[str, dict]:
    """Every ``<metrics_dir>/<model>.json`` written by ``evaluate``, by model name; malformed files are errors."""
    metrics_dir = Path(metrics_dir)
    if not metrics_dir.is_dir():
        raise InputError(metrics_dir, "no such metrics directory (run mannequin evaluate first)", "missing_metrics")
    out = {}
    for path in sorted(metrics_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError(path, "not valid JSON", "bad_metrics") from None
        model = data.get("model") if isinstance(data, dict) else None
        metrics = data.get("metrics") if isinstance(data, dict) else None
        if not isinstance(model, dict) or "kind" not in model or not isinstance(metrics, dict):
            raise InputError(path, "not a model metrics file (needs 'model' with 'kind' and 'metrics')", "bad_metrics")
        missing = [m for m in METRICS if not isinstance(metrics.get(m), (int, float))]
        if missing:
            raise InputError(path, f"metrics lack {', '.join(missing)}", "bad_metrics")
        if model["kind"] == "finetune" and not (isinstance(model.get("budget"), int) and model.get("init")):
            raise InputError(path, "a finetune model needs 'init' and an integer 'budget'", "bad_metrics")
        out[path.stem] = data
    if not out:
        raise InputError(metrics_dir, "no metrics files (run mannequin evaluate first)", "missing_metrics")
    return out


def build_summary(results: dict[str, dict], claim_init: str = "mvs", audit: dict | None = None) -> dict[str, Any]:
    """The report's numbers, computed from the loaded metrics files (and the audit, when there is one)."""
    models = {}
    for name, r in sorted(results.items()):
        m = r["model"]
        entry = {k: m[k] for k in ("kind", "init", "budget", "objective") if m.get(k) is not None}
        entry.update({k: r[k] for k in ("alignment", "num_clips", "num_frames", "num_pixels") if k in r})
        entry.update({k: float(r["metrics"][k]) for k in METRICS})
        models[name] = entry
    grid: dict[str, dict[int, dict]] = {}
    for entry in models.values():
        if entry["kind"] == "finetune":
            grid.setdefault(entry["init"], {})[entry["budget"]] = entry
    summary: dict[str, Any] = {"models": models}
    scratch = grid.get(SCRATCH, {})
    gap = {}
    for init in sorted(i for i in grid if i != SCRATCH):
        rows = {}
        for budget in sorted(set(grid[init]) & set(scratch)):
            ours, base = grid[init][budget]["abs_rel"], scratch[budget]["abs_rel"]
            rows[str(budget)] = {"abs_rel": ours, "scratch_abs_rel": base, "reduction": ABS_REL.improvement(base, ours)}
        if rows:
            gap[init] = rows
    if gap:
        summary["gap"] = gap
    budgets = sorted({b for rows in grid.values() for b in rows})
    if budgets:
        summary["smallest_budget"] = budgets[0]
        claim = gap.get(claim_init, {}).get(str(budgets[0]))
        if claim is not None:
            summary["claim"] = {"init": claim_init, "budget": budgets[0], **claim}
    ablation = _ablation(grid, models)
    if ablation:
        summary["ablation"] = ablation
    if audit is not None:
        summary["audit"] = {
            "rejects": {k: audit["rejects"][k] for k in ("judged_clips", "overall", "per_defect")},
            "mvs": audit["mvs"]["mean"],
        }
    return summary


def _ablation(grid: dict[str, dict[int, dict]], models: dict[str, dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for init in sorted(grid):
        base = init.removesuffix(UNCURATED_SUFFIX)
        if base == init or base not in grid:
            continue
        rows = {}
        for budget in sorted(set(grid[init]) & set(grid[base])):
            curated, uncurated = grid[base][budget]["abs_rel"], grid[init][budget]["abs_rel"]
            rows[str(budget)] = {
                "curated_abs_rel": curated,
                "uncurated_abs_rel": uncurated,
                "reduction": ABS_REL.improvement(uncurated, curated),
            }
        if rows:
            out.setdefault(base, {})["finetune"] = rows
    pretrained = {e["objective"]: e for e in models.values() if e["kind"] == "pretrain" and "objective" in e}
    for objective in sorted(pretrained):
        base = objective.removesuffix(UNCURATED_SUFFIX)
        if base == objective or base not in pretrained:
            continue
        curated, uncurated = pretrained[base], pretrained[objective]
        out.setdefault(base, {})["pretrain"] = {
            "alignment": curated.get("alignment"),
            "curated_abs_rel": curated["abs_rel"],
            "uncurated_abs_rel": uncurated["abs_rel"],
            "reduction": ABS_REL.improvement(uncurated["abs_rel"], curated["abs_rel"]),
        }
    return out


def label_efficiency_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per fine-tuned model, ordered by init then budget (the plot's data)."""
    rows = [
        {"init": e["init"], "budget": e["budget"], **{m: e[m] for m in METRICS}}
        for e in summary["models"].values()
        if e["kind"] == "finetune"
    ]
    return sorted(rows, key=lambda r: (r["init"], r["budget"]))


def metrics_view(summary: dict[str, Any]) -> dict[str, Any]:
    """What ``summary.json`` holds: the summary with each model cut to its metrics and alignment (the identity
    fields and counts stay in ``summary.md`` and the metrics files), so ``dvc metrics show`` stays readable."""
    keep = (*METRICS, "alignment")
    models = {name: {k: e[k] for k in keep if k in e} for name, e in summary["models"].items()}
    return {**summary, "models": models}

"""``mannequin report``: the summary table, the label-efficiency curve, example frames and the curation audit.

Every number comes from the metrics files written by ``mannequin evaluate`` (and, for the audit, from
``curated/clips.csv``, the shards and the sample data's truth); nothing is typed in. Outputs, all atomic and
reproducible byte for byte:

- ``summary.json`` (the DVC metrics file): ``models`` (every model's metrics and alignment), ``gap`` (per
  pretrained init and budget, the relative abs_rel reduction against scratch: ``(scratch - init) / scratch``,
  positive when pretraining helps),
  ``claim`` (that reduction at the smallest budget for ``claim_init``), ``ablation`` (curated against
  ``-uncurated`` models) and ``audit`` (reject precision/recall, mean MVS accuracy), each only when it applies;
- ``summary.md``: the same as tables; ``audit.json``: the full audit with its per-clip MVS rows (``{"available":
  false}`` when there is no ``sample_truth.csv`` or ``clips.csv``);
- ``label_efficiency.png``, ``examples.png`` and ``plots/label_efficiency.csv``.

The curation ablation is found by name: an init or objective ``<base>-uncurated`` (a model pretrained with
curation's decisions ignored) is compared with ``<base>``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.errors import InputError
from mannequin.evaluation.examples import EXAMPLES_DIR, FRAMES_FILE, load_npz
from mannequin.evaluation.metrics import METRICS

UNCURATED_SUFFIX = "-uncurated"
SCRATCH = "scratch"
HEADERS = {
    "abs_rel": "abs_rel",
    "sq_rel": "sq_rel",
    "rmse": "rmse",
    "rmse_log": "rmse_log",
    "si_rmse": "si_rmse",
    "a1": "δ<1.25",
    "a2": "δ<1.25²",
    "a3": "δ<1.25³",
}


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


def _reduction(base: float, other: float) -> float | None:
    return (base - other) / base if base > 0 else None


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
            rows[str(budget)] = {"abs_rel": ours, "scratch_abs_rel": base, "reduction": _reduction(base, ours)}
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
                "reduction": _reduction(uncurated, curated),
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
            "reduction": _reduction(uncurated["abs_rel"], curated["abs_rel"]),
        }
    return out


def _num(x: Any, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def render_markdown(summary: dict[str, Any], audit: dict | None, claim_min_reduction: float) -> str:
    """``summary.md`` from the summary (and the full audit)."""
    models = summary["models"]
    metric_cols = [HEADERS[m] for m in METRICS]
    lines = ["# mannequin: evaluation report", ""]
    lines += [
        "Every number here is computed by `mannequin report` from `metrics/*.json` (written by `mannequin evaluate`)"
        " and, for the audit, from `curated/clips.csv`, the curated shards and `data/sample_truth.csv`. Metrics are"
        " per-image means over the test frames with sensor depth (Monodepth2 definitions; si_rmse as in Li et al."
        " 2019); lower is better except δ.",
        "",
    ]
    finetuned = sorted(
        (e for e in models.values() if e["kind"] == "finetune"),
        key=lambda e: (e["init"] != SCRATCH, e["init"], e["budget"]),
    )
    if finetuned:
        lines += ["## Fine-tuned models (init × label budget)", ""]
        header = ["init", "budget", "alignment", *metric_cols, "frames", "pixels"]
        rows = [
            [e["init"], str(e["budget"]), e.get("alignment", ""), *(_num(e[m]) for m in METRICS),
             str(e.get("num_frames", "")), str(e.get("num_pixels", ""))]
            for e in finetuned
        ]  # fmt: skip
        lines += [*_table(header, rows), ""]
    pretrained = sorted((n, e) for n, e in models.items() if e["kind"] != "finetune")
    if pretrained:
        lines += ["## Pretrained-only models (no labels)", ""]
        header = ["model", "alignment", *metric_cols, "frames", "pixels"]
        rows = [
            [n, e.get("alignment", ""), *(_num(e[m]) for m in METRICS), str(e.get("num_frames", "")),
             str(e.get("num_pixels", ""))]
            for n, e in pretrained
        ]  # fmt: skip
        lines += [*_table(header, rows), ""]
    if "gap" in summary:
        lines += ["## Pretrained against scratch", ""]
        lines += [
            "Relative abs_rel reduction against the scratch model at the same label budget:"
            " (scratch − pretrained) / scratch; positive means pretraining helps.",
            "",
        ]
        rows = [
            [init, b, _num(r["abs_rel"]), _num(r["scratch_abs_rel"]), _pct(r["reduction"])]
            for init, by_budget in summary["gap"].items()
            for b, r in by_budget.items()
        ]
        lines += [*_table(["init", "budget", "abs_rel", "scratch abs_rel", "reduction"], rows), ""]
    if "claim" in summary:
        c = summary["claim"]
        holds = c["reduction"] is not None and c["reduction"] >= claim_min_reduction
        lines += [
            f"At the smallest budget ({c['budget']} frames) the `{c['init']}`-pretrained model's abs_rel is"
            f" {_num(c['abs_rel'])} against {_num(c['scratch_abs_rel'])} from scratch: a reduction of"
            f" {_pct(c['reduction'])}. The claim (at least {100 * claim_min_reduction:.0f}% lower)"
            f" **{'holds' if holds else 'does not hold'}**.",
            "",
        ]
    if "ablation" in summary:
        lines += _ablation_markdown(summary["ablation"])
    lines += ["## Figures", "", "![label efficiency](label_efficiency.png)", "", "![examples](examples.png)", ""]
    if audit is not None:
        lines += _audit_markdown(audit)
    return "\n".join(lines).rstrip() + "\n"


def _ablation_markdown(ablation: dict[str, Any]) -> list[str]:
    lines = ["## Curation ablation", ""]
    lines += [
        f"Models pretrained on every clip with curation's decisions ignored (`<init>{UNCURATED_SUFFIX}`) against"
        " the same recipe on curated clips. Reduction = (uncurated − curated) / uncurated abs_rel; positive means"
        " curation helps.",
        "",
    ]
    rows = []
    for base, parts in ablation.items():
        if "pretrain" in parts:
            p = parts["pretrain"]
            rows.append([base, f"pretrained only ({p['alignment']})", _num(p["curated_abs_rel"]),
                         _num(p["uncurated_abs_rel"]), _pct(p["reduction"])])  # fmt: skip
        for budget, r in parts.get("finetune", {}).items():
            rows.append([base, f"fine-tuned, {budget} labels", _num(r["curated_abs_rel"]),
                         _num(r["uncurated_abs_rel"]), _pct(r["reduction"])])  # fmt: skip
    return [*lines, *_table(["init", "model", "curated abs_rel", "uncurated abs_rel", "reduction"], rows), ""]


def _audit_markdown(audit: dict[str, Any]) -> list[str]:
    rej = audit["rejects"]
    o = rej["overall"]
    lines = ["## Curation audit (sample data with known defects)", ""]
    not_judged = ", ".join(f"{n} {code}" for code, n in rej["not_judged"].items()) or "none"
    lines += [
        f"{rej['judged_clips']} clips judged (not judged: {not_judged}). Rejecting as the positive decision:"
        f" precision {_num(o['precision'], 3)}, recall {_num(o['recall'], 3)}"
        f" (tp {o['tp']}, fp {o['fp']}, fn {o['fn']}, tn {o['tn']}).",
        "",
    ]
    rows = [
        [d, str(r["clips"]), str(r["rejected"]), _num(r["recall"], 3), _num(r["recall_right_reason"], 3),
         _num(r["precision"], 3)]
        for d, r in rej["per_defect"].items()
    ]  # fmt: skip
    if rows:
        header = ["defect", "clips", "rejected", "recall", "recall (right reason)", "precision of its reason"]
        lines += [*_table(header, rows), ""]
    codes = sorted({code for row in rej["confusion"].values() for code in row})
    if codes:
        lines += ["Decisions by true defect (rows) and reject code (columns):", ""]
        rows = [[d, *(str(row.get(c, 0)) for c in codes)] for d, row in sorted(rej["confusion"].items())]
        lines += [*_table(["defect", *codes], rows), ""]
    mvs = audit["mvs"]
    mean = mvs["mean"]
    lines += [
        f"MVS depth of {mean['clips']} accepted clips against exact depth:"
        f" abs_rel {_num(mean['abs_rel_median_scaled'])} after per-clip median scaling"
        f" ({_num(mean['abs_rel_pose_scale'])} with the known pose scale),"
        f" δ<1.25 {_num(mean['a1_median_scaled'])}, coverage of confident pixels {_num(mean['coverage'], 3)}.",
        "",
    ]
    if mvs["per_clip"]:
        rows = [
            [c, r["defect"], _num(r["abs_rel_median_scaled"]), _num(r.get("abs_rel_pose_scale")),
             _num(r["a1_median_scaled"]), _num(r["coverage"], 3), str(r["frames"])]
            for c, r in mvs["per_clip"].items()
        ]  # fmt: skip
        header = ["clip", "defect", "abs_rel (median)", "abs_rel (pose scale)", "δ<1.25", "coverage", "frames"]
        lines += [*_table(header, rows), ""]
    return lines


def label_efficiency_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per fine-tuned model, ordered by init then budget (the plot's data)."""
    rows = [
        {"init": e["init"], "budget": e["budget"], **{m: e[m] for m in METRICS}}
        for e in summary["models"].values()
        if e["kind"] == "finetune"
    ]
    return sorted(rows, key=lambda r: (r["init"], r["budget"]))


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["init", "budget", *METRICS], lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def _example_panels(metrics_dir: Path, summary: dict[str, Any], limit: int):
    """Images, ground truth, ``(title, depth)`` panels and row titles for ``examples.png`` (None when absent)."""
    frames_path = metrics_dir / EXAMPLES_DIR / FRAMES_FILE
    if limit <= 0 or not frames_path.is_file():
        return None
    frames = load_npz(frames_path)
    k = min(limit, len(frames["clip_ids"]))
    if k == 0:
        return None
    panels = []
    mvs = frames["mvs"][:k].astype(np.float64)
    gt = frames["depth"][:k].astype(np.float64)
    if np.isfinite(mvs).any():
        scaled = np.full_like(mvs, np.nan)
        for i in range(k):  # pose units to metres for display: median scaling per frame
            both = np.isfinite(mvs[i]) & np.isfinite(gt[i]) & (mvs[i] > 0)
            if both.any():
                scaled[i] = mvs[i] * np.median(gt[i][both] / mvs[i][both])
        panels.append(("MVS target (median-scaled)", scaled))
    for name in _example_models(summary):
        path = metrics_dir / EXAMPLES_DIR / f"{name}.npz"
        if path.is_file():
            entry = summary["models"][name]
            title = f"{entry.get('init', name)}, {entry['budget']} labels" if "budget" in entry else name
            panels.append((title, load_npz(path)["depth"][:k]))
    titles = [f"{c} #{int(i)}" for c, i in zip(frames["clip_ids"][:k], frames["frame_indices"][:k], strict=True)]
    return frames["images"][:k], gt, panels, titles


def _example_models(summary: dict[str, Any]) -> list[str]:
    """Scratch then each pretrained init at the smallest budget; pretrained-only models when nothing is fine-tuned."""
    models = summary["models"]
    b = summary.get("smallest_budget")
    if b is None:
        return sorted(n for n, e in models.items() if e["kind"] != "finetune")
    at_b = [n for n, e in models.items() if e["kind"] == "finetune" and e["budget"] == b]
    return sorted(at_b, key=lambda n: (models[n]["init"] != SCRATCH, models[n]["init"]))


def write_report(
    metrics_dir: str | Path,
    out_dir: str | Path,
    *,
    data_dir: str | Path | None = None,
    curated_dir: str | Path | None = None,
    params: Any = None,
) -> dict[str, Any]:
    """Write the whole report to ``out_dir``; returns the summary."""
    from mannequin.config.evaluation import ReportParams
    from mannequin.evaluation.audit import curation_audit
    from mannequin.evaluation.plots import examples_plot, label_efficiency_plot, placeholder_plot

    p = params or ReportParams()
    metrics_dir, out_dir = Path(metrics_dir), Path(out_dir)
    results = load_metrics(metrics_dir)
    audit = None
    if data_dir is not None and curated_dir is not None:
        audit = curation_audit(data_dir, curated_dir, p.reason_defects, p.audit_min_depth, p.audit_max_depth)
    summary = build_summary(results, p.claim_init, audit)
    atomic_write_text(out_dir / "summary.json", _dumps(_prune(metrics_view(summary))))
    atomic_write_text(out_dir / "summary.md", render_markdown(summary, audit, p.claim_min_reduction))
    # always written, so that a pipeline can declare it: {"available": false} without sample truth
    atomic_write_text(out_dir / "audit.json", _dumps({"available": True, **audit} if audit else {"available": False}))
    rows = label_efficiency_rows(summary)
    atomic_write_text(out_dir / "plots" / "label_efficiency.csv", _csv_text(rows))
    curves: dict[str, list[tuple[int, float, float]]] = {}
    for r in rows:
        curves.setdefault(r["init"], []).append((r["budget"], r["abs_rel"], r["a1"]))
    label_efficiency_plot(curves, out_dir / "label_efficiency.png")
    example = _example_panels(metrics_dir, summary, p.examples)
    if example is None:
        placeholder_plot("no example frames: metrics/examples/ is empty", out_dir / "examples.png")
    else:
        examples_plot(*example, out_dir / "examples.png")
    return summary


def metrics_view(summary: dict[str, Any]) -> dict[str, Any]:
    """What ``summary.json`` holds: the summary with each model cut to its metrics and alignment (the identity
    fields and counts stay in ``summary.md`` and the metrics files), so ``dvc metrics show`` stays readable."""
    keep = (*METRICS, "alignment")
    models = {name: {k: e[k] for k in keep if k in e} for name, e in summary["models"].items()}
    return {**summary, "models": models}


def _prune(value: Any) -> Any:
    """Drop ``None`` entries, so that ``dvc metrics show`` sees only numbers and names."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

"""``summary.md``: the summary of :mod:`mannequin.evaluation.summary` (and the full audit) rendered as markdown."""

from __future__ import annotations

from typing import Any

from mannequin.evaluation.metrics import DEPTH_METRICS
from mannequin.evaluation.summary import SCRATCH, UNCURATED_SUFFIX


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
    metric_cols = [m.header for m in DEPTH_METRICS]
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
            [e["init"], str(e["budget"]), e.get("alignment", ""), *(_num(e[m.name]) for m in DEPTH_METRICS),
             str(e.get("num_frames", "")), str(e.get("num_pixels", ""))]
            for e in finetuned
        ]  # fmt: skip
        lines += [*_table(header, rows), ""]
    pretrained = sorted((n, e) for n, e in models.items() if e["kind"] != "finetune")
    if pretrained:
        lines += ["## Pretrained-only models (no labels)", ""]
        header = ["model", "alignment", *metric_cols, "frames", "pixels"]
        rows = [
            [n, e.get("alignment", ""), *(_num(e[m.name]) for m in DEPTH_METRICS), str(e.get("num_frames", "")),
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

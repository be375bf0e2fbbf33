"""``summary.md``: the summary of :mod:`mannequin.evaluation.summary` (and the full audit) rendered as markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.atomic import atomic_write_text
from mannequin.errors import InputError
from mannequin.evaluation.headline import claim_holds
from mannequin.evaluation.metrics import DEPTH_METRICS
from mannequin.evaluation.summary import SCRATCH, SPREAD_RULE, UNCURATED_SUFFIX


def _num(x: Any, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f}%"


def _spread_num(value: float | None, spread: float | None, seeds: int) -> str:
    """``value ± spread``, or the value alone from one seed (a spread of one value is not measured, not 0)."""
    return _num(value) if seeds < 2 else f"{_num(value)} ± {_num(spread)}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table; a column with no value in any row (only ``n/a``) is left out, as it says nothing."""
    keep = [k for k in range(len(header)) if k == 0 or not rows or any(r[k] != "n/a" for r in rows)]
    header, rows = [header[k] for k in keep], [[r[k] for k in keep] for r in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


#: the columns every comparison table adds: the same comparison over the seeds, by SPREAD_RULE
SPREAD_HEADER = ["seeds", "reduction over seeds", "beyond spread"]


def _spread_cells(row: dict[str, Any] | None) -> list[str]:
    """The :data:`SPREAD_HEADER` cells of one comparison (its ``summary["spread"]`` row)."""
    if row is None or row["seeds"] < 2:
        return ["1", "n/a", "not judged (1 seed)"]
    beyond = "yes" if row["beyond_spread"] else "no"
    return [str(row["seeds"]), f"{_pct(row['reduction'])} ± {100 * row['reduction_spread']:.1f}%", beyond]


def _spread_of(summary: dict[str, Any], init: str, base: str, budget: Any) -> dict[str, Any] | None:
    return summary.get("spread", {}).get(f"{init} vs {base} @{budget}")


def render_markdown(
    summary: dict[str, Any],
    audit: dict | None,
    claim_min_reduction: float,
    compared: dict[str, Any] | None = None,
    audit_missing: str | None = None,
) -> str:
    """``summary.md`` from the summary (and the full audit). ``compared``: ``make compare``'s ``comparison``
    (``pretexts_compared.json``) and the path of its ``figure`` from the report, rendered as its own section.
    ``audit_missing``: why there is no audit, said in one line where it would be."""
    models = summary["models"]
    metric_cols = [m.header for m in DEPTH_METRICS]
    lines = ["# mannequin: evaluation report", ""]
    lines += [
        "Every number here is computed by `mannequin report` from `metrics/*.json` (written by `mannequin evaluate`)"
        " and, for the audit, from `curated/clips.csv`, the curated shards and `data/sample_truth.csv`. Metrics are"
        " per-image means over the test frames with sensor depth (Monodepth2 definitions; si_rmse as in Li et al."
        " 2019); lower is better except δ.",
        "",
        f"Every comparison states its spread over seeds by one rule: {SPREAD_RULE}.",
        "",
    ]
    finetuned = sorted(
        (e for e in models.values() if e["kind"] == "finetune"),
        key=lambda e: (e["init"] != SCRATCH, e["init"], e["budget"], e.get("seed", -1)),
    )
    if finetuned:
        lines += ["## Fine-tuned models (init × label budget)", ""]
        header = ["init", "budget", "alignment", *metric_cols, "frames", "pixels"]
        rows = [
            [e["init"] + (f" (seed {e['seed']})" if "seed" in e else ""), str(e["budget"]), e.get("alignment", ""),
             *(_num(e[m.name]) for m in DEPTH_METRICS), str(e.get("num_frames", "")), str(e.get("num_pixels", ""))]
            for e in finetuned
        ]  # fmt: skip
        lines += [*_table(header, rows), ""]
    pretrained = sorted((n, e) for n, e in models.items() if e["kind"] != "finetune")
    if pretrained:
        lines += ["## Pretrained-only models (no labels)", ""]
        lines += [
            "The target gap is each model's median-aligned abs_rel against the MVS depth of the curated clips held"
            " out of its pretraining (its validation split): how close it came to its own targets, beside its test"
            " score against true depth (`mannequin.evaluation.target_gap`).",
            "",
        ]
        header = ["model", "alignment", *metric_cols, "target gap", "frames", "pixels"]
        rows = [
            [n, e.get("alignment", ""), *(_num(e[m.name]) for m in DEPTH_METRICS),
             _num(e["target_gap"]) if "target_gap" in e else "n/a", str(e.get("num_frames", "")),
             str(e.get("num_pixels", ""))]
            for n, e in pretrained
        ]  # fmt: skip
        lines += [*_table(header, rows), ""]
    if "gap" in summary:
        lines += ["## Pretrained against scratch", ""]
        lines += [
            "Relative abs_rel reduction against the scratch model at the same label budget:"
            " (scratch − pretrained) / scratch; positive means pretraining helps. The first columns are the models"
            " of `finetune.seed`; the last ones the same reduction over every seed both sides were fine-tuned with"
            " (`spread` in params.yaml), by the spread rule above.",
            "",
        ]
        rows = [
            [init, b, _num(r["abs_rel"]), _num(r["scratch_abs_rel"]), _pct(r["reduction"]),
             *_spread_cells(_spread_of(summary, init, SCRATCH, b))]
            for init, by_budget in summary["gap"].items()
            for b, r in by_budget.items()
        ]  # fmt: skip
        header = ["init", "budget", "abs_rel", "scratch abs_rel", "reduction", *SPREAD_HEADER]
        lines += [*_table(header, rows), ""]
    if "claim" in summary:
        c = summary["claim"]
        holds = claim_holds(c, claim_min_reduction)
        lines += [
            f"At the smallest budget ({c['budget']} frames) the `{c['init']}`-pretrained model's abs_rel is"
            f" {_num(c['abs_rel'])} against {_num(c['scratch_abs_rel'])} from scratch: a reduction of"
            f" {_pct(c['reduction'])}. The claim (at least {100 * claim_min_reduction:.0f}% lower)"
            f" **{'holds' if holds else 'does not hold'}**.{_over_seeds(summary, c['init'], SCRATCH, c['budget'])}",
            "",
        ]
    if "ablation" in summary:
        lines += _ablation_markdown(summary["ablation"], summary)
    between = [r for r in summary.get("spread", {}).values() if r["comparison"] == "inits"]
    if between:
        lines += ["## Pretrained inits against each other", ""]
        lines += [
            "Each pair of pretrained inits (for example rgb against rgb+parallax) at the same budget: reduction ="
            " (second − first) / second abs_rel, positive when the first is better; over seeds by the spread rule"
            " above.",
            "",
        ]
        rows = [
            [r["init"], r["base"], str(r["budget"]), _spread_num(r["abs_rel"], r["abs_rel_spread"], r["seeds"]),
             _spread_num(r["base_abs_rel"], r["base_abs_rel_spread"], r["seeds"]), *_spread_cells(r)]
            for r in between
        ]  # fmt: skip
        header = ["first", "second", "budget", "first abs_rel", "second abs_rel", *SPREAD_HEADER]
        lines += [*_table(header, rows), ""]
    if compared is not None:
        lines += [*pretexts_markdown(compared["comparison"], compared["figure"]).rstrip("\n").split("\n"), ""]
    lines += ["## Figures", "", "![label efficiency](label_efficiency.png)", "", "![examples](examples.png)", ""]
    if audit is not None:
        lines += _audit_markdown(audit)
    elif audit_missing:
        lines += ["## Curation audit", "", f"Left out: {audit_missing}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _over_seeds(summary: dict[str, Any], init: str, base: str, budget: Any) -> str:
    """A sentence on one comparison over the seeds (empty when it has none besides ``finetune.seed``)."""
    r = _spread_of(summary, init, base, budget)
    if r is None or r["seeds"] < 2:
        return " One seed: its spread is not measured."
    verdict = "exceeds" if r["beyond_spread"] else "does not exceed"
    return (
        f" Over {r['seeds']} seeds the reduction is {_pct(r['reduction'])} ± {100 * r['reduction_spread']:.1f}%:"
        f" the difference {verdict} the spread."
    )


def _ablation_markdown(ablation: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    lines = ["## Curation ablation", ""]
    lines += [
        f"Models pretrained on every clip with curation's decisions ignored (`<init>{UNCURATED_SUFFIX}`) against"
        " the same recipe on curated clips. Reduction = (uncurated − curated) / uncurated abs_rel; positive means"
        " curation helps. The pretraining has one seed, so the pretrained-only comparison has no spread; the"
        " fine-tuned one is also given over every seed both were fine-tuned with, by the spread rule above.",
        "",
    ]
    rows = []
    for base, parts in ablation.items():
        if "pretrain" in parts:
            p = parts["pretrain"]
            rows.append([base, f"pretrained only ({p['alignment']})", _num(p["curated_abs_rel"]),
                         _num(p["uncurated_abs_rel"]), _pct(p["reduction"]), *_spread_cells(None)])  # fmt: skip
        for budget, r in parts.get("finetune", {}).items():
            spread = _spread_of(summary, base, base + UNCURATED_SUFFIX, budget)
            rows.append([base, f"fine-tuned, {budget} labels", _num(r["curated_abs_rel"]),
                         _num(r["uncurated_abs_rel"]), _pct(r["reduction"]), *_spread_cells(spread)])  # fmt: skip
    header = ["init", "model", "curated abs_rel", "uncurated abs_rel", "reduction", *SPREAD_HEADER]
    return [*lines, *_table(header, rows), ""]


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
    unmapped = rej.get("unmapped", {})
    rows = [
        [d, str(r["clips"]), str(r["rejected"]), _num(r["recall"], 3),
         *(["no code maps to it"] * 2 if d in unmapped else [_num(r["recall_right_reason"], 3),
                                                             _num(r["precision"], 3)])]
        for d, r in rej["per_defect"].items()
    ]  # fmt: skip
    if rows:
        header = ["defect", "clips", "rejected", "recall", "recall (right reason)", "precision of its reason"]
        lines += [*_table(header, rows), ""]
    if unmapped:
        names = ", ".join(f"`{d}` ({n} clips)" for d, n in unmapped.items())
        lines += [
            f"No reject code maps to the defect names {names}: their right-reason recall and precision are not"
            " judged. A `reason` column in `sample_truth.csv` (the reject code that should catch each clip's defect)"
            " extends the table of reasons.",
            "",
        ]
    codes = sorted({code for row in rej["confusion"].values() for code in row})
    if codes:
        lines += ["Decisions by true defect (rows) and reject code (columns):", ""]
        rows = [[d, *(str(row.get(c, 0)) for c in codes)] for d, row in sorted(rej["confusion"].items())]
        lines += [*_table(["defect", *codes], rows), ""]
    mvs = audit["mvs"]
    mean = mvs["mean"]
    if not mean["clips"]:
        why = "MVS accuracy is not measured: no accepted clip has exact depth (`truth/<clip_id>/depth.npz`)."
        return [*lines, why, ""]
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


def pretexts_markdown(comparison: dict[str, Any], figure: str = "pretexts_compared.png") -> str:
    """The "Pretexts compared" section: abs_rel and δ<1.25 per pretext and budget, the reduction against scratch
    with its spread over the seeds, and which pretext wins at each budget (``figure``: the plot's path)."""
    seeds = comparison["seeds"]
    lines = ["## Pretexts compared", ""]
    lines += [
        f"Every pretext pretrained with the same steps, seed and curated shards, then fine-tuned at each budget; "
        f"seeds {', '.join(map(str, seeds))} (pretraining and label draw). Values are means over the seeds ± their "
        "standard deviation; the reduction is abs_rel's against scratch of the same seed (positive: pretraining "
        "helps), and 'beyond spread' says whether its mean exceeds its spread. Computed from the metrics files.",
        "",
    ]
    lines += pretexts_table(comparison)
    lines += [f"![pretexts compared]({figure})", ""]
    return "\n".join(lines)


def pretexts_table(comparison: dict[str, Any]) -> list[str]:
    """The table of the "Pretexts compared" section and its line of winners per budget (also docs/results.md's)."""
    header = ["init", "budget", "abs_rel", "δ<1.25", "reduction vs scratch", "beyond spread"]
    rows = []
    n = len(comparison["seeds"])
    for r in comparison["rows"]:
        red = r.get("reduction")
        spread = "" if red is None else _pct(red) + ("" if n < 2 else f" ± {100 * r['reduction_std']:.1f}%")
        beyond = "" if red is None else ("not judged (1 seed)" if n < 2 else "yes" if r["exceeds_spread"] else "no")
        rows.append([r["init"], str(r["budget"]), _spread_num(r["abs_rel"], r["abs_rel_std"], n),
                     _spread_num(r["a1"], r["a1_std"], n), spread, beyond])  # fmt: skip
    lines = [*_table(header, rows), ""]
    if comparison["best"]:
        wins = ", ".join(
            f"{b} labels: {init}" for b, init in sorted(comparison["best"].items(), key=lambda x: int(x[0]))
        )
        lines += [f"Lowest abs_rel among the pretexts: {wins}.", ""]
    return lines


def replace_between_markers(page: str | Path, markers: tuple[str, str], lines: list[str]) -> None:
    """Rewrite ``page`` (a markdown file) with ``lines`` between its two marker lines, the rest untouched; a page
    without exactly one start marker before one end marker is an ``InputError`` naming it."""
    page = Path(page)
    text = page.read_text(encoding="utf-8")
    start, end = markers
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise InputError(page, f"needs one {start!r} line, then one {end!r} line", "bad_results_page")
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    atomic_write_text(page, head + "\n".join([start, "", *lines, end]) + tail)

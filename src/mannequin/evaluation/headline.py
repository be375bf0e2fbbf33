"""What a person reads at the end of a run: the claim's verdict, the headline table and where the report is.

:func:`headline` is ``reports/headline.json``, the pipeline's one DVC metrics file: a few numbers, so that
``dvc metrics show`` is one short row and ``dvc metrics diff`` between two experiments says what changed (the claim,
and how many clips curation kept). Everything else stays in ``summary.json`` and ``summary.md``, plain outputs.
:func:`headline_text` is ``reports/headline.md``, which ``make demo`` prints last.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.evaluation.summary import SCRATCH, label_efficiency_rows

#: the curation figures the headline carries from ``curated/summary.json``
CURATION_KEYS = ("accepted", "candidates", "accepted_fraction")


def claim_holds(claim: dict[str, Any], min_reduction: float) -> bool:
    """The project's claim: at the smallest budget the init's abs_rel is at least ``min_reduction`` below scratch."""
    return claim.get("reduction") is not None and claim["reduction"] >= min_reduction


def headline(summary: dict[str, Any], min_reduction: float, curation: dict[str, Any] | None) -> dict[str, Any]:
    """``headline.json``: the claim's numbers and verdict, and curation's accepted share (each where there is one)."""
    out: dict[str, Any] = {}
    if "claim" in summary:
        c = summary["claim"]
        out["claim"] = {
            "init": c["init"],
            "budget": c["budget"],
            "abs_rel": _round(c["abs_rel"]),
            "scratch_abs_rel": _round(c["scratch_abs_rel"]),
            "reduction": _round(c["reduction"]),
            "holds": claim_holds(c, min_reduction),
        }
    if curation:
        out["curation"] = {k: _round(curation[k]) for k in CURATION_KEYS if k in curation}
    return out


def headline_text(summary: dict[str, Any], min_reduction: float, report_dir: Path) -> str:
    """``headline.md``: the verdict in a sentence, abs_rel per init and budget, and the report's files (named under
    ``report_dir``, the report folder's name: the text is the same wherever the folder lies)."""
    lines: list[str] = []
    if "claim" in summary:
        c = summary["claim"]
        verdict = "holds" if claim_holds(c, min_reduction) else "does not hold"
        reduction = "n/a" if c["reduction"] is None else f"{100 * c['reduction']:.1f}%"
        lines += [
            f"Claim ({c['init']} pretraining against scratch at {c['budget']} labels, abs_rel at least "
            f"{100 * min_reduction:.0f}% lower): {verdict.upper()}",
            f"  abs_rel {_num(c['abs_rel'])} against {_num(c['scratch_abs_rel'])} from scratch: {reduction} lower.",
            "",
        ]
    rows = label_efficiency_rows(summary)
    if rows:
        budgets = sorted({r["budget"] for r in rows})
        inits = sorted({r["init"] for r in rows}, key=lambda i: (i != SCRATCH, i))
        value = {(r["init"], r["budget"]): r["abs_rel"] for r in rows}
        lines += ["Test abs_rel of the fine-tuned models (metric depth, lower is better):", ""]
        lines.append("| labels | " + " | ".join(inits) + " |")
        lines.append("|---|" + "---|" * len(inits))
        for b in budgets:
            lines.append(f"| {b} | " + " | ".join(_num(value.get((i, b))) for i in inits) + " |")
        lines.append("")
    lines += [
        f"The report: {report_dir / 'summary.md'} (figures: {report_dir / 'label_efficiency.png'}, "
        f"{report_dir / 'examples.png'}).",
    ]
    return "\n".join(lines) + "\n"


def _round(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"

"""``mannequin report``: write the summary, the label-efficiency curve, example frames and the curation audit.

The numbers are computed by :mod:`mannequin.evaluation.summary` from the metrics files written by ``mannequin
evaluate`` (and, for the audit, from ``curated/clips.csv``, the shards and the sample data's truth); nothing is
typed in. This module writes them out, all atomic and reproducible byte for byte:

- ``headline.json`` (the DVC metrics file) and ``headline.md`` (what ``make demo`` prints last): the claim's verdict,
  the headline table and curation's accepted share (:mod:`mannequin.evaluation.headline`);
- ``summary.json``: the summary with each model cut to its metrics and alignment;
- ``summary.md``: the same as tables (:mod:`mannequin.evaluation.markdown`); ``audit.json``: the full audit with its
  per-clip MVS rows (``{"available": false}`` when there is no ``sample_truth.csv`` or ``clips.csv``);
- ``label_efficiency.png``, ``examples.png`` and ``plots/label_efficiency.csv``;
- with ``<metrics>/people/``: the "Where the people are" section at the end of ``summary.md``, its verdict under
  ``people`` in ``summary.json`` and ``plots/people_frame.png`` (:mod:`mannequin.evaluation.people_report`);
- with ``report.real_depth``'s ``real_depth.json`` (``make real-depth``): the "Real depth" section
  (:mod:`mannequin.evaluation.real_depth_report`).

A section whose data the dataset lacks (no truth for the audit, no pixel groups, no real-depth result) is one line
saying why, not a table of n/a.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.errors import InputError
from mannequin.evaluation.examples import EXAMPLES_DIR, FRAMES_FILE, load_npz
from mannequin.evaluation.headline import headline, headline_text
from mannequin.evaluation.markdown import pretexts_markdown, render_markdown
from mannequin.evaluation.metrics import METRICS
from mannequin.evaluation.people_report import PEOPLE_HEADING, write_people_report
from mannequin.evaluation.summary import (
    SCRATCH,
    build_summary,
    label_efficiency_rows,
    load_metrics,
    metrics_view,
    pretext_comparison,
)


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
    """Scratch then each pretrained init at the smallest budget (the models of ``finetune.seed``: a repeat with
    another seed is the same recipe); pretrained-only models when nothing is fine-tuned."""
    models = summary["models"]
    b = summary.get("smallest_budget")
    if b is None:
        return sorted(n for n, e in models.items() if e["kind"] != "finetune")
    at_b = [n for n, e in models.items() if e["kind"] == "finetune" and e["budget"] == b and "seed" not in e]
    return sorted(at_b, key=lambda n: (models[n]["init"] != SCRATCH, models[n]["init"]))


def _curation_summary(curated_dir: str | Path | None) -> dict[str, Any] | None:
    """Curation's ``summary.json`` where the report was given a curated folder that has one."""
    path = None if curated_dir is None else Path(curated_dir) / "summary.json"
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not a readable curation summary ({exc})", "bad_input") from None


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
    people_md, people_metrics = write_people_report(metrics_dir, out_dir, results)  # "Where the people are"
    if people_md is None:
        people_md = f"{PEOPLE_HEADING}\n\nLeft out: the evaluation scored no pixel groups (evaluate.people off).\n"
    view = {**metrics_view(summary), **({"people": people_metrics} if people_metrics else {})}
    atomic_write_text(out_dir / "summary.json", _dumps(_prune(view)))
    curation = _curation_summary(curated_dir)
    atomic_write_text(out_dir / "headline.json", _dumps(headline(summary, p.claim_min_reduction, curation)))
    atomic_write_text(out_dir / "headline.md", headline_text(summary, p.claim_min_reduction, Path(out_dir.name)))
    compared = None if p.compared is None else read_pretext_report(p.compared, out_dir)
    why = None if audit is not None else audit_missing(data_dir, curated_dir)
    markdown = render_markdown(summary, audit, p.claim_min_reduction, compared, audit_missing=why)
    sections = [markdown, people_md, real_depth_markdown(p.real_depth)]
    atomic_write_text(out_dir / "summary.md", "\n".join(s for s in sections if s))
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


def audit_missing(data_dir: str | Path | None, curated_dir: str | Path | None) -> str:
    """Why the curation audit cannot be made (one sentence)."""
    if data_dir is None or curated_dir is None:
        return "no data or curated folder was given"
    if not (Path(data_dir) / "sample_truth.csv").is_file():
        return f"`{Path(data_dir) / 'sample_truth.csv'}` is absent (the clips' true defects: only sample data has it)"
    return f"`{Path(curated_dir) / 'clips.csv'}` is absent (run curation first)"


def real_depth_markdown(folder: str | Path | None) -> str | None:
    """The "Real depth" section from ``folder``'s ``real_depth.json``; one line when it has none (None: not asked)."""
    from mannequin.evaluation.real_depth_report import COMMAND, RESULT_FILE, load_real_depth, real_depth_section

    if folder is None:
        return None
    result = load_real_depth(folder)
    if result is None:
        return f"## Real depth\n\nLeft out: no `{Path(folder) / RESULT_FILE}` yet (`{COMMAND}` writes it).\n"
    return real_depth_section(result)


COMPARED_JSON = "pretexts_compared.json"
COMPARED_PNG = "pretexts_compared.png"


def read_pretext_report(folder: str | Path, report_dir: Path) -> dict[str, Any] | None:
    """``make compare``'s comparison in ``folder`` and its figure's path from ``report_dir``; None without one."""
    path = Path(folder) / COMPARED_JSON
    if not path.is_file():
        return None
    try:
        comparison = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(path, "not valid JSON", "bad_metrics") from None
    if not isinstance(comparison, dict) or not {"seeds", "rows", "best"} <= set(comparison):
        raise InputError(path, "not a pretext comparison (needs 'seeds', 'rows' and 'best')", "bad_metrics")
    figure = os.path.relpath(Path(folder) / COMPARED_PNG, report_dir).replace(os.sep, "/")
    return {"comparison": comparison, "figure": figure}


def write_pretext_report(
    seed_metrics: dict[int, str | Path],
    out_dir: str | Path,
    pretrain_steps: list[int] | None = None,
    inits: list[str] | None = None,
) -> dict[str, Any]:
    """The "Pretexts compared" section from each seed's metrics folder: ``pretexts_compared.{json,md,png}``
    (``pretrain_steps``: the pretraining steps compared, recorded in the JSON when given; ``inits``: only the
    fine-tuned models of these inits, by default all)."""
    from mannequin.evaluation.plots import label_efficiency_plot

    out_dir = Path(out_dir)
    comparison = pretext_comparison({seed: load_metrics(d) for seed, d in seed_metrics.items()}, inits)
    if pretrain_steps is not None:
        comparison["pretrain_steps"] = pretrain_steps
    atomic_write_text(out_dir / COMPARED_JSON, _dumps(comparison))
    atomic_write_text(out_dir / "pretexts_compared.md", pretexts_markdown(comparison))
    curves: dict[str, list[tuple[int, float, float]]] = {}
    for r in comparison["rows"]:
        curves.setdefault(r["init"], []).append((r["budget"], r["abs_rel"], r["a1"]))
    seeds = ", ".join(map(str, comparison["seeds"]))
    label_efficiency_plot(curves, out_dir / COMPARED_PNG, f"Pretexts compared (mean over seeds {seeds})")
    return comparison


def _prune(value: Any) -> Any:
    """Drop ``None`` entries, so that ``dvc metrics show`` sees only numbers and names."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

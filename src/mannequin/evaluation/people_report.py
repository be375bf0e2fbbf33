"""The report's "Where the people are" section, in the layout of the Mannequin Challenge paper's table.

From ``<metrics>/people/regions.json`` (written by ``mannequin evaluate``, :mod:`mannequin.evaluation.people_eval`)
and each model's metrics file (its init and budget): at every label budget, one table for the moving-people test
clips and one for the frozen-people clips; rows are the fine-tuned models at that budget by their inputs (``rgb``,
``rgb+parallax``) and the raw parallax depth; columns si-RMSE and abs_rel over human, non-human and all pixels.

The verdict, per budget, on the moving-people clips: the paper's finding holds when the best ``rgb+parallax`` model
has a lower si-RMSE than the best ``rgb`` model on all pixels, **and** a lower si-RMSE than the raw parallax depth
on the human pixels. It is computed here from the numbers, never typed in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.config.spread import split_seed
from mannequin.errors import InputError
from mannequin.evaluation.paper_metrics import PAPER_METRICS
from mannequin.evaluation.people_eval import FRAME_FILE, PEOPLE_DIR, REGIONS_FILE, RGB, RGB_PARALLAX, TRUTH
from mannequin.evaluation.regions import GROUP_HEADERS, PARALLAX, PIXEL_GROUPS, REGION_METRICS

#: the metric the verdict compares (the paper's)
VERDICT_METRIC = "si_rmse"
FIGURE = "plots/people_frame.png"
_HEADERS = {"si_rmse": "si-RMSE", "abs_rel": "abs_rel"}
PEOPLE_HEADING = "## Where the people are (the Mannequin Challenge table)"


def load_regions(metrics_dir: str | Path) -> dict[str, Any] | None:
    """``<metrics>/people/regions.json``, or None when evaluate did not write it."""
    path = Path(metrics_dir) / PEOPLE_DIR / REGIONS_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(path, "not valid JSON", "bad_metrics") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise InputError(path, "not a people metrics file (needs 'models')", "bad_metrics")
    return data


def _value(entry: dict[str, Any], clip_set: str, group: str, metric: str) -> float | None:
    score = entry.get("clip_sets", {}).get(clip_set, {}).get(group)
    return None if score is None else float(score[metric])


def _best(rows: list[dict[str, Any]], inputs: str, clip_set: str) -> dict[str, Any] | None:
    # the models of finetune.seed, as every other comparison of the report (repeats are shown, not picked from)
    scored = [
        r
        for r in rows
        if r["inputs"] == inputs
        and r.get("seed") is None
        and _value(r["entry"], clip_set, "all", VERDICT_METRIC) is not None
    ]
    return min(scored, key=lambda r: (_value(r["entry"], clip_set, "all", VERDICT_METRIC), r["name"]), default=None)


def people_summary(regions: dict[str, Any], results: dict[str, dict]) -> dict[str, Any]:
    """Rows per budget and the verdict per budget (JSON-ready; the report's section is rendered from it)."""
    models = regions["models"]
    budgets: dict[int, list[dict[str, Any]]] = {}
    for name, entry in sorted(models.items()):
        info = results.get(name, {}).get("model", {})
        if name == PARALLAX or info.get("kind") != "finetune":
            continue
        seed = split_seed(name)[1]
        row = {"name": name, "init": info.get("init"), "inputs": entry.get("inputs", RGB), "entry": entry}
        row["seed"] = seed
        budgets.setdefault(int(info["budget"]), []).append(row)
    parallax = models.get(PARALLAX)
    kinds = sorted(set(regions.get("clips", {}).values()))
    out: dict[str, Any] = {"clips": {k: sum(v == k for v in regions["clips"].values()) for k in kinds}, "budgets": {}}
    out["flicker"] = regions.get("flicker", {})
    for budget, rows in sorted(budgets.items()):
        rows.sort(
            key=lambda r: (r["inputs"] != RGB, r["init"] != "scratch", r["init"] or "", r["seed"] or 0, r["name"])
        )
        out["budgets"][budget] = {"rows": rows, "verdict": verdict(rows, parallax)}
    return out


def verdict(rows: list[dict[str, Any]], parallax: dict[str, Any] | None) -> dict[str, Any]:
    """Whether rgb+parallax beats rgb on all pixels and the raw parallax on human pixels, moving-people clips."""
    rgb, both = _best(rows, RGB, "moving"), _best(rows, RGB_PARALLAX, "moving")
    v: dict[str, Any] = {
        "metric": VERDICT_METRIC,
        "rgb": rgb and rgb["name"],
        "rgb_parallax": both and both["name"],
        "rgb_all": rgb and _value(rgb["entry"], "moving", "all", VERDICT_METRIC),
        "rgb_parallax_all": both and _value(both["entry"], "moving", "all", VERDICT_METRIC),
        "rgb_parallax_human": both and _value(both["entry"], "moving", "human", VERDICT_METRIC),
        "parallax_human": parallax and _value(parallax, "moving", "human", VERDICT_METRIC),
    }
    missing = [k for k in ("rgb_all", "rgb_parallax_all", "rgb_parallax_human", "parallax_human") if v[k] is None]
    if missing:
        v["holds"] = None
        v["why"] = "not judged: no score for " + ", ".join(missing)
        return v
    v["better_than_rgb"] = v["rgb_parallax_all"] < v["rgb_all"]
    v["better_than_parallax_on_humans"] = v["rgb_parallax_human"] < v["parallax_human"]
    v["holds"] = v["better_than_rgb"] and v["better_than_parallax_on_humans"]
    return v


def metrics_view(people: dict[str, Any]) -> dict[str, Any]:
    """The numbers of the verdict for ``summary.json`` (DVC metrics): per budget, names dropped; ``judged`` is
    false (and ``holds`` absent) where a score it needs is missing."""
    keep = ("holds", "rgb_all", "rgb_parallax_all", "rgb_parallax_human", "parallax_human")
    return {
        f"budget_{b}": {"judged": e["verdict"]["holds"] is not None, **{k: e["verdict"].get(k) for k in keep}}
        for b, e in people["budgets"].items()
    }


def _label(row: dict[str, Any]) -> str:
    seed = row.get("seed")
    return f"{row['inputs']} ({row['init']}{'' if seed is None else f', seed {seed}'})"


def _cells(entry: dict[str, Any] | None, clip_set: str, groups: tuple[str, ...] = PIXEL_GROUPS) -> list[str]:
    cells = []
    for metric in REGION_METRICS:
        for group in groups:
            x = None if entry is None else _value(entry, clip_set, group, metric)
            cells.append("n/a" if x is None else f"{x:.4f}")
    return cells


def _paper_value(entry: dict[str, Any] | None, clip_set: str, metric: str) -> float | None:
    x = (entry or {}).get("paper", {}).get(clip_set, {}).get(metric)
    return None if x is None else float(x)


def _coverage(entry: dict[str, Any] | None, clip_set: str, group: str) -> str:
    score = (entry or {}).get("clip_sets", {}).get(clip_set, {}).get(group)
    return "n/a" if score is None else f"{100 * score['coverage']:.0f}%"


def shown(people: dict[str, Any], parallax: dict[str, Any] | None) -> dict[str, Any]:
    """What the data has scores for: the clip sets (``moving``/``frozen``, else ``all``), the pixel groups and the
    paper metrics with at least one value, and a line saying why each thing left out is left out."""
    entries = [r["entry"] for block in people["budgets"].values() for r in block["rows"]] + [parallax]
    kinds = [k for k in ("moving", "frozen") if people["clips"].get(k)]
    sets = kinds or ["all"]
    has_human = any(_value(e or {}, c, "human", m) is not None for e in entries for c in sets for m in REGION_METRICS)
    groups = PIXEL_GROUPS if has_human else ("all",)  # nobody marked: non-human pixels are all the pixels
    paper = [m for m in PAPER_METRICS if any(_paper_value(e, c, m.name) is not None for e in entries for c in sets)]
    if not has_human:  # nobody marked: the environment is every pixel, si-env is si-full
        paper = [m for m in paper if m.first == m.second == "all"]
    why = []
    if not kinds:
        why.append(
            "The test clips have no people kind (no `people` column in `sample_truth.csv`): the tables cover all test"
            " clips, and the verdict, which compares models on moving-people clips, is left out."
        )
    if not has_human:
        why.append(
            "No test frame has human pixels (no `masks/`): the human and non-human columns, and the paper's metrics"
            " over people, are left out."
        )
    return {"sets": sets, "groups": groups, "paper": paper, "why": why}


def render_section(people: dict[str, Any], parallax: dict[str, Any] | None, figure: bool = True) -> str:
    """The markdown section (starts with a ``##`` heading, ends with a blank line); only the clip sets, pixel groups
    and metrics the data has scores for, with one line for each thing left out. ``figure``: the frame was drawn."""
    counts = ", ".join(f"{n} {k}" for k, n in people["clips"].items()) or "none"
    lines = [
        PEOPLE_HEADING,
        "",
        "si-RMSE (Li et al. 2019; scale-invariant, lower is better) and abs_rel over the human pixels (the test"
        " clips' masks), the non-human pixels and all pixels, per image, on the test clips whose people walk"
        f" (`moving`) and whose people stand still (`frozen`); test clips: {counts}. Rows: the fine-tuned models at"
        " the budget by their inputs (init, and the seed of a repeat, in brackets; the verdict compares the models of"
        " finetune.seed), and the raw parallax depth (the input's sweep, unmasked,"
        " median-aligned to the truth per frame, scored where it has depth). Below each table, the paper's metric"
        " set (its section 6): the si-RMSE over pairs of pixels, all with all (si-full), environment with environment"
        " (si-env), human with all (si-human), human with human (si-intra) and human with environment (si-inter).",
        "",
    ]
    show = shown(people, parallax)
    lines += [*(w for line in show["why"] for w in (line, ""))]
    groups = show["groups"]
    header = ["", *(f"{_HEADERS[m]} {GROUP_HEADERS[g]}" for m in REGION_METRICS for g in groups)]
    paper_header = ["", *(m.header for m in show["paper"])]
    if not people["budgets"]:
        lines += ["No fine-tuned model was scored by pixel group.", ""]
    for budget, block in people["budgets"].items():
        for clip_set in show["sets"]:
            title = "all test clips" if clip_set == "all" else f"{clip_set}-people clips"
            lines += [f"### {budget} labels, {title}", ""]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            for row in block["rows"]:
                lines.append("| " + " | ".join([_label(row), *_cells(row["entry"], clip_set, groups)]) + " |")
            cover = f"{_coverage(parallax, clip_set, groups[0])} of {GROUP_HEADERS[groups[0]]} px"
            lines.append("| " + " | ".join([f"raw parallax ({cover})", *_cells(parallax, clip_set, groups)]) + " |")
            lines.append("")
            if show["paper"]:
                lines.append("| " + " | ".join(paper_header) + " |")
                lines.append("|" + "|".join("---" for _ in paper_header) + "|")
                for label, entry in [*((_label(r), r["entry"]) for r in block["rows"]), ("raw parallax", parallax)]:
                    cells = [_num(_paper_value(entry, clip_set, m.name)) for m in show["paper"]]
                    lines.append("| " + " | ".join([label, *cells]) + " |")
                lines.append("")
        if "moving" in show["sets"]:
            lines += [verdict_line(budget, block["verdict"]), ""]
        lines += flicker_table(budget, block["rows"], people.get("flicker", {}))
    if figure:
        lines += [f"![A moving-person test frame]({FIGURE})"]
    else:
        lines += ["No moving-person test frame with a mask was seen: no figure."]
    return "\n".join(lines) + "\n"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def flicker_table(budget: int, rows: list[dict[str, Any]], flicker: dict[str, Any]) -> list[str]:
    """Markdown lines: the flicker of each row's model and of the raw parallax (none without flicker figures)."""
    if not flicker:
        return []
    lines = [
        f"Flicker at {budget} labels: the mean |log depth change| of static pixels between consecutive test frames,"
        " after per-frame median alignment to the truth, warped by the clip's poses (lower is steadier).",
        "",
        "| | flicker | frame pairs |",
        "|---|---|---|",
    ]
    named = [(_label(r), flicker.get(r["name"])) for r in rows] + [("raw parallax", flicker.get(PARALLAX))]
    named.append(("sensor depth (the floor: warping and occlusions)", flicker.get(TRUTH)))
    for label, f in named:
        value, pairs = ("n/a", "n/a") if not f else (f"{f['mean']:.4f}", str(f["pairs"]))
        lines.append(f"| {label} | {value} | {pairs} |")
    return [*lines, ""]


def verdict_line(budget: int, v: dict[str, Any]) -> str:
    """The verdict as one sentence with its figures."""
    if v["holds"] is None:
        return f"**Verdict at {budget} labels: {v['why']}.**"
    state = "holds" if v["holds"] else "does not hold"
    rgb = "better" if v["better_than_rgb"] else "not better"
    hum = "better" if v["better_than_parallax_on_humans"] else "not better"
    return (
        f"**Verdict at {budget} labels: the paper's finding {state}.** On the moving-people clips, rgb+parallax"
        f" (`{v['rgb_parallax']}`) is {rgb} than rgb (`{v['rgb']}`) on all pixels (si-RMSE"
        f" {v['rgb_parallax_all']:.4f} against {v['rgb_all']:.4f}) and {hum} than the raw parallax on the human"
        f" pixels ({v['rgb_parallax_human']:.4f} against {v['parallax_human']:.4f})."
    )


def write_people_figure(metrics_dir: str | Path, people: dict[str, Any], path: str | Path) -> bool:
    """The moving-person frame: input, masked parallax depth, rgb and rgb+parallax predictions, truth.

    The models are the verdict's of the smallest budget. Returns False (nothing written) without a saved frame.
    """
    from mannequin.evaluation.examples import load_npz
    from mannequin.evaluation.plots import _pyplot, _save

    frame_path = Path(metrics_dir) / PEOPLE_DIR / FRAME_FILE
    if not frame_path.is_file():
        return False
    f = load_npz(frame_path)
    gt, mask = f["depth"].astype(np.float64), f["mask"].astype(bool)
    par = f["parallax"].astype(np.float64)
    both = np.isfinite(par) & np.isfinite(gt) & (par > 0)
    par_m = par * (np.median(gt[both] / par[both]) if both.any() else np.nan)  # pose units to metres, for display
    v = next(iter(people["budgets"].values()), {}).get("verdict", {}) if people["budgets"] else {}
    names = list(f["models"])
    panels = [("masked parallax (median-scaled)", par_m)]
    for key, title in (("rgb", "rgb"), ("rgb_parallax", "rgb+parallax")):
        name = v.get(key)
        depth = f["predictions"][names.index(name)] if name in names else np.full(gt.shape, np.nan)
        panels.append((f"{title}: {name}" if name else f"{title}: no model", depth))
    panels.append(("truth", gt))
    plt = _pyplot()
    fig, axes = plt.subplots(1, 1 + len(panels), figsize=(2.6 * (1 + len(panels)), 2.6))
    cmap = plt.get_cmap("magma_r").with_extremes(bad="0.75")
    finite = gt[np.isfinite(gt)]
    lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    axes[0].imshow(f["image"])
    axes[0].contour(mask, levels=[0.5], colors="cyan", linewidths=0.6)
    axes[0].set_title("input (mask outlined)", fontsize=7)
    for ax, (title, depth) in zip(axes[1:], panels, strict=True):
        ax.imshow(np.ma.masked_invalid(depth), cmap=cmap, vmin=lo, vmax=max(hi, lo + 1e-6))
        ax.set_title(title, fontsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{f['clip_id']} #{int(f['frame_index'])}: a moving person (near = bright)", fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return True


def write_people_report(metrics_dir: str | Path, out_dir: str | Path, results: dict[str, dict]):
    """``(markdown section, summary.json entry)`` and the figure, or ``(None, None)`` without ``people/``."""
    regions = load_regions(metrics_dir)
    if regions is None:
        return None, None
    people = people_summary(regions, results)
    from mannequin.evaluation.plots import placeholder_plot

    figure = Path(out_dir) / FIGURE
    drawn = write_people_figure(metrics_dir, people, figure)
    if not drawn:  # the file stays (reports/plots is a declared output); the section says why there is no figure
        placeholder_plot("no moving-person test frame with a mask", figure)
    return render_section(people, regions["models"].get(PARALLAX), drawn), metrics_view(people)

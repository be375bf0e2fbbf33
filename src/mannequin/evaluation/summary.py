"""The report's numbers as plain data, computed from the metrics files written by ``mannequin evaluate``.

:func:`build_summary` returns ``models`` (every model's identity, counts and metrics), ``gap`` (per pretrained init
and budget, the relative abs_rel reduction against scratch: ``(scratch - init) / scratch``, positive when
pretraining helps), ``smallest_budget``, ``claim`` (that reduction at the smallest budget for ``claim_init``),
``ablation`` (curated against ``-uncurated`` models) and ``audit`` (reject precision/recall, mean MVS accuracy), each
only when it applies. Which way is better comes from the metric's declaration in
:data:`mannequin.evaluation.metrics.DEPTH_METRICS`.

The curation ablation is found by name: an init or objective ``<base>-uncurated`` (a model pretrained with
curation's decisions ignored) is compared with ``<base>``.

Fine-tunes repeated with other seeds (``<init>-<budget>-seed<k>``, :mod:`mannequin.config.spread`) leave ``gap``,
``claim`` and ``ablation`` as they are (those hold the models of ``finetune.seed``) and give ``spread``: every
comparison (each init against scratch, curated against uncurated, each pair of other inits) over the seeds both
sides have, by :data:`SPREAD_RULE`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mannequin.config.spread import split_seed
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
        if r.get("target_gap"):
            entry["target_gap"] = float(r["target_gap"]["abs_rel"])
        models[name] = entry
    grid: dict[str, dict[int, dict]] = {}  # the models of finetune.seed
    seeded: dict[tuple[str, int], dict[int | None, dict]] = {}  # every seed of an (init, budget), None: finetune.seed
    for name, entry in models.items():
        if entry["kind"] == "finetune":
            seed = split_seed(name)[1]
            if seed is None:
                grid.setdefault(entry["init"], {})[entry["budget"]] = entry
            else:
                entry["seed"] = seed
            seeded.setdefault((entry["init"], entry["budget"]), {})[seed] = entry
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
    spread = _spread_rows(seeded)
    if spread:
        summary["spread"] = {f"{r['init']} vs {r['base']} @{r['budget']}": r for r in spread}
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


#: how every comparison over seeds is judged (stated once; the report prints it)
SPREAD_RULE = (
    "spread = standard deviation over the seeds of the per-seed relative abs_rel difference (each seed's pair"
    " shares its label draw); the difference exceeds the spread when |mean| > spread, and is not judged with one seed"
)


def seed_spread(values: list[float]) -> tuple[float, float]:
    """Mean and spread (population standard deviation) of per-seed values, by :data:`SPREAD_RULE`; one seed: 0."""
    n = len(values)
    mean = sum(values) / n
    return mean, (sum((v - mean) ** 2 for v in values) / n) ** 0.5


def beyond_spread(values: list[float]) -> bool | None:
    """Whether the mean of per-seed differences exceeds their spread (:data:`SPREAD_RULE`); None for one seed."""
    if len(values) < 2:
        return None
    mean, spread = seed_spread(values)
    return abs(mean) > spread


def _comparison(kind: str, init: str, base: str, budget: int, ours: dict, theirs: dict) -> dict[str, Any] | None:
    """``init`` against ``base`` at ``budget`` over the seeds both have (``ours``/``theirs``: entries by seed)."""
    seeds = sorted(set(ours) & set(theirs), key=lambda s: -1 if s is None else s)
    reductions = [ABS_REL.improvement(theirs[s]["abs_rel"], ours[s]["abs_rel"]) for s in seeds]
    if not seeds or any(r is None for r in reductions):
        return None
    a, a_spread = seed_spread([ours[s]["abs_rel"] for s in seeds])
    b, b_spread = seed_spread([theirs[s]["abs_rel"] for s in seeds])
    red, red_spread = seed_spread(reductions)  # type: ignore[arg-type]
    return {"comparison": kind, "init": init, "base": base, "budget": budget, "seeds": len(seeds),
            "repeat_seeds": [s for s in seeds if s is not None], "abs_rel": a, "abs_rel_spread": a_spread,
            "base_abs_rel": b, "base_abs_rel_spread": b_spread, "reduction": red, "reduction_spread": red_spread,
            "beyond_spread": beyond_spread(reductions)}  # type: ignore[arg-type]  # fmt: skip


def _spread_rows(seeded: dict[tuple[str, int], dict[int | None, dict]]) -> list[dict[str, Any]]:
    """Every comparison over seeds: each init against scratch, ``<base>-uncurated`` against ``<base>`` and each
    other pair of pretrained inits (e.g. rgb against rgb+parallax), at every budget both sides have."""
    inits = sorted({init for init, _ in seeded if init != SCRATCH})
    pairs = [("scratch", init, SCRATCH) for init in inits]
    curation = {(i.removesuffix(UNCURATED_SUFFIX), i) for i in inits if i.endswith(UNCURATED_SUFFIX)}
    pairs += [("curation", base, unc) for base, unc in sorted(curation) if base in inits]
    main = [i for i in inits if not i.endswith(UNCURATED_SUFFIX)]
    pairs += [("inits", a, b) for k, a in enumerate(main) for b in main[k + 1 :]]
    rows = []
    for kind, init, base in pairs:
        for budget in sorted({b for i, b in seeded if i == init} & {b for i, b in seeded if i == base}):
            row = _comparison(kind, init, base, budget, seeded[(init, budget)], seeded[(base, budget)])
            if row is not None:
                rows.append(row)
    return rows


def label_efficiency_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per fine-tuned model of ``finetune.seed``, ordered by init then budget (the plot's data)."""
    rows = [
        {"init": e["init"], "budget": e["budget"], **{m: e[m] for m in METRICS}}
        for e in summary["models"].values()
        if e["kind"] == "finetune" and "seed" not in e
    ]
    return sorted(rows, key=lambda r: (r["init"], r["budget"]))


def metrics_view(summary: dict[str, Any]) -> dict[str, Any]:
    """What ``summary.json`` holds: the summary with each model cut to its metrics and alignment (the identity
    fields and counts stay in ``summary.md`` and the metrics files), so ``dvc metrics show`` stays readable."""
    keep = (*METRICS, "alignment", "target_gap")
    models = {name: {k: e[k] for k in keep if k in e} for name, e in summary["models"].items()}
    view = {**summary, "models": models}
    if "spread" in summary:
        numbers = ("seeds", "reduction", "reduction_spread", "beyond_spread")
        view["spread"] = {key: {k: r[k] for k in numbers} for key, r in summary["spread"].items()}
    return view


def pretext_comparison(per_seed: dict[int, dict[str, dict]], inits: list[str] | None = None) -> dict[str, Any]:
    """ "Pretexts compared": per init (scratch and each pretext) and budget, abs_rel and δ<1.25 over seeds.

    ``per_seed`` maps a seed to that seed's loaded metrics files (:func:`load_metrics`). Each pretext row also
    holds its abs_rel reduction against scratch of the same seed, its mean and spread over the seeds, and
    ``exceeds_spread``: whether the mean reduction is larger than its spread (always False for one seed).
    Only (init, budget) cells present for every seed are kept, and only those of ``inits`` when given.
    """
    cells: dict[tuple[str, int], dict[int, dict]] = {}
    for seed, results in sorted(per_seed.items()):
        for r in results.values():
            m = r["model"]
            if m["kind"] == "finetune" and (inits is None or m["init"] in inits):
                cells.setdefault((m["init"], int(m["budget"])), {})[seed] = r["metrics"]
    seeds = sorted(per_seed)
    rows = []
    for (init, budget), by_seed in sorted(cells.items(), key=lambda kv: (kv[0][0] != SCRATCH, kv[0])):
        if sorted(by_seed) != seeds:
            continue
        row: dict[str, Any] = {"init": init, "budget": budget}
        for name in ("abs_rel", "a1"):
            row[name], row[f"{name}_std"] = seed_spread([float(by_seed[s][name]) for s in seeds])
        base = cells.get((SCRATCH, budget), {})
        if init != SCRATCH and sorted(base) == seeds:
            reductions = [ABS_REL.improvement(float(base[s]["abs_rel"]), float(by_seed[s]["abs_rel"])) for s in seeds]
            if all(r is not None for r in reductions):
                row["reduction"], row["reduction_std"] = seed_spread(reductions)  # type: ignore[arg-type]
                row["exceeds_spread"] = beyond_spread(reductions) is True  # type: ignore[arg-type]
        rows.append(row)
    budgets = sorted({r["budget"] for r in rows})
    best = {}
    for b in budgets:
        scored = [r for r in rows if r["budget"] == b and "reduction" in r]
        if scored:
            best[str(b)] = min(scored, key=lambda r: r["abs_rel"])["init"]
    return {"seeds": seeds, "budgets": budgets, "rows": rows, "best": best}

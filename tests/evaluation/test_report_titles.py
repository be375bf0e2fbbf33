"""The report's figure titles and spreads: the overall title of label_efficiency.png, one column per recipe in
examples.png, and no "± 0.0000" from a single seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.evaluation import plots
from mannequin.evaluation.markdown import pretexts_table, render_markdown
from mannequin.evaluation.metrics import METRICS


def test_label_efficiency_keeps_its_overall_title(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: seen.append(fig._suptitle.get_text()))
    plots.label_efficiency_plot({"scratch": [(2, 0.3, 0.5), (8, 0.2, 0.6)]}, tmp_path / "a.png", "Overall title")
    assert seen == ["Overall title"]  # not the last panel's ("δ < 1.25 (higher is better)")


def _metrics(folder: Path, name: str, init: str, budget: int, abs_rel: float) -> None:
    doc = {
        "model": {"name": name, "kind": "finetune", "init": init, "budget": budget, "objective": None},
        "alignment": "none",
        "metrics": {m: 0.5 for m in METRICS} | {"abs_rel": abs_rel},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(doc))


def test_examples_show_each_recipe_once(tmp_path: Path) -> None:
    from mannequin.evaluation.report import _example_models
    from mannequin.evaluation.summary import build_summary, load_metrics

    metrics = tmp_path / "metrics"
    for name, init, abs_rel in (("scratch-2", "scratch", 0.4), ("scratch-2-seed1", "scratch", 0.41),
                                ("scratch-2-seed2", "scratch", 0.42), ("mvs-2", "mvs", 0.3)):  # fmt: skip
        _metrics(metrics, f"finetune-{name}", init, 2, abs_rel)
    summary = build_summary(load_metrics(metrics))
    assert _example_models(summary) == ["finetune-scratch-2", "finetune-mvs-2"]


def test_one_seed_prints_no_spread() -> None:
    row = {"init": "mvs", "budget": 2, "abs_rel": 0.25, "abs_rel_std": 0.0, "a1": 0.6, "a1_std": 0.0,
           "reduction": 0.1, "reduction_std": 0.0, "exceeds_spread": False}  # fmt: skip
    one = "\n".join(pretexts_table({"seeds": [0], "rows": [row], "best": {}}))
    assert "±" not in one and "| mvs | 2 | 0.2500 | 0.6000 | +10.0% | not judged (1 seed) |" in one
    two = "\n".join(pretexts_table({"seeds": [0, 1], "rows": [row], "best": {}}))
    assert "| mvs | 2 | 0.2500 ± 0.0000 | 0.6000 ± 0.0000 | +10.0% ± 0.0% | no |" in two  # measured: 0 is a value
    between = {"comparison": "inits", "init": "a", "base": "b", "budget": 2, "seeds": 1, "repeat_seeds": [],
               "abs_rel": 0.2, "abs_rel_spread": 0.0, "base_abs_rel": 0.3, "base_abs_rel_spread": 0.0,
               "reduction": 0.33, "reduction_spread": 0.0, "beyond_spread": None}  # fmt: skip
    md = render_markdown({"models": {}, "spread": {"a vs b @2": between}}, None, 0.2)
    assert "| a | b | 2 | 0.2000 | 0.3000 | 1 | not judged (1 seed) |" in md and "± 0.0000" not in md

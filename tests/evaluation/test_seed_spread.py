"""Every comparison of the report over seeds: known answers from hand-made metrics files with repeated fine-tunes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.config import load_params
from mannequin.config.spread import seeded_name, split_seed
from mannequin.errors import InputError
from mannequin.evaluation.metrics import METRICS
from mannequin.evaluation.report import write_report
from mannequin.evaluation.summary import SPREAD_RULE, beyond_spread, build_summary, load_metrics, seed_spread
from mannequin.stages.compare import RESULTS_MARKERS as README_MARKERS
from mannequin.stages.compare import update_results_page as update_readme

# (init, budget) -> abs_rel of finetune.seed's model, then of seeds 1 and 2
ABS_REL = {
    ("scratch", 2): (0.5, 0.4, 0.6),
    ("mvs", 2): (0.4, 0.36, 0.42),  # against scratch: 20%, 10%, 30%: mean 20%, spread 8.2%: beyond
    ("mvs-uncurated", 2): (0.42, 0.34, 0.45),  # curation: 4.8%, -5.9%, 6.7%: mean 1.8%, spread 5.5%: within
    ("parallax", 2): (0.3, 0.3, 0.3),  # parallax against mvs (inits): reductions all positive
    ("scratch", 8): (0.3, None, None),  # one seed: not judged
    ("mvs", 8): (0.27, None, None),
}


def write(folder: Path, name: str, kind: str, which: str, budget: int | None, abs_rel: float) -> None:
    metrics = {m: 0.5 for m in METRICS} | {"abs_rel": abs_rel}
    model = {"name": name, "kind": kind, "init": None, "budget": budget, "objective": None}
    model["init" if kind == "finetune" else "objective"] = which
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"model": model, "alignment": "none", "metrics": metrics, "num_clips": 1, "num_frames": 2, "num_pixels": 9}
    (folder / f"{name}.json").write_text(json.dumps(doc))


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    metrics = tmp_path / "metrics"
    for (init, budget), values in ABS_REL.items():
        for seed, value in zip((None, 1, 2), values, strict=True):
            if value is not None:
                base = f"{init}-{budget}"
                write(metrics, f"finetune-{base if seed is None else seeded_name(base, seed)}", "finetune", init,
                      budget, value)  # fmt: skip
    write(metrics, "pretrain-mvs", "pretrain", "mvs", None, 0.35)
    write(metrics, "pretrain-mvs-uncurated", "pretrain", "mvs-uncurated", None, 0.5)
    return metrics


def test_names_and_rule() -> None:
    assert seeded_name("mvs-uncurated-2", 7) == "mvs-uncurated-2-seed7"
    assert split_seed("mvs-uncurated-2-seed7") == ("mvs-uncurated-2", 7) and split_seed("mvs-2") == ("mvs-2", None)
    assert seed_spread([0.2, 0.1, 0.3]) == pytest.approx((0.2, (2 / 300) ** 0.5))
    assert beyond_spread([0.2, 0.1, 0.3]) is True and beyond_spread([0.1, -0.1]) is False
    assert beyond_spread([0.5]) is None  # one seed is never judged


def test_every_comparison_over_seeds(metrics_dir: Path) -> None:
    summary = build_summary(load_metrics(metrics_dir), "mvs")
    # gap, claim and ablation keep the models of finetune.seed
    assert summary["gap"]["mvs"]["2"] == pytest.approx({"abs_rel": 0.4, "scratch_abs_rel": 0.5, "reduction": 0.2})
    assert summary["models"]["finetune-mvs-2-seed1"]["seed"] == 1 and "seed" not in summary["models"]["finetune-mvs-2"]
    rows = summary["spread"]
    gap = rows["mvs vs scratch @2"]
    assert gap["seeds"] == 3 and gap["repeat_seeds"] == [1, 2] and gap["comparison"] == "scratch"
    assert gap["reduction"] == pytest.approx(0.2) and gap["reduction_spread"] == pytest.approx((2 / 300) ** 0.5)
    assert gap["abs_rel"] == pytest.approx(1.18 / 3) and gap["base_abs_rel"] == pytest.approx(0.5)
    assert gap["beyond_spread"] is True
    cur = rows["mvs vs mvs-uncurated @2"]
    per_seed = [(0.42 - 0.4) / 0.42, (0.34 - 0.36) / 0.34, (0.45 - 0.42) / 0.45]
    assert cur["comparison"] == "curation" and cur["reduction"] == pytest.approx(sum(per_seed) / 3)
    assert cur["beyond_spread"] is False
    inits = rows["mvs vs parallax @2"]  # the other pair of pretrained inits (rgb against rgb+parallax)
    assert inits["comparison"] == "inits" and inits["reduction"] < 0 and inits["beyond_spread"] is True
    assert not any("mvs-uncurated vs parallax" in k or "parallax vs mvs-uncurated" in k for k in rows)
    assert rows["mvs vs scratch @8"]["seeds"] == 1 and rows["mvs vs scratch @8"]["beyond_spread"] is None


def test_report_states_every_spread(metrics_dir: Path, tmp_path: Path) -> None:
    summary = write_report(metrics_dir, tmp_path / "reports")
    md = (tmp_path / "reports" / "summary.md").read_text()
    assert md.count(SPREAD_RULE) == 1  # stated once, referred to by every comparison
    assert "| mvs | 2 | 0.4000 | 0.5000 | +20.0% | 3 | +20.0% ± 8.2% | yes |" in md
    assert "| mvs | 8 | 0.2700 | 0.3000 | +10.0% | 1 | n/a | not judged (1 seed) |" in md
    assert "| mvs | fine-tuned, 2 labels | 0.4000 | 0.4200 | +4.8% | 3 | +1.8% ± 5.5% | no |" in md
    assert "| mvs | pretrained only (median) |" not in md  # hand-made files say alignment none
    assert "pretrained only (none) | 0.3500 | 0.5000 | +30.0% | 1 | n/a | not judged (1 seed) |" in md
    assert "## Pretrained inits against each other" in md and "| mvs | parallax | 2 |" in md
    assert "Over 3 seeds the reduction is +20.0% ± 8.2%: the difference exceeds the spread." in md
    assert "| mvs (seed 1) | 2 | none |" in md
    saved = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert saved["spread"]["mvs vs scratch @2"] == pytest.approx(
        {"seeds": 3, "reduction": 0.2, "reduction_spread": (2 / 300) ** 0.5, "beyond_spread": True}
    )
    assert "beyond_spread" not in saved["spread"]["mvs vs scratch @8"]  # None is pruned from the metrics file
    # the label-efficiency curve keeps one point per (init, budget): the models of finetune.seed
    csv = (tmp_path / "reports" / "plots" / "label_efficiency.csv").read_text().splitlines()
    assert len(csv) == 1 + len(ABS_REL) and summary["smallest_budget"] == 2


def test_report_gains_pretexts_compared(metrics_dir: Path, tmp_path: Path) -> None:
    compared = tmp_path / "compare" / "report"
    comparison = {"seeds": [0, 1], "budgets": [2], "best": {"2": "selfie"}, "pretrain_steps": [150], "rows": [
        {"init": "scratch", "budget": 2, "abs_rel": 0.5, "abs_rel_std": 0.01, "a1": 0.6, "a1_std": 0.02},
        {"init": "selfie", "budget": 2, "abs_rel": 0.4, "abs_rel_std": 0.02, "a1": 0.7, "a1_std": 0.01,
         "reduction": 0.2, "reduction_std": 0.05, "exceeds_spread": True}]}  # fmt: skip
    compared.mkdir(parents=True)
    (compared / "pretexts_compared.json").write_text(json.dumps(comparison))
    params = load_params(None, {"report.compared": str(compared)}).report
    write_report(metrics_dir, tmp_path / "reports", params=params)
    md = (tmp_path / "reports" / "summary.md").read_text()
    assert "## Pretexts compared" in md and "| selfie | 2 | 0.4000 ± 0.0200 |" in md
    assert "![pretexts compared](../compare/report/pretexts_compared.png)" in md
    write_report(metrics_dir, tmp_path / "plain")  # without report.compared: no section
    assert "Pretexts compared" not in (tmp_path / "plain" / "summary.md").read_text()
    (compared / "pretexts_compared.json").write_text("{")
    with pytest.raises(InputError, match=r"pretexts_compared\.json: not valid JSON"):
        write_report(metrics_dir, tmp_path / "reports", params=params)
    # README's block is rewritten from the same JSON, between its markers only
    readme = tmp_path / "README.md"
    start, end = README_MARKERS
    readme.write_text(f"# title\n\n{start}\nold table\n{end}\n\nafter\n")
    update_readme(readme, comparison)
    text = readme.read_text()
    assert text.startswith(f"# title\n\n{start}\n") and text.endswith(f"{end}\n\nafter\n") and "old table" not in text
    assert "| selfie | 2 | 0.4000 ± 0.0200 | 0.7000 ± 0.0100 | +20.0% ± 5.0% | yes |" in text
    assert "150 pretraining steps" in text and "2 labels: selfie" in text
    update_readme(readme, comparison)
    assert readme.read_text() == text  # idempotent
    readme.write_text("no markers\n")
    with pytest.raises(InputError, match=r"README\.md: needs one"):
        update_readme(readme, comparison)


def test_spread_params_are_checked() -> None:
    assert load_params(None).spread.seeds == [1, 2] and load_params(None).spread.budgets == [2]
    assert load_params(None, {"spread.seeds": []}).spread.seeds == []
    bad = [("spread.seeds", [1, 1], "listed twice"), ("spread.seeds", [-1], "greater than"),
           ("spread.budgets", [0], "greater than"), ("spread.budgets", [], "at least 1")]  # fmt: skip
    for key, value, message in bad:
        with pytest.raises(InputError, match=message):
            load_params(None, {key: value})

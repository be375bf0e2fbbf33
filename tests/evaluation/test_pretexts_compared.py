"""The "Pretexts compared" section: known answers from hand-made metrics files, over two seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.evaluation.metrics import METRICS
from mannequin.evaluation.report import write_pretext_report


def _write(folder: Path, init: str, budget: int, abs_rel: float, a1: float) -> None:
    metrics = {m: 0.5 for m in METRICS} | {"abs_rel": abs_rel, "a1": a1}
    data = {"model": {"kind": "finetune", "init": init, "budget": budget, "name": f"{init}-{budget}"},
            "metrics": metrics}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{init}-{budget}.json").write_text(json.dumps(data))


def test_reduction_and_spread_over_seeds(tmp_path: Path) -> None:
    # seed 0: selfie 20% better than scratch at 2 labels, colorize 5% worse; seed 1: selfie 10% better, colorize 5%
    table = {0: {"scratch": 0.5, "selfie": 0.4, "colorize": 0.525}, 1: {"scratch": 0.4, "selfie": 0.36,
                                                                        "colorize": 0.38}}  # fmt: skip
    dirs = {}
    for seed, values in table.items():
        dirs[seed] = tmp_path / f"seed-{seed}"
        for init, abs_rel in values.items():
            _write(dirs[seed], init, 2, abs_rel, 1 - abs_rel)
    _write(dirs[0], "masked", 2, 0.1, 0.9)  # only one seed: left out
    out = tmp_path / "report"
    comparison = write_pretext_report(dirs, out)
    rows = {r["init"]: r for r in comparison["rows"]}
    assert set(rows) == {"scratch", "selfie", "colorize"} and comparison["seeds"] == [0, 1]
    assert rows["selfie"]["reduction"] == pytest.approx(0.15) and rows["selfie"]["reduction_std"] == pytest.approx(0.05)
    assert rows["selfie"]["exceeds_spread"] is True
    assert rows["colorize"]["reduction"] == pytest.approx(0.0) and rows["colorize"]["exceeds_spread"] is False
    assert rows["scratch"]["abs_rel"] == pytest.approx(0.45) and "reduction" not in rows["scratch"]
    assert comparison["best"] == {"2": "selfie"}
    md = (out / "pretexts_compared.md").read_text()
    assert "## Pretexts compared" in md and "+15.0% ± 5.0%" in md and "2 labels: selfie" in md
    assert (out / "pretexts_compared.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "pretexts_compared.json").read_text()) == comparison

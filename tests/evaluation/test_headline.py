"""Issue 26, item 15: what a person reads at the end of a run, and one small DVC metrics file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mannequin.evaluation.report import write_report
from tests.helpers.metrics import MODELS, write_metrics


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    for name, spec in MODELS.items():
        write_metrics(tmp_path / "metrics", name, *spec)
    return tmp_path / "metrics"


def curated(tmp_path: Path, summary: dict) -> Path:
    folder = tmp_path / "curated"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_headline_holds_the_claim_and_the_accepted_share(metrics_dir: Path, tmp_path: Path) -> None:
    cur = curated(tmp_path, {"accepted": 7, "candidates": 10, "accepted_fraction": 0.7, "by_reason": {"a": 1}})
    write_report(metrics_dir, tmp_path / "reports", curated_dir=cur)
    head = json.loads((tmp_path / "reports/headline.json").read_text())
    # mvs at 4 labels: 0.20 against scratch's 0.40, a 50% reduction; the default claim asks for 20%
    assert head["claim"] == {
        "init": "mvs", "budget": 4, "abs_rel": 0.2, "scratch_abs_rel": 0.4, "reduction": 0.5, "holds": True,
    }  # fmt: skip
    assert head["curation"] == {"accepted": 7, "candidates": 10, "accepted_fraction": 0.7}  # not by_reason
    text = (tmp_path / "reports/headline.md").read_text()
    assert "at least 20% lower): HOLDS\n  abs_rel 0.2000 against 0.4000 from scratch: 50.0% lower." in text
    # the headline table: a row per budget, scratch first, then the inits
    assert "| labels | scratch | mvs | mvs-uncurated |" in text
    assert "| 4 | 0.4000 | 0.2000 | 0.2500 |" in text and "| 16 | 0.3000 | 0.2700 | n/a |" in text
    assert "The report: reports/summary.md (figures: reports/label_efficiency.png, reports/examples.png)." in text
    assert max(len(line) for line in text.splitlines()) <= 120


def test_a_claim_that_fails_reads_as_failing_and_no_curation_is_left_out(metrics_dir: Path, tmp_path: Path) -> None:
    from mannequin.config.evaluation import ReportParams

    write_report(metrics_dir, tmp_path / "reports", params=ReportParams(claim_min_reduction=0.6))
    head = json.loads((tmp_path / "reports/headline.json").read_text())
    assert head["claim"]["holds"] is False and "curation" not in head
    assert "lower): DOES NOT HOLD\n" in (tmp_path / "reports/headline.md").read_text()


def test_a_broken_curation_summary_is_one_line(metrics_dir: Path, tmp_path: Path) -> None:
    from mannequin.errors import InputError

    cur = tmp_path / "curated"
    cur.mkdir()
    (cur / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match=r"summary\.json: not a readable curation summary"):
        write_report(metrics_dir, tmp_path / "reports", curated_dir=cur)

"""Issue 12: the pipeline's closing metrics summary fits an 80-column terminal (it was one ~110-column table)."""

from __future__ import annotations

from mannequin.evaluation.metrics import METRICS
from mannequin.orchestration.metrics_table import metrics_markdown, metrics_text

FILES = {
    "reports/summary.json": {
        "models": {
            f"{init}-{budget}": {**{m: 0.123456 for m in METRICS}, "alignment": "none"}
            for init in ("scratch", "mvs", "mvs-uncurated")
            for budget in (2, 8, 32)
        },
        "gap": {"mvs": {"32": {"scratch_abs_rel": 0.21, "init_abs_rel": 0.19, "reduction": 0.095}}},
        "claim": {"holds": True},
    },
    "curated/summary.json": {"clips": 128, "accepted": 84, "rejected": {"motion": 20, "parallax": 24}},
}


def test_the_summary_fits_80_columns_and_keeps_every_value() -> None:
    assert max(len(line) for line in metrics_markdown(FILES).splitlines()) > 110  # what the terminal used to get
    text = metrics_text(FILES, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    # a row per model, a column per metric; columns past 80 go on in a second table with the same rows
    headers = [line.split() for line in lines if line.startswith(" " * 20) and line.strip()]
    assert len(headers) == 2 and [c for h in headers for c in h] == [*METRICS, "alignment"]
    assert sum(line.strip().startswith(("scratch-", "mvs-")) for line in lines) == 2 * 9
    # the second table holds the metrics past the 80th column (a3 and the boundary errors), then the alignment
    assert "    mvs-uncurated-32  0.1235   0.1235" in text
    assert "    mvs-uncurated-32  0.1235  0.1235   0.1235    none" in text
    # lone values, one a line, named by their whole key
    assert "  gap.mvs.32.reduction        0.095" in lines and "  claim.holds  true" in lines
    assert "  clips              128" in lines and "  rejected.parallax  24" in lines


def test_a_terminal_too_narrow_for_one_column_gets_lines() -> None:
    text = metrics_text(FILES, width=24)
    assert "  models.mvs-uncurated-32.si_rmse  " in text and "No metrics" in metrics_text({})

"""``mannequin report`` from hand-made metrics files: every number in the report comes from those files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.errors import InputError
from mannequin.evaluation.examples import save_npz
from mannequin.evaluation.markdown import render_markdown
from mannequin.evaluation.metrics import DEPTH_METRICS, METRICS
from mannequin.evaluation.report import audit_missing, write_report
from mannequin.evaluation.summary import build_summary, load_metrics
from tests.helpers.metrics import MODELS, write_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    metrics = tmp_path / "metrics"
    for name, spec in MODELS.items():
        write_metrics(metrics, name, *spec)
    rng = np.random.default_rng(0)
    depth = rng.uniform(1.0, 5.0, size=(2, 24, 32)).astype(np.float32)
    mvs = np.full_like(depth, np.nan)
    mvs[0, 4:20] = depth[0, 4:20] * 3.0  # pose units
    save_npz(
        metrics / "examples/frames.npz",
        clip_ids=np.array(["t1", "t2"]),
        frame_indices=np.array([3, 5]),
        images=rng.integers(0, 255, size=(2, 24, 32, 3), dtype=np.uint8),
        depth=depth,
        mvs=mvs,
    )
    for name in ("finetune-scratch-4", "finetune-mvs-4"):
        save_npz(metrics / f"examples/{name}.npz", depth=depth * rng.uniform(0.8, 1.2, size=depth.shape))
    return metrics


def png_pixels(path: Path) -> np.ndarray:
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_MAGIC
    return matplotlib.image.imread(path)


def test_summary_numbers_come_from_the_metrics_files(metrics_dir, tmp_path):
    summary = write_report(metrics_dir, tmp_path / "reports")
    saved = json.loads((tmp_path / "reports/summary.json").read_text())
    assert saved["models"]["finetune-mvs-4"]["abs_rel"] == 0.20
    assert saved["models"]["pretrain-mvs"]["alignment"] == "median"
    assert saved["models"]["finetune-scratch-16"]["rmse"] == pytest.approx(0.12)
    assert set(saved["models"]) == set(MODELS)
    assert saved["gap"]["mvs"]["4"] == pytest.approx({"abs_rel": 0.2, "scratch_abs_rel": 0.4, "reduction": 0.5})
    assert saved["gap"]["mvs"]["16"]["reduction"] == pytest.approx(0.1)
    assert saved["gap"]["mvs-uncurated"]["4"]["reduction"] == pytest.approx(0.375)
    assert "16" not in saved["gap"]["mvs-uncurated"]
    assert saved["smallest_budget"] == 4
    assert saved["claim"]["init"] == "mvs" and saved["claim"]["reduction"] == pytest.approx(0.5)
    assert saved["ablation"]["mvs"]["finetune"]["4"]["reduction"] == pytest.approx((0.25 - 0.20) / 0.25)
    assert saved["ablation"]["mvs"]["pretrain"]["reduction"] == pytest.approx((0.50 - 0.35) / 0.50)
    assert "audit" not in saved
    assert summary["models"]["finetune-mvs-4"]["budget"] == 4 and "budget" not in saved["models"]["finetune-mvs-4"]
    assert set(saved["models"]["finetune-mvs-4"]) == {*METRICS, "alignment"}


def test_summary_markdown_shows_tables_gap_claim_and_ablation(metrics_dir, tmp_path):
    write_report(metrics_dir, tmp_path / "reports")
    md = (tmp_path / "reports/summary.md").read_text()
    assert "| scratch | 4 | none | 0.4000 |" in md  # scratch rows first
    assert "| mvs | 16 | none | 0.2700 |" in md
    assert "| pretrain-mvs | median | 0.3500 |" in md
    assert "| mvs | 4 | 0.2000 | 0.4000 | +50.0% |" in md
    assert "| mvs | 16 | 0.2700 | 0.3000 | +10.0% |" in md
    assert "a reduction of +50.0%" in md and "**holds**" in md
    assert "## Curation ablation" in md and "| mvs | fine-tuned, 4 labels | 0.2000 | 0.2500 | +20.0% |" in md
    assert "| mvs | pretrained only (median) | 0.3500 | 0.5000 | +30.0% |" in md
    assert "## Curation audit\n\nLeft out: no data or curated folder was given." in md  # one line why


def test_summary_is_plain_data_that_the_markdown_renders(metrics_dir, tmp_path):
    from mannequin.config.evaluation import ReportParams

    summary = build_summary(load_metrics(metrics_dir), "mvs")  # computed without writing anything
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    assert summary == write_report(metrics_dir, tmp_path / "reports")
    md = render_markdown(summary, None, ReportParams().claim_min_reduction, audit_missing=audit_missing(None, None))
    assert (tmp_path / "reports/summary.md").read_text(encoding="utf-8").startswith(md)  # then the left-out sections
    headers = " | ".join(m.header for m in DEPTH_METRICS)  # the columns come from the metric declarations
    assert f"| init | budget | alignment | {headers} | frames | pixels |" in md
    assert f"| model | alignment | {headers} | frames | pixels |" in md


def test_claim_that_fails_is_reported_as_failing(tmp_path):
    metrics = tmp_path / "metrics"
    write_metrics(metrics, "finetune-scratch-8", "finetune", "scratch", 8, 0.40, 0.5, "none")
    write_metrics(metrics, "finetune-mvs-8", "finetune", "mvs", 8, 0.36, 0.5, "none")
    summary = write_report(metrics, tmp_path / "reports")
    assert summary["claim"]["reduction"] == pytest.approx(0.1)
    md = (tmp_path / "reports/summary.md").read_text()
    assert "+10.0%" in md and "**does not hold**" in md
    assert "ablation" not in summary
    assert png_pixels(tmp_path / "reports/examples.png").std() > 0  # a placeholder that says why it is empty


def test_plots_are_real_pngs_with_content(metrics_dir, tmp_path):
    write_report(metrics_dir, tmp_path / "reports")
    curve = png_pixels(tmp_path / "reports/label_efficiency.png")
    assert curve.shape[:2] == (400, 1000)
    assert curve[..., :3].std() > 0.05 and len(np.unique(curve.reshape(-1, curve.shape[-1]), axis=0)) > 50
    ex = png_pixels(tmp_path / "reports/examples.png")
    # input, ground truth, MVS, scratch-4, mvs-4, mvs-uncurated-4 (no example file: left out) -> 5 columns
    assert ex.shape[:2] == (int(2 * 2.0 * 100 + 40), int(2.4 * 5 * 100))
    assert ex[..., :3].std() > 0.05
    rows = (tmp_path / "reports/plots/label_efficiency.csv").read_text().splitlines()
    assert rows[0].startswith("init,budget,abs_rel")
    assert rows[1].startswith("mvs,4,0.2,") and len(rows) == 6


def test_report_is_byte_identical_on_rerun(metrics_dir, tmp_path):
    one, two = tmp_path / "one" / "reports", tmp_path / "two" / "reports"  # the same folder name, anywhere
    write_report(metrics_dir, one)
    write_report(metrics_dir, two)
    files = {p.relative_to(one): p.read_bytes() for p in one.rglob("*") if p.is_file()}
    assert len(files) == 8 and files == {p.relative_to(two): p.read_bytes() for p in two.rglob("*") if p.is_file()}
    assert json.loads((one / "audit.json").read_text()) == {"available": False}


def test_bad_metrics_files_are_input_errors(tmp_path):
    metrics = tmp_path / "metrics"
    with pytest.raises(InputError, match="no such metrics directory"):
        write_report(metrics, tmp_path / "reports")
    metrics.mkdir()
    with pytest.raises(InputError, match="no metrics files"):
        write_report(metrics, tmp_path / "reports")
    (metrics / "broken.json").write_text("{not json")
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON"):
        write_report(metrics, tmp_path / "reports")
    (metrics / "broken.json").write_text(json.dumps({"model": {"kind": "pretrain"}, "metrics": {"abs_rel": 1.0}}))
    with pytest.raises(InputError, match="metrics lack sq_rel"):
        write_report(metrics, tmp_path / "reports")


def test_report_command_line(metrics_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli-reports"
    (tmp_path / "none.yaml").write_text("")  # an empty params file: the defaults (a missing one is an error)
    res = runner.invoke(
        app, ["report", "--metrics", str(metrics_dir), "--out", str(out), "--params", str(tmp_path / "none.yaml")]
    )
    assert res.exit_code == 0, res.output
    assert "7 models" in res.output and (out / "summary.md").is_file()
    res = runner.invoke(app, ["report", "--metrics", str(tmp_path / "missing"), "--out", str(out)])
    assert res.exit_code == 2 and "no such metrics directory" in res.output and "Traceback" not in res.output


def test_evaluate_command_line_errors_are_one_line(tmp_path):
    res = CliRunner().invoke(app, ["evaluate", "--models", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "no such models directory" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["evaluate", "--model-dir", str(tmp_path), "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "model.json: file not found" in res.output

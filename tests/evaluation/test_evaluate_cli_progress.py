"""Issue 12: ``evaluate`` shows a progress bar over models x clips, and an empty models folder is named."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.depth_png import sensor_depth_indices
from tests.helpers.models import export


def test_evaluate_shows_a_bar_over_models_and_clips(eval_data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    export(models, "finetune", "scratch-4", {"init": "scratch", "budget": 4}, 0.0)
    export(models, "pretrain", "mvs", {"objective": "mvs"}, 2.0)
    (tmp_path / "params.yaml").write_text("evaluate:\n  examples: 1\n  example_mvs: false\n")
    args = ["evaluate", "--models", str(models), "--data", str(eval_data), "--out", str(tmp_path / "metrics"),
            "--params", str(tmp_path / "params.yaml")]  # fmt: skip
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    tests = [row.split(",")[0] for row in (eval_data / "splits.csv").read_text().splitlines() if row.endswith(",test")]
    clips = sum(1 for c in tests if sensor_depth_indices(eval_data, c))  # the test clips with ground truth
    assert clips >= 2 and "evaluate: 100%" in shown.output and f"{2 * clips}/{2 * clips}" in shown.output
    quiet = CliRunner().invoke(app, [*args, "--no-progress"])
    assert quiet.exit_code == 0 and "evaluate: " not in quiet.output and "pretrain-mvs: abs_rel" in quiet.output


def test_an_empty_models_folder_is_named_not_the_out_folder(eval_data: Path, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    args = ["evaluate", "--models", str(tmp_path / "models"), "--data", str(eval_data), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.startswith(f"mannequin: error: {tmp_path / 'models'}: no model to evaluate")
    assert str(tmp_path / "out") not in result.output

"""Issue 12: fine-tuning errors name --init, and a budget beyond the labelled frames says what the DAG needs."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.learning.objectives import objective_names


def test_a_budget_too_large_says_what_the_dag_needs(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    # l0 and l1 hold 6 labelled frames each: 12; finetune.val_frames 8 holds out one whole clip, 6 left to train on
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"finetune": {"budgets": [2, 8, 32], "val_frames": 8}}))
    folders = ["--data", str(learning_data["data"]), "--out", str(tmp_path / "m"), "--runs", str(tmp_path / "r")]
    args = ["finetune", "--init", "scratch", "--budget", "8", "--params", str(params), *folders, "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "label budget 8 exceeds the 6 labelled frames available" in line
    assert "(12 in labeled clips, 6 of them in the 1 clip(s) held out for validation)" in line
    assert "finetune.budgets 2, 8, 32 need 32 labelled frames outside the clips held out for finetune.val_fr" in line


def test_a_bad_init_is_called_init(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    folders = ["--data", str(learning_data["data"]), "--pretrained", str(tmp_path / "none")]
    for init in ("jigsaw", "mvs+jigsaw"):
        result = CliRunner().invoke(app, ["finetune", "--init", init, "--budget", "2", *folders, "--no-progress"])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"mannequin: error: --init: '{init}' is neither 'scratch', a pretraining run")
        assert "--objective" not in result.output and ", ".join(objective_names()) in result.output

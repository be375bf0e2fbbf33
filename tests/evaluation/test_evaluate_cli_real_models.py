"""``mannequin evaluate`` then ``mannequin report`` on real (untrained) exported DepthNets and tiny real clips."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from mannequin.cli import app
from tests.helpers.models import export


def test_evaluate_and_report_from_the_command_line(eval_data, tmp_path):
    models = tmp_path / "models"
    export(models, "finetune", "scratch-4", {"init": "scratch", "budget": 4}, 0.0)
    export(models, "pretrain", "mvs", {"objective": "mvs"}, 2.0)
    params = tmp_path / "params.yaml"
    params.write_text("evaluate:\n  examples: 1\n  example_mvs: false\n")
    runner = CliRunner()
    args = ["evaluate", "--models", str(models), "--data", str(eval_data), "--out", str(tmp_path / "metrics")]
    res = runner.invoke(app, [*args, "--params", str(params)])
    assert res.exit_code == 0, res.output
    assert "finetune-scratch-4: abs_rel" in res.output and "pretrain-mvs: abs_rel" in res.output
    ft = json.loads((tmp_path / "metrics/finetune-scratch-4.json").read_text())
    pt = json.loads((tmp_path / "metrics/pretrain-mvs.json").read_text())
    assert (ft["alignment"], pt["alignment"]) == ("none", "median")
    assert ft["num_frames"] == pt["num_frames"] == 3
    for name in ("finetune-scratch-4", "pretrain-mvs", "frames"):
        assert (tmp_path / f"metrics/examples/{name}.npz").is_file()
    with np.load(tmp_path / "metrics/examples/pretrain-mvs.npz") as z:
        assert z["depth"].shape == (1, 24, 32) and np.isfinite(z["depth"]).all()
    first = (tmp_path / "metrics/pretrain-mvs.json").read_bytes()
    assert runner.invoke(app, [*args, "--params", str(params)]).exit_code == 0
    assert (tmp_path / "metrics/pretrain-mvs.json").read_bytes() == first  # deterministic re-run
    res = runner.invoke(app, ["report", "--metrics", str(tmp_path / "metrics"), "--out", str(tmp_path / "reports"),
                              "--params", str(params)])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "reports/summary.json").read_text())
    assert summary["models"]["finetune-scratch-4"]["abs_rel"] == ft["metrics"]["abs_rel"]
    assert summary["models"]["pretrain-mvs"]["abs_rel"] == pt["metrics"]["abs_rel"]
    md = (tmp_path / "reports/summary.md").read_text()
    assert f"| scratch | 4 | none | {ft['metrics']['abs_rel']:.4f} |" in md

"""``mannequin real-data`` then ``mannequin real-depth`` from the command line, with real exported DepthNets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.evaluation.baselines import CONSTANT, PARALLAX
from mannequin.evaluation.real_depth_report import RESULTS_MARKERS


def export(models: Path, kind: str, tag: str, meta: dict, inputs: str) -> None:
    torch = pytest.importorskip("torch")
    from mannequin.learning.export import export_model
    from mannequin.learning.nets import DepthNet

    torch.manual_seed(0)
    net = DepthNet(4, 2, inputs=inputs)
    meta = {"kind": kind, "net": {"width": 4, "depth": 2}, "image_size": [32, 24], "inputs": inputs, **meta}
    export_model(models / kind / tag, net, meta, {})


def test_real_depth_scores_exported_models_and_writes_every_table(tmp_path: Path) -> None:
    models, data, out = tmp_path / "models", tmp_path / "real" / "data", tmp_path / "real"
    export(models, "finetune", "scratch-2", {"init": "scratch", "budget": 2}, "rgb")
    export(models, "pretrain", "mvs-parallax", {"objective": "mvs-parallax"}, "rgb+parallax")
    params = tmp_path / "params.yaml"
    params.write_text(
        "curate:\n  mvs:\n    planes: 16\n  masks:\n    parallax_planes: 16\nreal_depth:\n  sweep_width: 96\n"
    )
    page = tmp_path / "results.md"
    page.write_text("\n".join(["# r", *RESULTS_MARKERS, ""]))
    runner = CliRunner()
    res = runner.invoke(app, ["real-data", str(data), "--only", "motorcycle", "--params", str(params)])
    assert res.exit_code == 0, res.output
    args = ["real-depth", "--models", str(models), "--data", str(data), "--out", str(out), "--params", str(params),
            "--results", str(tmp_path / "results.json"), "--results-page", str(page)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    result = json.loads((out / "real_depth.json").read_text())
    assert (tmp_path / "results.json").read_text() == (out / "real_depth.json").read_text()
    rows = result["clips"]["motorcycle"]["rows"]
    assert set(rows) == {CONSTANT, PARALLAX, "finetune-scratch-2", "pretrain-mvs-parallax"}
    assert rows["pretrain-mvs-parallax"]["inputs"] == "rgb+parallax" and rows["finetune-scratch-2"]["inputs"] == "rgb"
    assert all(rows[n]["frames"] == 1 for n in rows)
    assert "| constant depth (baseline) |" in res.output and "The best rgb model" in res.output
    assert "### motorcycle: 1 frame of 741x500" in page.read_text()
    res = runner.invoke(app, [*args[:-2]])  # the same again: the same bytes
    assert res.exit_code == 0 and json.loads((out / "real_depth.json").read_text()) == result


def test_real_depth_without_real_data_is_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["real-depth", "--data", str(tmp_path / "none"), "--models", str(tmp_path)])
    assert res.exit_code == 2
    assert (
        res.output.strip()
        == f"mannequin: error: {tmp_path / 'none' / 'splits.csv'}: file not found (run mannequin real-data first)"
    )

"""Stage order from DVC's graph, the metrics table, pipeline params and the environment (fast, no Prefect)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mannequin.env import configure_offline, dvc_site_cache_dir, offline_env
from mannequin.errors import InputError
from mannequin.orchestration import metrics_markdown, stage_order
from mannequin.orchestration.dvc_runner import classify
from mannequin.stages.pipeline import read_pipeline_params


def test_stage_order_follows_dvc_graph_with_foreach_names(flaky_repo: Path) -> None:
    assert stage_order(flaky_repo) == ["prep", "flaky", "train@s1", "train@s2"]
    assert stage_order(flaky_repo, ["train@s2"]) == ["prep", "flaky", "train@s2"]
    assert stage_order(flaky_repo, ["flaky"]) == ["prep", "flaky"]
    # a foreach group name expands to all its items, as `dvc repro train` does
    assert stage_order(flaky_repo, ["train"]) == ["prep", "flaky", "train@s1", "train@s2"]


def test_stage_order_errors_are_input_errors(toy_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope"):
        stage_order(toy_repo, ["nope"])
    with pytest.raises(InputError, match="not a DVC repository"):
        stage_order(tmp_path / "nothing-here")


def test_metrics_markdown_known_table() -> None:
    table = metrics_markdown(
        {"metrics/b.json": {"abs_rel": 0.123456, "delta": {"1": 0.9}}, "metrics/a.json": {"abs_rel": 0.5, "n": 3}}
    )
    lines = table.splitlines()
    assert lines[0] == "## Summary metrics"
    assert lines[2] == "| file | abs_rel | n | delta.1 |"
    assert lines[4] == "| metrics/a.json | 0.5 | 3 |  |"
    assert lines[5] == "| metrics/b.json | 0.1235 |  | 0.9 |"
    assert "No metrics" in metrics_markdown({})


def test_classify_reads_dvc_messages() -> None:
    assert classify("train@s1", "Running stage 'train@s1':\n> python x\n") == "ran"
    assert classify("prep", "Stage 'prep' didn't change, skipping\n") == "skipped"
    assert classify("prep", "Stage 'prep' is cached - skipping run, checking out outputs\n") == "restored"
    # another stage's message says nothing about this one
    assert classify("prep", "Stage 'prep2' didn't change, skipping\n") == "ran"


def test_pipeline_params_read_only_their_block(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("toy: {a: 1}\npipeline: {retries: 4, retry_delay_s: 0.5}\n")
    got = read_pipeline_params(params)
    assert (got.retries, got.retry_delay_s) == (4, 0.5)
    params.write_text("pipeline: {retries: many}\n")
    with pytest.raises(InputError, match=r"pipeline\.retries: expected int"):
        read_pipeline_params(params)
    assert read_pipeline_params(tmp_path / "absent.yaml").retries == 1


def test_offline_environment_keeps_state_in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # a project: dvc.yaml beside params.yaml
    (tmp_path / "params.yaml").write_text("{}\n")
    env = offline_env(tmp_path)
    assert env["PREFECT_HOME"] == str(tmp_path.resolve() / ".prefect")
    assert env["DVC_NO_ANALYTICS"] == "1" and env["DO_NOT_TRACK"] == "1"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["GX_ANALYTICS_ENABLED"] == "false"
    assert env["PREFECT_SERVER_API_HOST"] == "127.0.0.1"
    assert dvc_site_cache_dir(tmp_path) == tmp_path.resolve() / ".dvc" / "tmp" / "site-cache"
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "user-choice")
    configure_offline(tmp_path)
    assert os.environ["PREFECT_HOME"] == str(tmp_path.resolve() / ".prefect")
    assert os.environ["DVC_NO_ANALYTICS"] == "user-choice"  # what the user set wins


def test_dvc_repo_config_of_toy_is_quiet(toy_repo: Path) -> None:
    config = (toy_repo / ".dvc" / "config").read_text()
    assert "analytics = false" in config and "check_update = false" in config


def test_cli_rejects_a_folder_without_dvc_yaml(tmp_path: Path) -> None:
    from mannequin.cli import app

    result = CliRunner().invoke(app, ["pipeline", "--repo", str(tmp_path)])
    assert result.exit_code == 2
    assert "dvc.yaml: file not found" in result.output


def test_matrix_stage_names_are_ordered_and_runnable(toy_repo: Path) -> None:
    import yaml

    from mannequin.orchestration import run_stage

    dvc_yaml = yaml.safe_load((toy_repo / "dvc.yaml").read_text())
    dvc_yaml["stages"]["finetune"] = {
        "matrix": {"init": ["scratch", "mvs"], "budget": [4, 16]},
        "cmd": "python -c \"open('out/ft-${item.init}-${item.budget}.txt', 'w').write('ok')\"",
        "deps": ["out/prep.txt"],
        "outs": ["out/ft-${item.init}-${item.budget}.txt"],
    }
    (toy_repo / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml, sort_keys=False))
    order = stage_order(toy_repo)
    matrix = {f"finetune@{init}-{budget}" for init in ("scratch", "mvs") for budget in (4, 16)}
    assert set(order) == {"prep", "train@s1", "train@s2", *matrix}
    assert order[0] == "prep"
    assert stage_order(toy_repo, ["finetune@scratch-4"]) == ["prep", "finetune@scratch-4"]
    for stage in stage_order(toy_repo, ["finetune@scratch-4"]):
        assert run_stage(toy_repo, stage).status == "ran"
    assert (toy_repo / "out" / "ft-scratch-4.txt").read_text() == "ok"

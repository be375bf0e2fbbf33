"""Data versioning and experiments with real DVC: a local-directory remote, a fresh clone, `dvc exp run -S`."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mannequin.orchestration import dvc_command, experiment_run, run_stage, stage_order
from mannequin.orchestration.dvc_runner import dvc_env, dvc_json
from tests.helpers.toy_project import make_toy_project

pytestmark = pytest.mark.slow  # ~10-20 DVC start-ups each


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=dvc_env(root), check=True, capture_output=True)


def _find_named(node: Any, name: str) -> dict[str, Any] | None:
    """The entry of `dvc exp show --json` whose name is ``name`` (the layout nests experiments in revs)."""
    if isinstance(node, dict):
        if node.get("name") == name and isinstance(node.get("data"), dict):
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_named(child, name)
        if found is not None:
            return found
    return None


def test_push_then_pull_restores_data_and_outputs_in_fresh_clone(tmp_path: Path, dvc_state: Path) -> None:
    repo = make_toy_project(tmp_path / "toy", remote=tmp_path / "remote")
    for stage in stage_order(repo):
        run_stage(repo, stage)
    _git(repo, "add", "dvc.lock", "out")
    _git(repo, "commit", "-q", "-m", "run the pipeline")
    dvc_command(repo, ["push"])

    clone = _fresh_clone(repo, tmp_path / "clone")
    dvc_command(clone, ["pull"])
    _assert_restored(clone)
    assert dvc_json(clone, ["status", "--json"]) == {}  # workspace matches dvc.lock: nothing to reproduce
    assert [run_stage(clone, s, precheck=False).status for s in stage_order(clone)] == ["skipped"] * 3


def test_pipeline_flow_pushes_and_pulls(pipeline_flow: Any, tmp_path: Path, dvc_state: Path) -> None:
    """The flow's push/pull parameters (the nightly deployment's): a clone pulls and then skips every stage."""
    repo = make_toy_project(tmp_path / "toy", remote=tmp_path / "remote")
    pipeline_flow(repo=str(repo), push=True)
    _git(repo, "add", "dvc.lock", "out")
    _git(repo, "commit", "-q", "-m", "run the pipeline")

    clone = _fresh_clone(repo, tmp_path / "clone")
    result = pipeline_flow(repo=str(clone), pull=True)
    assert [s["status"] for s in result["stages"]] == ["skipped"] * 3
    _assert_restored(clone)


def _fresh_clone(repo: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(repo), str(dest)], check=True, capture_output=True)
    assert not (dest / "data").exists() and not (dest / "out" / "prep.txt").exists()
    return dest


def _assert_restored(clone: Path) -> None:
    assert (clone / "data" / "x.txt").read_text() == "frozen\n"
    assert (clone / "data" / "y.txt").read_text() == "people\n"
    assert (clone / "out" / "prep.txt").read_text() == "frozen\n" * 2
    assert json.loads((clone / "out" / "m-s2.json").read_text()) == {"score": 43, "size": 14}


def test_experiment_with_param_override_is_listed_with_its_metrics(toy_repo: Path) -> None:
    experiment_run(toy_repo, "scale5", set_params=["toy.scale=5"])
    shown = dvc_json(toy_repo, ["exp", "show", "--json"])
    entry = _find_named(shown, "scale5")
    assert entry is not None, shown
    metrics = entry["data"]["metrics"]
    # score = scale * len("frozen\n" * 2) (+1 for s2), with scale overridden to 5
    assert metrics["out/m-s1.json"]["data"] == {"score": 70, "size": 14}
    assert metrics["out/m-s2.json"]["data"] == {"score": 71, "size": 14}
    assert entry["data"]["params"]["params.yaml"]["data"]["toy"]["scale"] == 5


def test_pipeline_flow_as_experiment(pipeline_flow: Any, toy_repo: Path) -> None:
    result = pipeline_flow(repo=str(toy_repo), experiment_name="scale7-{date}", set_params=["toy.scale=7"])
    assert result["stages"] == []  # one `dvc exp run`, not one task per stage
    assert result["metrics"]["out/m-s1.json"] == {"score": 98, "size": 14}
    name = "scale7-" + datetime.now(UTC).strftime("%Y%m%d")
    entry = _find_named(dvc_json(toy_repo, ["exp", "show", "--json"]), name)
    assert entry is not None and entry["data"]["metrics"]["out/m-s1.json"]["data"]["score"] == 98

"""Every ``-S`` example of the docs' Experiments page (docs/experiments.md, once the README's section) runs against the
real dvc.yaml, and params values never reach a shell.

Each example's overrides are applied to a copy of the project by DVC's own ``-S`` code (what ``dvc exp run -S``
does), checked by ``mannequin check-params``, and the DAG DVC resolves from them must hold one stage per
pretraining objective, fine-tuning init and budget: a setting that changes nothing (``finetune.inits`` once did)
fails here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mannequin.config import load_params
from mannequin.orchestration.dvc_runner import dvc_env
from mannequin.stages.check_params import COMMAND_VALUES
from tests.helpers.toy_project import make_mannequin_project

REPO = Path(__file__).resolve().parents[2]
_INLINE = re.compile(r"`(dvc exp run [^`]*-S [^`]*)`")


def readme_examples(text: str) -> list[list[str]]:
    """The ``-S`` overrides of every ``dvc exp run`` example: fenced command lines and inline code alike."""
    commands, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            commands.append(line)
    commands += _INLINE.findall(text)
    examples = []
    for command in commands:
        if not command.strip().startswith("dvc exp run"):
            continue
        words = shlex.split(command, comments=True)
        if "-S" not in words and "--set-param" not in words:
            continue
        overrides = [words[i + 1] for i, w in enumerate(words) if w in ("-S", "--set-param")]
        if "..." not in overrides:  # `dvc exp run -S ...` in prose is a placeholder, not an example
            examples.append(overrides)
    return examples


EXAMPLES = readme_examples((REPO / "docs" / "experiments.md").read_text(encoding="utf-8"))


def test_the_readme_has_examples() -> None:
    """The parser finds the Experiments section's examples (so an empty list cannot pass the tests below)."""
    assert len(EXAMPLES) >= 4
    assert ["pretrain.objectives=[mvs+masked]", "finetune.inits=[mvs+masked]"] in EXAMPLES


def stage_commands(root: Path) -> dict[str, str]:
    """Stage name -> command as DVC resolves them (foreach and matrix expanded from params.yaml)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        return {stage.name: stage.cmd for stage in repo.index.stages}


def apply_like_dvc(root: Path, overrides: list[str]) -> dict[str, Any]:
    """Apply ``-S`` overrides to ``root/params.yaml`` with DVC's own code; the resulting params."""
    from dvc.utils.hydra import apply_overrides

    apply_overrides(root / "params.yaml", overrides)
    return yaml.safe_load((root / "params.yaml").read_text())


def mannequin_env(tmp_path: Path) -> dict[str, str]:
    """DVC's environment with a ``mannequin`` command on PATH that runs this interpreter and checkout."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    shim = bindir / "mannequin"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -c "from mannequin.cli import main; main()" "$@"\n')
    shim.chmod(0o755)
    env = dvc_env()
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


def check_params(path: Path) -> Any:
    from mannequin.cli import app

    return CliRunner().invoke(app, ["check-params", str(path)])


@pytest.mark.parametrize("overrides", EXAMPLES, ids=[" ".join(e) for e in EXAMPLES])
def test_readme_example_plans_what_it_says(overrides: list[str], tmp_path: Path, dvc_state: Path) -> None:
    root = make_mannequin_project(tmp_path / "project", REPO)
    raw = apply_like_dvc(root, overrides)
    result = check_params(root / "params.yaml")
    assert result.exit_code == 0, result.output
    params = load_params(root / "params.yaml")
    for override in overrides:  # each override took effect in the validated params
        key, _, _ = override.partition("=")
        node: Any = raw
        value: Any = params
        for part in key.split("."):
            node, value = node[part], getattr(value, part)
        assert (list(value) if isinstance(value, tuple) else value) == node, key

    commands = stage_commands(root)
    pre, fine = params.pretrain, params.finetune
    flags = "--params params.yaml --no-progress"
    for o in pre.objectives:
        assert commands[f"pretrain@{o}"] == f"mannequin pretrain --objective {o} {flags}"
    finetunes = {name: cmd for name, cmd in commands.items() if name.startswith("finetune@")}
    assert finetunes == {
        f"finetune@{i}-{b}": f"mannequin finetune --init {i} --budget {b} {flags}"
        for i in fine.inits
        for b in fine.budgets
    }
    assert sorted(n for n in commands if n.startswith("finetune-scratch@")) == sorted(
        f"finetune-scratch@{b}" for b in fine.budgets
    )
    assert len([n for n in commands if n.startswith("pretrain@")]) == len(pre.objectives)


def test_finetune_inits_choose_the_finetuning_stages(tmp_path: Path, dvc_state: Path) -> None:
    """Pretraining two objectives but fine-tuning one: the matrix follows finetune.inits, not pretrain.objectives."""
    root = make_mannequin_project(tmp_path / "project", REPO)
    apply_like_dvc(root, ["pretrain.objectives=[mvs,masked]", "finetune.inits=[masked]", "finetune.budgets=[4]"])
    assert check_params(root / "params.yaml").exit_code == 0
    commands = stage_commands(root)
    assert {n for n in commands if n.startswith(("pretrain@", "finetune@"))} == {
        "pretrain@mvs",
        "pretrain@masked",
        "finetune@masked-4",
    }


def test_an_init_nothing_pretrains_is_refused_in_one_line(tmp_path: Path) -> None:
    root = make_mannequin_project(tmp_path / "project", REPO)
    apply_like_dvc(root, ["finetune.inits=[mvs,contrastive]"])
    result = check_params(root / "params.yaml")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"mannequin: error: {root / 'params.yaml'}: finetune.inits: 'contrastive' is not pretrained: "
        "list it in pretrain.objectives (mvs, mvs-parallax); scratch always runs"
    )


def test_every_value_in_a_command_is_checked_first() -> None:
    """dvc.yaml's ``params`` stage checks exactly COMMAND_VALUES, and every stage using one depends on its stamp."""
    dag = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert tuple(dag["params"]["params"]) == COMMAND_VALUES
    stamp = dag["params"]["outs"][0]
    stamp = next(iter(stamp)) if isinstance(stamp, dict) else stamp
    for name, stage in dag.items():
        body = stage.get("do", stage)
        used = set(re.findall(r"\$\{([a-z_.]+)\}", yaml.safe_dump(stage)))
        params_used = {u for u in used if not u.startswith("item")}
        assert params_used <= set(COMMAND_VALUES), (name, params_used)
        if used and name != "params":
            assert stamp in body["deps"], name


def _attack_project(tmp_path: Path) -> Path:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["pretrain"]["objectives"] = ["mvs; touch pwned #"]
    params["finetune"]["inits"] = ["mvs; touch pwned #"]
    return make_mannequin_project(tmp_path / "project", REPO, params)


def test_params_values_never_reach_a_shell(tmp_path: Path, dvc_state: Path) -> None:
    """The attack of issue 12 item 3: a shell command in an objective name, a negative budget."""
    root = _attack_project(tmp_path)
    result = check_params(root / "params.yaml")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"mannequin: error: {root / 'params.yaml'}: pretrain.objectives.0: not an objective name "
        "(lower-case letters, digits, _), got 'mvs; touch pwned #' (and 1 more)"
    )
    # a real `dvc repro`: the params stage refuses the file, DVC stops before any command holding the value runs
    env = mannequin_env(tmp_path)
    run = subprocess.run(["dvc", "repro"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "pretrain.objectives.0: not an objective name" in run.stderr + run.stdout
    assert "Running stage 'pretrain@" not in run.stdout
    assert not (root / "pwned").exists()
    budget = yaml.safe_load((REPO / "params.yaml").read_text())
    budget["finetune"]["budgets"] = [-3]
    (root / "params.yaml").write_text(yaml.safe_dump(budget))
    result = check_params(root / "params.yaml")
    assert result.exit_code == 2 and "finetune.budgets.0: Input should be greater than 0, got -3" in result.output


def test_a_targeted_stage_with_curation_done_never_reaches_a_shell(tmp_path: Path, dvc_state: Path) -> None:
    """Curation finished and cached, the injected stage asked for by name: the params stage still runs first."""
    root = _attack_project(tmp_path)
    (root / "curated" / "shards").mkdir()
    (root / "curated" / "poses").mkdir()  # the curate stage's estimated poses (empty: every clip has poses.txt)
    for name in ("clips.csv", "summary.json"):
        (root / "curated" / name).write_text("{}\n" if name.endswith("json") else "clip_id\n")
    (root / "runs").mkdir()
    (root / "runs" / "data-digest.json").write_text("{}\n")  # the data digest, as `mannequin data-digest` left it
    env = mannequin_env(tmp_path)
    commit = subprocess.run(
        ["dvc", "commit", "-f", "-q", "data-digest", "curate"], cwd=root, env=env, capture_output=True, text=True
    )
    assert commit.returncode == 0, commit.stderr
    run = subprocess.run(
        ["dvc", "repro", "pretrain@mvs; touch pwned #"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert "Running stage 'params'" in run.stdout and "Running stage 'curate'" not in run.stdout
    assert "Running stage 'data-digest'" not in run.stdout
    assert run.returncode != 0 and "Running stage 'pretrain@" not in run.stdout
    assert not (root / "pwned").exists()

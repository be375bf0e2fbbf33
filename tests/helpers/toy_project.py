"""A tiny git + DVC project (2-3 stages of one-line Python) for the orchestration tests, and a copy of the real
mannequin DAG (dvc.yaml, params.yaml) for dry runs of the README's experiments."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from mannequin.orchestration.dvc_runner import dvc_command, dvc_env

STEP_SCRIPT = '''"""Toy stages: prep copies data, train writes a metric, flaky fails on purpose."""
import json, pathlib, sys, yaml
what = sys.argv[1]
out = pathlib.Path("out")
out.mkdir(exist_ok=True)
params = yaml.safe_load(open("params.yaml"))["toy"]
if what == "prep":
    (out / "prep.txt").write_text(pathlib.Path("data/x.txt").read_text() * params["repeat"])
    print("prep: wrote out/prep.txt")
elif what == "flaky":
    counter = pathlib.Path(".dvc/tmp/flaky-count")
    fails_file = pathlib.Path(".dvc/tmp/flaky-fails")
    fails = int(fails_file.read_text()) if fails_file.exists() else 0
    count = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(count + 1))
    if fails < 0 or count < fails:
        print(f"flaky: failing on purpose (attempt {count + 1})")
        sys.exit(3)
    (out / "flaky.txt").write_text("ok after %d failures\\n" % count)
else:
    size = len(pathlib.Path("out/prep.txt").read_text())
    score = params["scale"] * size + (1 if what == "s2" else 0)
    (out / f"m-{what}.json").write_text(json.dumps({"score": score, "size": size}))
    print(f"train {what}: score {score}")
'''


def toy_dvc_yaml(flaky: bool = False) -> dict[str, Any]:
    """prep -> [flaky ->] train@s1, train@s2 (a foreach stage)."""
    stages: dict[str, Any] = {
        "prep": {
            "cmd": "python toy_step.py prep",
            "deps": ["data", "toy_step.py"],
            "params": ["toy.repeat"],
            "outs": ["out/prep.txt"],
        },
        "train": {
            "foreach": ["s1", "s2"],
            "do": {
                "cmd": "python toy_step.py ${item}",
                "deps": ["out/prep.txt", "toy_step.py"],
                "params": ["toy.scale"],
                "metrics": [{"out/m-${item}.json": {"cache": False}}],
            },
        },
    }
    if flaky:
        stages["flaky"] = {"cmd": "python toy_step.py flaky", "deps": ["out/prep.txt"], "outs": ["out/flaky.txt"]}
        stages["train"]["do"]["deps"].append("out/flaky.txt")
    return {"stages": stages}


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=dvc_env(), check=True, capture_output=True)


def make_toy_project(
    root: str | Path,
    *,
    flaky: bool = False,
    retries: int = 1,
    retry_delay_s: float = 0.0,
    remote: str | Path | None = None,
) -> Path:
    """Create and commit a toy project in ``root`` (git + dvc init, data tracked by ``data.dvc``).

    Nothing is reproduced yet. With ``remote``, a local-directory default DVC remote is configured.
    """
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "toy@example.invalid")
    _git(root, "config", "user.name", "toy")
    _git(root, "config", "commit.gpgsign", "false")
    dvc_command(root, ["init", "-q"])
    # what `dvc config core.analytics false` etc. would write, without three more DVC start-ups
    config = "[core]\n    analytics = false\n    check_update = false\n"
    if remote is not None:
        Path(remote).mkdir(parents=True, exist_ok=True)
        config = config.replace("[core]\n", "[core]\n    remote = local\n")
        config += f"['remote \"local\"']\n    url = {Path(remote).resolve()}\n"
    (root / ".dvc" / "config").write_text(config)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "x.txt").write_text("frozen\n")
    (root / "data" / "y.txt").write_text("people\n")
    (root / "toy_step.py").write_text(STEP_SCRIPT)
    params = {"toy": {"repeat": 2, "scale": 3}, "pipeline": {"retries": retries, "retry_delay_s": retry_delay_s}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "dvc.yaml").write_text(yaml.safe_dump(toy_dvc_yaml(flaky), sort_keys=False))
    (root / ".gitignore").write_text("/out/prep.txt\n/out/flaky.txt\n")
    dvc_command(root, ["add", "-q", "data"])
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "toy project")
    return root


#: what the real dvc.yaml's stages depend on besides their code (its code deps are read from it), created empty so
#: that DVC can plan (``--dry``) without real data
_MANNEQUIN_STUBS = ("data", "curated")


def _dep_paths(dvc_yaml: dict[str, Any]) -> set[str]:
    """Every dep of a dvc.yaml that names a file or folder of the checkout (not one of another stage's outputs)."""
    paths = set()
    for stage in dvc_yaml["stages"].values():
        for dep in stage.get("do", stage).get("deps", []):
            if str(dep).startswith(("src/", "flows/")):
                paths.add(str(dep))
    return paths


def make_mannequin_project(root: str | Path, source: str | Path, params: dict[str, Any] | None = None) -> Path:
    """A git + DVC project holding ``source``'s real ``dvc.yaml`` and ``params.yaml`` (or ``params``), with empty
    stand-ins for the stages' dependencies: enough for ``dvc repro --dry`` and ``dvc exp run --dry`` to plan the DAG.
    """
    root, source = Path(root).resolve(), Path(source)
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "toy@example.invalid")
    _git(root, "config", "user.name", "toy")
    _git(root, "config", "commit.gpgsign", "false")
    dvc_command(root, ["init", "-q"])
    (root / ".dvc" / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
    (root / "dvc.yaml").write_text((source / "dvc.yaml").read_text())
    text = (source / "params.yaml").read_text() if params is None else yaml.safe_dump(params, sort_keys=False)
    (root / "params.yaml").write_text(text)
    code = _dep_paths(yaml.safe_load((source / "dvc.yaml").read_text()))
    for stub in (*_MANNEQUIN_STUBS, *sorted(p for p in code if not p.endswith(".py"))):
        (root / stub).mkdir(parents=True, exist_ok=True)
        (root / stub / ".keep").write_text("")
    for stub in ("data/splits.csv", *sorted(p for p in code if p.endswith(".py"))):
        (root / stub).parent.mkdir(parents=True, exist_ok=True)
        (root / stub).write_text("")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "mannequin DAG")
    return root

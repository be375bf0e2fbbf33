"""The data digest: only one stage of dvc.yaml walks data/, the others depend on its small output (issue 16).

Real ``dvc repro`` in a temporary git + DVC project holding the project's own ``data-digest`` stage and a
consumer stage, with the real ``mannequin data-digest`` command and the project's ``.dvcignore``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mannequin.errors import InputError
from mannequin.orchestration.data_digest import data_digest
from mannequin.orchestration.dvc_runner import dvc_command, dvc_env

REPO = Path(__file__).resolve().parents[2]
DIGEST = "runs/data-digest.json"
MANNEQUIN = str(Path(sys.executable).parent / "mannequin")


def _stages() -> dict:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def _deps(stage: dict) -> list[str]:
    return list(stage.get("do", stage).get("deps", []))


def test_only_the_digest_stage_depends_on_the_data_folder() -> None:
    stages = _stages()
    walking = sorted(name for name, stage in stages.items() if "data" in _deps(stage))
    assert walking == ["data-digest"]
    assert stages["data-digest"]["outs"] == [{DIGEST: {"cache": False}}]
    # every stage that read data/ before reads the digest now; none lists a folder inside data/
    readers = sorted(name for name, stage in stages.items() if DIGEST in _deps(stage))
    assert {"curate", "curate-all", "finetune", "finetune-scratch", "evaluate", "report"} <= set(readers)
    for name, stage in stages.items():
        inside = [d for d in _deps(stage) if d.startswith("data/")]
        assert all(Path(REPO, d).suffix for d in inside), f"{name} lists a folder of data/: {inside}"


def test_digest_follows_names_and_bytes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "clips" / "a").mkdir(parents=True)
    (data / "clips" / "a" / "poses.txt").write_text("note\n1 2 3\n")
    (data / "splits.csv").write_text("clip_id,split\na,unlabeled\n")
    first = data_digest(data)
    assert first["files"] == 2 and len(str(first["sha256"])) == 64
    assert data_digest(data) == first
    (data / "clips" / "a" / "poses.txt").write_text("note\n1 2 4\n")  # same size, one byte changed
    changed = data_digest(data)
    assert changed["sha256"] != first["sha256"]
    (data / "clips" / "a" / "poses.txt").rename(data / "clips" / "a" / "poses.tx_")
    assert data_digest(data)["sha256"] != changed["sha256"]
    with pytest.raises(InputError, match="data folder not found"):
        data_digest(tmp_path / "nowhere")


def test_cli_missing_data_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = subprocess.run(
        [MANNEQUIN, "data-digest", str(tmp_path / "nowhere"), "--out", str(tmp_path / "d.json")],
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith(f"mannequin: error: {tmp_path / 'nowhere'}: data folder not found; get the sample data")
    assert not (tmp_path / "d.json").exists()


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=dvc_env(), check=True, capture_output=True)


@pytest.fixture
def digest_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's data-digest stage, a stage reading the digest and one depending on a code folder."""
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(tmp_path / "dvc-site-cache"))
    root = tmp_path / "repo"
    (root / "data" / "clips" / "a").mkdir(parents=True)
    (root / "data" / "clips" / "a" / "poses.txt").write_text("note\n")
    (root / "data" / "splits.csv").write_text("clip_id,split\na,unlabeled\n")
    (root / "code").mkdir()
    (root / "code" / "step.py").write_text("print('step')\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "t@example.invalid")
    _git(root, "config", "user.name", "t")
    dvc_command(root, ["init", "-q"])
    (root / ".dvc" / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
    (root / ".dvcignore").write_text((REPO / ".dvcignore").read_text())
    digest = dict(_stages()["data-digest"])
    digest["cmd"] = digest["cmd"].replace("mannequin ", f"{MANNEQUIN} ", 1)
    digest["deps"] = [d for d in digest["deps"] if not d.startswith("src/")]  # its code is not in this repository
    copy = f"{sys.executable} -c \"import shutil; shutil.copy('{DIGEST}', 'used.json')\""
    stages = {
        "data-digest": digest,
        "use": {"cmd": copy, "deps": [DIGEST], "outs": ["used.json"]},
        "code": {"cmd": f"{sys.executable} code/step.py > code.txt", "deps": ["code"], "outs": ["code.txt"]},
    }
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    dvc_command(root, ["add", "-q", "data"])
    return root


def _ran(root: Path) -> list[str]:
    out = dvc_command(root, ["repro"])
    return sorted(line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage"))


def test_a_change_in_data_reaches_the_stages_through_the_digest(digest_repo: Path) -> None:
    root = digest_repo
    assert _ran(root) == ["code", "data-digest", "use"]
    assert json.loads((root / "used.json").read_text())["files"] == 2
    assert _ran(root) == []  # a no-op
    (root / "data" / "clips" / "a" / "poses.txt").write_text("other\n")
    assert _ran(root) == ["data-digest", "use"]
    os.utime(root / "data" / "splits.csv", (1, 1))  # touched, same bytes: DVC hashes content, nothing reruns
    assert _ran(root) == []
    (root / "data" / "clips" / "b").mkdir()
    (root / "data" / "clips" / "b" / "poses.txt").write_text("note\n")
    assert _ran(root) == ["data-digest", "use"]
    assert json.loads((root / "used.json").read_text())["files"] == 3


def test_python_caches_in_a_code_folder_change_no_stage(digest_repo: Path) -> None:
    """.dvcignore: bytecode and numba's cache written beside the code (curation/__pycache__) are not code."""
    root = digest_repo
    _ran(root)
    cache = root / "code" / "__pycache__"
    cache.mkdir()
    (cache / "step.cpython-311.pyc").write_bytes(b"\0pyc")
    (cache / "mvs_numba._aggregate-234.py311.1.nbc").write_bytes(b"\0nbc")
    (cache / "mvs_numba._aggregate-234.py311.nbi").write_bytes(b"\0nbi")
    assert _ran(root) == []
    (root / "code" / "step.py").write_text("print('changed')\n")
    assert _ran(root) == ["code"]

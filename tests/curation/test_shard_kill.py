"""Issue 12, item 4: a curation killed (SIGKILL) in the middle of a shard write leaves nothing in ``shards/``.

The killed process is real: a subprocess whose ``numpy.save`` sleeps after writing ``images.npy`` (so the kill lands
mid-shard, with half the files written) is sent SIGKILL once it reports where it is writing. The DVC test then shows
that the DVC output ``curated/shards`` is untouched, the next run removes the leftover, and ``dvc.lock`` is the one
of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from mannequin.clips.cameras import Camera
from mannequin.curation.shards import SHARDS_DIR, TMP_DIR, list_shards, remove_stale_shards, write_shard
from mannequin.orchestration.dvc_runner import dvc_env
from tests.helpers.curation import FRAMES, WIDTH

# Run in the killed subprocess: numpy.save sleeps after images.npy, once it has said where it writes.
SLOW_SAVE = """
import pathlib, sys, time
import numpy as np
marker = pathlib.Path(sys.argv[1])
real_save = np.save
def save_then_hang(file, arr, *args, **kwargs):
    real_save(file, arr, *args, **kwargs)
    if pathlib.Path(file).name == "images.npy":
        marker.write_text(str(pathlib.Path(file).resolve().parent))
        time.sleep(600)
np.save = save_then_hang
"""

WRITE_ONE_SHARD = """
import numpy as np
from mannequin.clips.cameras import Camera
from mannequin.curation.shards import write_shard
K = np.array([[10.0, 0, 4], [0, 10, 3], [0, 0, 1]])
n, h, w = 3, 6, 8
write_shard(sys.argv[2], "clip_0002", np.zeros((n, h, w, 3), np.uint8), np.ones((n, h, w), np.float32),
            np.ones((n, h, w), np.float32), [Camera(K, np.eye(3), [i, 0, 0], w, h) for i in range(n)], [0, 1, 2])
"""

RUN_CLI = """
from mannequin.cli import main
sys.argv = ["mannequin", *sys.argv[2:]]
main()
"""


def run_until_killed(script: str, marker: Path, *args: str, cwd: Path | None = None, timeout_s: float = 180) -> Path:
    """Start ``script`` in a real process, SIGKILL it when it is half-way through a shard; the folder it wrote in."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SAVE + script, str(marker), *args], cwd=cwd,
                            env=dvc_env(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + timeout_s
    try:
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"exited {proc.returncode} before writing a shard: {proc.stderr.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("no shard write started in time")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    partial = Path(marker.read_text())
    assert (partial / "images.npy").is_file() and not (partial / "meta.json").exists()  # killed mid-shard
    return partial


def hidden_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_killed_shard_write_leaves_nothing_in_shards(tmp_path: Path) -> None:
    root = tmp_path / "curated"
    K = np.array([[10.0, 0, 4], [0, 10, 3], [0, 0, 1]])
    cams = [Camera(K, np.eye(3), [i, 0, 0], 8, 6) for i in range(3)]
    images = np.full((3, 6, 8, 3), 7, np.uint8)
    write_shard(root, "clip_0001", images, np.ones((3, 6, 8), np.float32), np.ones((3, 6, 8), np.float32), cams,
                [0, 1, 2])  # fmt: skip
    before = {p.relative_to(root): p.read_bytes() for p in (root / SHARDS_DIR).rglob("*") if p.is_file()}

    partial = run_until_killed(WRITE_ONE_SHARD, tmp_path / "marker", str(root))
    assert partial.parent == root / TMP_DIR  # the half-written folder is beside shards/, not in it
    assert hidden_entries(root / SHARDS_DIR) == []
    assert {p.relative_to(root): p.read_bytes() for p in (root / SHARDS_DIR).rglob("*") if p.is_file()} == before
    assert [s.clip_id for s in list_shards(root)] == ["clip_0001"]

    # the next run's clean-up also removes what an older version left inside shards/
    legacy = root / SHARDS_DIR / ".clip_0003.k2j4h1"
    legacy.mkdir()
    (legacy / "images.npy").write_bytes(b"half")
    assert remove_stale_shards(root, keep={"clip_0001"}) == []
    assert not (root / TMP_DIR).exists() and hidden_entries(root / SHARDS_DIR) == []
    assert [s.clip_id for s in list_shards(root)] == ["clip_0001"]


# --------------------------------------------------------------------------- a real DVC stage


def sh(repo: Path, *args: str) -> str:
    res = subprocess.run(args, cwd=repo, env=dvc_env(repo), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{args}: {res.stdout[-2000:]} {res.stderr[-2000:]}"
    return res.stdout


def make_repo(repo: Path, data: Path) -> None:
    mannequin = f"{sys.executable} -c 'from mannequin.cli import main; main()'"  # the console script, wherever
    repo.mkdir()
    shutil.copytree(data, repo / "data")
    curate = {"max_width": WIDTH, "max_frames": FRAMES, "device": "cpu", "workers": 1,
              "quality": {"min_coverage": 0.1, "max_disagreement_fraction": 1.0}}  # fmt: skip
    (repo / "params.yaml").write_text(yaml.safe_dump({"curate": curate}))
    stage = {
        "cmd": f"{mannequin} curate --data data --out curated --params params.yaml --runner serial --no-progress",
        "deps": ["data"],
        "params": ["curate"],
        "outs": [{"curated/shards": {"persist": True}}, "curated/clips.csv"],
        "metrics": [{"curated/summary.json": {"cache": False}}],
    }
    (repo / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"curate": stage}}, sort_keys=False))
    sh(repo, "dvc", "init", "--no-scm", "-q")
    sh(repo, "dvc", "config", "core.analytics", "false")


@pytest.mark.slow
def test_dvc_stays_clean_after_curate_is_killed_mid_shard(clean_data: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, clean_data)
    sh(repo, "dvc", "repro", "-q")
    lock = (repo / "dvc.lock").read_text()
    shards = repo / "curated" / SHARDS_DIR
    accepted = sorted(p.name for p in shards.iterdir())
    assert accepted and hidden_entries(shards) == []

    args = ("curate", "--data", "data", "--out", "curated", "--params", "params.yaml", "--runner", "serial",
            "--no-progress")  # fmt: skip
    partial = run_until_killed(RUN_CLI, tmp_path / "marker", *args, cwd=repo)
    assert partial.parent == repo / "curated" / TMP_DIR
    assert hidden_entries(shards) == [] and sorted(p.name for p in shards.iterdir()) == accepted
    assert json.loads(sh(repo, "dvc", "status", "--json")) == {}  # the DVC output did not change

    sh(repo, "dvc", "repro", "-q", "--force")  # the next run
    assert not (repo / "curated" / TMP_DIR).exists() and hidden_entries(shards) == []
    assert json.loads(sh(repo, "dvc", "status", "--json")) == {}
    assert (repo / "dvc.lock").read_text() == lock  # byte-identical to the uninterrupted run's

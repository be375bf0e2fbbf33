"""Issue 12, item 7: Prefect's temporary server does not outlive a ``mannequin curate`` killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from mannequin.orchestration.local_server import stop_with_this_process


def _wait(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _children(pid: int, needle: str) -> list[psutil.Process]:
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for kid in kids:
        try:
            if needle in " ".join(kid.cmdline()):
                found.append(kid)
        except psutil.Error:
            pass
    return found


def write_data(data: Path, clips: int = 3) -> Path:
    """Rendered clean clips (160x120, 10 frames): a few seconds of curation each."""
    from mannequin.sample.dataset import render_clip, write_clip
    from mannequin.sample.plan import ClipPlan

    for i in range(clips):
        plan = ClipPlan(clip_id=f"room_{i}", split="unlabeled", defect="none", form="video", trajectory="sweep",
                        seed=i, n_frames=10, fps=10, width=160, height=120, hfov_deg=60.0, pose_scale=1.0)  # fmt: skip
        write_clip(render_clip(plan), data)
    (data / "splits.csv").write_text("clip_id,split\n" + "".join(f"room_{i},unlabeled\n" for i in range(clips)))
    return data


def _healthy(server: psutil.Process) -> bool:
    args = server.cmdline()
    url = f"http://127.0.0.1:{args[args.index('--port') + 1]}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


@pytest.mark.slow  # about 20-60 s: Prefect's server starts on 2 busy cores
def test_killing_curate_stops_its_temporary_prefect_server(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / ".prefect")
    (tmp_path / "params.yaml").write_text("{}\n")  # the defaults (a missing --params file is an error)
    curate = subprocess.Popen(
        [sys.executable, "-c", "from mannequin.cli import main; main()", "curate", "--data", str(data),
         "--out", str(tmp_path / "curated"), "--params", str(tmp_path / "params.yaml"), "--no-progress"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    servers: list[psutil.Process] = []
    try:
        assert _wait(lambda: bool(_children(curate.pid, "uvicorn")), 180), "no temporary server started"
        servers = _children(curate.pid, "uvicorn")
        assert _wait(lambda: _healthy(servers[0]), 180), "the temporary server never answered"
        _wait(lambda: bool(_children(curate.pid, "--guard")), 5)  # the guard starts once the server answers
        assert curate.poll() is None, "curate ended before it could be killed"
        os.kill(curate.pid, signal.SIGKILL)
        curate.wait(timeout=30)
        start = time.monotonic()
        assert _wait(lambda: all(_gone(s) for s in servers), 15), "the temporary server outlived curate"
        print(f"server gone {time.monotonic() - start:.1f} s after the SIGKILL")
    finally:
        if curate.poll() is None:
            curate.kill()
            curate.wait()
        for server in servers:  # never leave one behind, whatever the outcome
            if not _gone(server):
                server.kill()


def test_a_guard_stops_its_process_when_the_parent_is_killed(tmp_path: Path) -> None:
    """The mechanism alone: a parent ties a sleeping child to itself, is SIGKILLed, and the child goes."""
    script = (
        "import subprocess, sys, time\n"
        "from mannequin.orchestration.local_server import stop_with_this_process\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "stop_with_this_process(child.pid)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    try:
        assert _wait(lambda: bool(_children(parent.pid, "--guard")), 30)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        assert _wait(lambda: _gone(child), 15)
    finally:
        parent.stdout.close()
        if not _gone(child):
            child.kill()


def test_a_released_guard_leaves_its_process_alone(tmp_path: Path) -> None:
    from mannequin.orchestration.local_server import _release

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        guard = stop_with_this_process(child.pid)
        _release(guard)
        assert guard.returncode == 0
        time.sleep(0.5)
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()

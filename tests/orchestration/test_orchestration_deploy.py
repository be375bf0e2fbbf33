"""prefect.yaml and its nightly deployment, served against a real Prefect server on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = "mannequin-pipeline/nightly"


def test_prefect_yaml_is_what_prefect_deploy_accepts() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel

    raw = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    model = PrefectYamlModel.model_validate(raw)
    (nightly,) = [d for d in model.deployments if d.name == "nightly"]
    assert nightly.entrypoint == "flows/pipeline.py:pipeline"
    assert nightly.schedules[0].cron == "0 2 * * *" and nightly.schedules[0].timezone == "UTC"
    assert {"pull", "push", "experiment_name", "repo"} <= set(nightly.parameters)
    assert nightly.concurrency_limit == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process group this test started: SIGTERM, then SIGKILL after 20 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        DO_NOT_TRACK="1",
        **extra,
    )
    return env


@pytest.fixture
def prefect_api(tmp_path: Path) -> Iterator[str]:
    """`prefect server start --host 127.0.0.1 --port <free>` as a subprocess; yields its API URL."""
    port = _free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:  # noqa: S310 (loopback)
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "Prefect server did not start in 180 s"
            time.sleep(1)
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.mark.slow
def test_served_nightly_deployment_runs_the_pipeline(prefect_api: str, toy_repo: Path, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    serve_log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    serve = subprocess.Popen(
        [sys.executable, str(ROOT / "flows" / "deploy.py"), "serve"],
        cwd=ROOT,
        env=_env(tmp_path, PREFECT_API_URL=prefect_api, PREFECT_RUNNER_POLL_FREQUENCY="1"),
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
            deadline = time.monotonic() + 120
            with get_client(sync_client=True) as client:
                while True:
                    assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
                    try:
                        deployment = client.read_deployment_by_name(DEPLOYMENT)
                        break
                    except Exception:
                        assert time.monotonic() < deadline, "deployment not registered in 120 s"
                        time.sleep(1)
            (schedule,) = deployment.schedules
            assert schedule.schedule.cron == "0 2 * * *" and schedule.schedule.timezone == "UTC"
            assert deployment.parameters["pull"] is False and deployment.parameters["push"] is False

            start = time.perf_counter()
            run = run_deployment(DEPLOYMENT, parameters={"repo": str(toy_repo)}, timeout=240, poll_interval=1)
            seconds = time.perf_counter() - start
        assert run.state is not None and run.state.is_completed(), (tmp_path / "serve.log").read_text()[-3000:]
        assert (toy_repo / "out" / "prep.txt").read_text() == "frozen\n" * 2
        assert (toy_repo / "out" / "m-s2.json").exists()
        print(f"\ndeployment run (trigger to completed, 3 stages): {seconds:.1f} s")
    finally:
        _stop(serve)
        serve_log.close()

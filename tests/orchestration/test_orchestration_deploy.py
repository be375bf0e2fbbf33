"""prefect.yaml and its nightly deployment, served against a real Prefect server on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mannequin.orchestration.local_server import free_port, port_in_use, stop_process_group, wait_healthy

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


def test_experiment_name_template_expands_to_the_utc_start() -> None:
    from datetime import UTC, datetime

    from mannequin.cli.pipeline_commands import load_pipeline_flow

    flow = load_pipeline_flow()
    expand_name = sys.modules[flow.fn.__module__].expand_name
    assert expand_name("nightly-{date}-{time}", datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)) == "nightly-20270102-030405"
    assert expand_name("plain") == "plain"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        DO_NOT_TRACK="1",
        **extra,
    )
    return env


@pytest.mark.slow
def test_make_serve_path_runs_the_nightly_deployment(toy_repo: Path, tmp_path: Path) -> None:
    """`flows/deploy.py serve` (what `make serve` runs): starts a loopback server, registers and serves."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    serve_log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    serve = subprocess.Popen(
        [sys.executable, str(ROOT / "flows" / "deploy.py"), "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(tmp_path, PREFECT_RUNNER_POLL_FREQUENCY="1"),
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def log_tail() -> str:
        server_log = tmp_path / "prefect-home" / "server.log"
        logs = [(tmp_path / "serve.log").read_text()[-3000:]]
        if server_log.exists():
            logs.append(server_log.read_text()[-2000:])
        return "\n".join(logs)

    try:
        wait_healthy(api_url, 180, serve)
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            deadline = time.monotonic() + 120
            with get_client(sync_client=True) as client:
                while True:
                    assert serve.poll() is None, log_tail()
                    try:
                        deployment = client.read_deployment_by_name(DEPLOYMENT)
                        break
                    except Exception:
                        assert time.monotonic() < deadline, "deployment not registered in 120 s\n" + log_tail()
                        time.sleep(1)
            (schedule,) = deployment.schedules
            assert schedule.schedule.cron == "0 2 * * *" and schedule.schedule.timezone == "UTC"
            assert deployment.parameters["pull"] is False and deployment.parameters["push"] is False

            start = time.perf_counter()
            run = run_deployment(DEPLOYMENT, parameters={"repo": str(toy_repo)}, timeout=240, poll_interval=1)
            seconds = time.perf_counter() - start
        assert run.state is not None and run.state.is_completed(), log_tail()
        assert (toy_repo / "out" / "prep.txt").read_text() == "frozen\n" * 2
        assert (toy_repo / "out" / "m-s2.json").exists()
        print(f"\ndeployment run (trigger to completed, 3 stages): {seconds:.1f} s")
    finally:
        stop_process_group(serve)
        serve_log.close()
    # stopping `serve` stopped the server it started
    deadline = time.monotonic() + 30
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not port_in_use(port), "the Prefect server outlived flows/deploy.py serve"


@pytest.mark.slow
def test_work_pool_path_prefect_deploy_and_worker(toy_repo: Path, tmp_path: Path) -> None:
    """The README's alternative: `prefect deploy --all` from prefect.yaml + `prefect worker start --pool`."""
    from mannequin.orchestration.local_server import local_prefect_server

    prefect = str(Path(sys.executable).parent / "prefect")
    env = _env(tmp_path, PREFECT_WORKER_QUERY_SECONDS="1")
    with local_prefect_server(free_port(), tmp_path / "server.log", env=env) as api_url:
        env["PREFECT_API_URL"] = api_url

        def prefect_cli(*args: str, timeout: float = 180) -> str:
            out = subprocess.run(
                [prefect, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
            return out.stdout

        prefect_cli("work-pool", "create", "mannequin-process", "--type", "process")
        before = (ROOT / "prefect.yaml").read_text()
        prefect_cli("--no-prompt", "deploy", "--all")
        assert (ROOT / "prefect.yaml").read_text() == before  # `prefect deploy` left prefect.yaml alone
        worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [prefect, "worker", "start", "--pool", "mannequin-process"],
            cwd=tmp_path,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out = prefect_cli("deployment", "run", DEPLOYMENT, "-p", f"repo={toy_repo}", "--watch", timeout=300)
            assert "Completed" in out, out[-2000:] + (tmp_path / "worker.log").read_text()[-2000:]
        finally:
            stop_process_group(worker, grace_s=10)
            worker_log.close()
    assert (toy_repo / "out" / "m-s1.json").exists()

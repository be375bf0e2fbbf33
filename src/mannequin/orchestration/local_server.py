"""A Prefect API server on loopback as a child process (``prefect server start --host 127.0.0.1``).

Used by ``make serve`` (flows/deploy.py) when no ``PREFECT_API_URL`` is set, and by the tests. Only
the ``prefect`` command is run; nothing here imports Prefect.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_healthy(api_url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``<api_url>/health`` until it answers 200; RuntimeError on timeout or if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Prefect server exited with code {proc.returncode} before answering {api_url}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as reply:  # noqa: S310 (loopback URL)
                if reply.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"Prefect server at {api_url} did not answer within {timeout_s:.0f} s")
        time.sleep(0.5)


def stop_process_group(proc: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
    """SIGTERM the process group we started (``start_new_session``), SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def local_prefect_server(
    port: int,
    log_path: str | Path,
    *,
    timeout_s: float = 180.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Start ``prefect server start --host 127.0.0.1 --port PORT``; yield its API URL; stop it on exit."""
    if port_in_use(port):
        raise RuntimeError(f"port {port} on 127.0.0.1 is in use (another Prefect server? set PREFECT_API_URL)")
    prefect = str(Path(sys.executable).parent / "prefect")
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            api_url = f"http://127.0.0.1:{port}/api"
            wait_healthy(api_url, timeout_s, proc)
            yield api_url
        finally:
            stop_process_group(proc)

"""Issue 26, item 11: Prefect's temporary server that cannot write its state database (a full disk) is one line,
exit 2, on the default (Prefect) curate runner; the server's own tracebacks go to its log, not the terminal."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from mannequin.errors import OutOfSpace
from mannequin.orchestration.local_server import SERVER_LOG, server_start_error


def test_a_server_log_that_says_disk_full_is_out_of_space(tmp_path: Path) -> None:
    log = tmp_path / SERVER_LOG
    log.write_text("...\nsqlite3.OperationalError: database or disk is full\nApplication startup failed. Exiting.\n")
    error = server_start_error(log, RuntimeError("Timed out while attempting to connect"))
    assert isinstance(error, OutOfSpace) and str(error) == f"{tmp_path}: no space left on device"


def test_any_other_start_failure_names_the_log(tmp_path: Path) -> None:
    log = tmp_path / SERVER_LOG
    log.write_text("ImportError: something else\n")
    error = server_start_error(log, RuntimeError("Timed out while attempting to connect"))
    assert not isinstance(error, OutOfSpace)
    assert str(error).startswith(f"{log}: Prefect's temporary server did not start (Timed out")
    assert "--runner serial" in str(error)


def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))  # Python ignores SIGXFSZ


@pytest.mark.slow  # Prefect's temporary server, waited for up to its start-up timeout
def test_a_full_disk_under_the_prefect_state_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data" / "clips").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="45")
    proc = subprocess.run(
        [sys.executable, "-c", "from mannequin.cli import main; main()", "curate", "--data", "data", "--out", "cur"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, preexec_fn=_small_files,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == f"mannequin: error: {tmp_path / 'prefect'}: no space left on device\n"
    assert not (tmp_path / "cur").exists()
    log = (tmp_path / "prefect" / SERVER_LOG).read_text()  # the server's traceback, kept out of the terminal
    assert "disk I/O error" in log or "database or disk is full" in log

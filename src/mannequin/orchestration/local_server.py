"""Prefect API servers on loopback as child processes, stopped when the process that needs them dies.

- :func:`local_prefect_server`: ``prefect server start --host 127.0.0.1``, used by ``make serve`` (flows/deploy.py)
  when no ``PREFECT_API_URL`` is set, and by the tests.
- :func:`guard_prefect_ephemeral_server`: Prefect's own temporary server (what ``mannequin curate`` runs against
  without ``PREFECT_API_URL``), started up front so that it can be guarded.

Both are tied to this process by :func:`stop_with_this_process`: a small guard process (this module run with
``--guard``) stops the server when this process ends without releasing it, even by SIGKILL. Only
:func:`guard_prefect_ephemeral_server` imports Prefect.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from mannequin.errors import InputError, OutOfSpace


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


_GUARDS: list[subprocess.Popen[bytes]] = []  # held open: their stdin closing is how a guard learns we died
_RELEASE = b"release\n"
GUARD_POLL_S = 0.25


def stop_with_this_process(pid: int, *, group: bool = False) -> subprocess.Popen[bytes]:
    """Start a guard that stops ``pid`` (its whole process group with ``group``) if this process dies first.

    The guard watches a pipe from this process and its own parent id: either one ending without a ``release``
    (written at a normal exit, after which the server's owner stops it as usual) means this process was killed.
    """
    guard = subprocess.Popen(
        [sys.executable, "-m", "mannequin.orchestration.local_server", "--guard", str(os.getpid()), str(pid),
         "group" if group else "pid"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C for this process's group must not reach the guard
    )  # fmt: skip
    if not _GUARDS:
        atexit.register(_release_guards)
    _GUARDS.append(guard)
    return guard


def _release_guards() -> None:
    for guard in list(_GUARDS):
        _release(guard)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _terminate(pid: int, group: bool, grace_s: float = 10.0) -> None:
    kill = os.killpg if group else os.kill
    try:
        kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        with suppress(OSError):
            kill(pid, signal.SIGKILL)


def _guard(parent: int, pid: int, group: bool) -> int:
    """The guard's loop: stop ``pid`` once ``parent`` is gone, unless it said ``release`` first."""
    while os.getppid() == parent:
        ready, _, _ = select.select([sys.stdin.buffer], [], [], GUARD_POLL_S)
        if ready:
            line = sys.stdin.buffer.readline()
            if line == _RELEASE:
                return 0
            if not line:
                break  # the pipe closed without a release: the parent died
    _terminate(pid, group)
    return 0


def guard_prefect_ephemeral_server() -> str | None:
    """Without an API URL, start Prefect's temporary server now and stop it if this process is killed.

    Prefect starts the same server (a per-process singleton) on first use and stops it at a normal exit, but a
    killed process leaves it running. Returns its API URL, or None when Prefect uses a configured server.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None
    server = SubprocessASGIServer()
    already = server.running
    log_path = Path(settings.home).expanduser() / SERVER_LOG
    try:
        with _stderr_to(log_path):  # the server process inherits it: its tracebacks go to the log, not the terminal
            server.start()
    except RuntimeError as exc:
        raise server_start_error(log_path, exc) from None
    if not already and server.server_process is not None:
        stop_with_this_process(server.server_process.pid)
    return server.api_url


#: the temporary server's own output, in the Prefect home
SERVER_LOG = "temporary-server.log"
#: what the server's log says when its state database cannot be written for lack of space
_NO_SPACE_SIGNS = ("database or disk is full", "disk I/O error", "File too large", "No space left on device")


@contextmanager
def _stderr_to(log_path: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``log_path`` (appended) for the block, so that a process started inside writes
    its stderr there; this process's stderr comes back after it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    try:
        with open(log_path, "ab") as log:
            sys.stderr.flush()
            os.dup2(log.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def server_start_error(log_path: Path, exc: BaseException) -> InputError:
    """One line for a temporary server that did not start: out of space when its log says so (its state database,
    beside the log, could not be written), else what Prefect said, and where to look."""
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-20000:] if log_path.is_file() else ""
    if any(sign in tail for sign in _NO_SPACE_SIGNS):
        return OutOfSpace(log_path.parent)
    problem = f"Prefect's temporary server did not start ({exc}); --runner serial needs no server"
    return InputError(log_path, problem, "prefect_server")


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
        guard = stop_with_this_process(proc.pid, group=True)
        try:
            api_url = f"http://127.0.0.1:{port}/api"
            wait_healthy(api_url, timeout_s, proc)
            yield api_url
        finally:
            stop_process_group(proc)
            _release(guard)


def _release(guard: subprocess.Popen[bytes]) -> None:
    """Let ``guard`` go (its server was stopped normally)."""
    if guard in _GUARDS:
        _GUARDS.remove(guard)
    with suppress(OSError, ValueError):
        guard.stdin.write(_RELEASE)  # type: ignore[union-attr]
        guard.stdin.close()  # type: ignore[union-attr]
    try:
        guard.wait(timeout=5)
    except subprocess.TimeoutExpired:
        guard.kill()
        guard.wait()


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--guard":
    sys.exit(_guard(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "group"))

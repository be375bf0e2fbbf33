"""Keep Prefect, DVC and Great Expectations offline, quiet and inside the project.

The Makefile exports the same variables (``make`` targets) and the CLI calls :func:`configure_offline`
at import, so nobody sets them by hand. A value the user already set always wins.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

QUIET_ENV = {
    # Prefect: no analytics or telemetry, local server on loopback, patient start-up on small machines
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_API_HOST": "127.0.0.1",
    # everyone else's analytics
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}

#: Where state goes, relative to the project root.
PREFECT_HOME_DIR = ".prefect"
DVC_SITE_CACHE_DIR = Path(".dvc") / "tmp" / "site-cache"


def project_root(start: str | Path) -> Path | None:
    """The mannequin project ``start`` is in (the nearest folder at or above it holding ``dvc.yaml`` and
    ``params.yaml``), or None."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file() and (folder / "params.yaml").is_file():
            return folder
    return None


def prefect_home(start: str | Path | None = None) -> Path:
    """Where Prefect keeps its state: ``.prefect/`` of the project ``start`` (default: the working directory) is
    in, else ``mannequin/prefect`` in the user's cache folder (``$XDG_CACHE_HOME``, default ``~/.cache``): never
    the caller's working directory."""
    root = project_root(start or os.getcwd())
    if root is not None:
        return root / PREFECT_HOME_DIR
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mannequin" / "prefect"


def offline_env(project_dir: str | Path | None = None) -> dict[str, str]:
    """The variables :func:`configure_offline` sets, for ``project_dir`` (default: the working directory)."""
    env = dict(QUIET_ENV)
    env["PREFECT_HOME"] = str(prefect_home(project_dir))
    return env


def dvc_site_cache_dir(repo: str | Path) -> Path:
    """Where DVC keeps its per-repo state (index, link state; normally ``/var/tmp/dvc``): ``<repo>/.dvc/tmp/``.

    DVC git-ignores ``.dvc/tmp``. Our DVC subprocesses get it as ``DVC_SITE_CACHE_DIR`` (unless set);
    the Makefile exports the same, and ``make install`` sets ``core.site_cache_dir`` in ``.dvc/config.local``.
    """
    return Path(repo).resolve() / DVC_SITE_CACHE_DIR


def configure_offline(project_dir: str | Path | None = None) -> None:
    """Set the offline/quiet variables and PREFECT_HOME (without overriding what the user set), and make the
    Prefect home folder: Prefect creates only its last part, and without it the state database cannot open, its
    temporary server never starts and a flow waits out the whole server start-up timeout."""
    for key, value in offline_env(project_dir).items():
        os.environ.setdefault(key, value)
    with contextlib.suppress(OSError):  # a read-only or odd home: Prefect says so itself when it needs the folder
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)


def quiet_prefect_logs(level: str = "WARNING") -> None:
    """Make Prefect's console logging quiet (the CLI prints its own summary); must run before importing prefect."""
    import logging

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", level)
    # Prefect's event worker warns at exit while it drains ("Still processing items"): not the user's business
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)

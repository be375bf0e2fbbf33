"""Keep Prefect, DVC and Great Expectations offline, quiet and inside the project.

The Makefile exports the same variables (``make`` targets) and the CLI calls :func:`configure_offline`
at import, so nobody sets them by hand. A value the user already set always wins.
"""

from __future__ import annotations

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


def offline_env(project_dir: str | Path | None = None) -> dict[str, str]:
    """The variables :func:`configure_offline` sets, for ``project_dir`` (default: the working directory)."""
    root = Path(project_dir or os.getcwd()).resolve()
    env = dict(QUIET_ENV)
    env["PREFECT_HOME"] = str(root / PREFECT_HOME_DIR)
    return env


def dvc_site_cache_dir(repo: str | Path) -> Path:
    """Where DVC keeps its per-repo state (index, link state; normally ``/var/tmp/dvc``): ``<repo>/.dvc/tmp/``.

    DVC git-ignores ``.dvc/tmp``. Our DVC subprocesses get it as ``DVC_SITE_CACHE_DIR`` (unless set);
    the Makefile exports the same, and ``make install`` sets ``core.site_cache_dir`` in ``.dvc/config.local``.
    """
    return Path(repo).resolve() / DVC_SITE_CACHE_DIR


def configure_offline(project_dir: str | Path | None = None) -> None:
    """Set the offline/quiet variables and PREFECT_HOME (without overriding what the user set)."""
    for key, value in offline_env(project_dir).items():
        os.environ.setdefault(key, value)


def quiet_prefect_logs(level: str = "WARNING") -> None:
    """Make Prefect's console logging quiet (the CLI prints its own summary); must run before importing prefect."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", level)

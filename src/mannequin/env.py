"""Keep Prefect, DVC and Great Expectations offline, quiet and inside the project."""

from __future__ import annotations

import os
from pathlib import Path

QUIET_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_API_HOST": "127.0.0.1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def configure_offline(project_dir: str | Path | None = None) -> None:
    """Set the offline/quiet variables (without overriding what the user set) and PREFECT_HOME."""
    root = Path(project_dir or os.getcwd()).resolve()
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(root / ".prefect"))

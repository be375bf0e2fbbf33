"""Serve the deployments of a prefect.yaml from this process (no work pool needed); ``flows/deploy.py`` runs it.

    python flows/deploy.py serve [--file prefect.yaml] [--name nightly] [--no-schedule] [--port 4200]
    python flows/deploy.py show  [--file prefect.yaml]

``serve`` registers each deployment (schedule, parameters, tags, concurrency limit from prefect.yaml)
with the Prefect API and runs its flow runs in subprocesses until interrupted (Ctrl-C). The API is
``PREFECT_API_URL`` when set (an existing server); otherwise ``serve`` starts
``prefect server start --host 127.0.0.1 --port PORT`` as a child (log: .prefect/server.log) and stops
it on exit. For a work pool instead: ``prefect deploy --all`` and ``prefect worker start --pool <pool>``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import yaml


def read_deployments(path: Path, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The ``deployments`` entries of a prefect.yaml (all, or those named); a problem exits with one line."""
    if not path.is_file():
        sys.exit(f"deploy: error: {path}: file not found")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = config.get("deployments") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("name") for e in entries):
        sys.exit(f"deploy: error: {path}: deployments must be a list of mappings with a name")
    chosen = [e for e in entries if not names or e["name"] in names]
    missing = sorted(set(names or []) - {e["name"] for e in entries})
    if missing:
        sys.exit(f"deploy: error: {path}: no deployment named {', '.join(missing)}")
    return chosen


def to_runner_deployment(entry: dict[str, Any], base: Path, schedule: bool = True) -> Any:
    """A Prefect ``RunnerDeployment`` from one prefect.yaml entry (entrypoint relative to ``base``)."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron

    file_part, _, func = str(entry["entrypoint"]).rpartition(":")
    flow = load_flow_from_entrypoint(f"{base / file_part}:{func}")
    schedules = []
    for item in (entry.get("schedules") or []) if schedule else []:
        if "cron" not in item:
            sys.exit(f"deploy: error: deployment {entry['name']}: only cron schedules are supported here")
        schedules.append(Cron(item["cron"], timezone=item.get("timezone"), active=item.get("active", True)))
    return flow.to_deployment(
        name=entry["name"],
        schedules=schedules or None,
        parameters=entry.get("parameters") or {},
        description=entry.get("description"),
        tags=entry.get("tags"),
        concurrency_limit=entry.get("concurrency_limit"),
    )


def main(root: Path, argv: list[str] | None = None) -> None:
    """The command line of ``flows/deploy.py`` for the project checked out at ``root`` (its prefect.yaml, its
    entry points; flow runs start there)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["serve", "show"])
    parser.add_argument("--file", type=Path, default=root / "prefect.yaml", help="the prefect.yaml to read")
    parser.add_argument("--name", action="append", help="only this deployment (repeatable); default: all")
    parser.add_argument("--no-schedule", action="store_true", help="register without schedules (manual runs only)")
    parser.add_argument("--limit", type=int, default=1, help="flow runs at once in this process (DVC locks)")
    parser.add_argument("--port", type=int, default=4200, help="port of the local server (without PREFECT_API_URL)")
    args = parser.parse_args(argv)

    from mannequin.env import configure_offline

    configure_offline(root)
    entries = read_deployments(args.file, args.name)
    if args.command == "show":
        print(yaml.safe_dump(entries, sort_keys=False), end="")
        return
    os.chdir(root)  # flow runs start here, so the parameter repo "." is this checkout
    if os.environ.get("PREFECT_API_URL"):
        serve_deployments(entries, args, root)
        return
    from mannequin.orchestration.local_server import local_prefect_server

    log = Path(os.environ["PREFECT_HOME"]) / "server.log"
    with local_prefect_server(args.port, log) as api_url:
        print(f"Prefect server on {api_url} (log: {log})", flush=True)
        os.environ["PREFECT_API_URL"] = api_url  # before Prefect is imported: the runner and its runs use it
        signal.signal(signal.SIGTERM, _exit_on_sigterm)  # `kill` also stops the server (via the with-block)
        with contextlib.suppress(KeyboardInterrupt):
            serve_deployments(entries, args, root)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def serve_deployments(entries: list[dict[str, Any]], args: argparse.Namespace, root: Path) -> None:
    """Register ``entries`` (entry points relative to ``root``) and run their flow runs until interrupted."""
    from prefect import serve

    deployments = [to_runner_deployment(e, root, schedule=not args.no_schedule) for e in entries]
    serve(*deployments, limit=args.limit, print_starting_message=True)

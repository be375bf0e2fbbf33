"""Serve the deployments of prefect.yaml from this process (no work pool needed): ``make serve``.

    python flows/deploy.py serve [--file prefect.yaml] [--name nightly] [--no-schedule] [--port 4200]
    python flows/deploy.py show  [--file prefect.yaml]

The command is :func:`mannequin.orchestration.deploy.main`, for this checkout.
"""

from pathlib import Path

from mannequin.orchestration.deploy import main

if __name__ == "__main__":
    main(Path(__file__).resolve().parents[1])

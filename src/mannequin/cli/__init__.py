"""The ``mannequin`` command line (DESIGN.md section 4). Each stage registers its commands."""

from __future__ import annotations

from mannequin.env import configure_offline

configure_offline()

from mannequin.cli import data_commands, curate_commands, learning_commands, evaluation_commands, pipeline_commands  # noqa: E402,F401
from mannequin.cli.app import app  # noqa: E402

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the console script."""
    app()

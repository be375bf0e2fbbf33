"""The ``mannequin`` command line (reference: docs/reference/cli.md, generated). Each area registers its commands."""

from __future__ import annotations

from mannequin.env import configure_offline

configure_offline()

from mannequin.cli import (  # noqa: E402,F401
    clip_commands,
    curate_commands,
    data_commands,
    evaluation_commands,
    footage_commands,
    learning_commands,
    masks_commands,
    mvs_commands,
    parallax_commands,
    pipeline_commands,
    predict_commands,
    pretext_commands,
    real_depth_commands,
)
from mannequin.cli.app import app  # noqa: E402

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the console script."""
    app()

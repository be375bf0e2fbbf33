"""Commands of the mvs stage."""

from __future__ import annotations

from mannequin.cli.app import app, user_errors  # noqa: F401

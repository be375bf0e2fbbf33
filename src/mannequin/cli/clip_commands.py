"""Commands of the clip stage."""

from __future__ import annotations

from mannequin.cli.app import app, user_errors  # noqa: F401

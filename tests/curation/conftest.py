"""Fixtures of the curation tests (helpers live in curation_helpers.py)."""

from __future__ import annotations

from curation_helpers import clean_data, tiny_params  # noqa: F401

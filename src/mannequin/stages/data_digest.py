"""The ``data-digest`` stage of ``dvc.yaml``: ``mannequin data-digest``.

A content digest of the data folder, which every stage that reads ``data/`` depends on instead of walking it
(:mod:`mannequin.orchestration.data_digest`).
"""

from __future__ import annotations

from pathlib import Path

from mannequin.orchestration.data_digest import write_data_digest


def run(data: str | Path, out: str | Path) -> dict[str, str | int]:
    """Write the digest of ``data`` to ``out``; returns it."""
    return write_data_digest(data, out)

"""A content digest of the data folder: the one small file the pipeline's stages depend on instead of ``data/``.

DVC walks a directory dependency (a stat and a state-database lookup per file) once for every stage that lists
it, so a no-op ``dvc repro`` grew with (stages x files of ``data/``). One stage depends on ``data`` and writes
this digest; the others depend on the digest, whose bytes change exactly when a byte or a name in ``data/`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from mannequin.atomic import atomic_write_text
from mannequin.clips.clip import folder_fingerprint
from mannequin.clips.splits import require_data_dir


def data_digest(data: str | Path) -> dict[str, str | int]:
    """The number of files of ``data`` and the sha256 of their relative names, sizes and bytes."""
    data = require_data_dir(data)
    files = sum(1 for p in data.rglob("*") if p.is_file())
    return {"files": files, "sha256": folder_fingerprint(data)}


def write_data_digest(data: str | Path, out: str | Path) -> dict[str, str | int]:
    """Write :func:`data_digest` of ``data`` to ``out`` as JSON (atomically); returns it."""
    digest = data_digest(data)
    atomic_write_text(out, json.dumps(digest, indent=2) + "\n")
    return digest

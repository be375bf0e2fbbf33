"""The per-clip result cache of a curate run: one plain JSON record per clip under ``<out>/.cache``.

A curated folder is shared, downloaded and ``dvc pull``-ed, so a record is read as data and nothing else: JSON
parsed into :class:`ClipRecord` (a strict pydantic model: known fields, plain types), never a serializer or
anything importable named by the file. A record that does not parse or validate, or whose key is not the one
asked for, is a miss: the clip is recomputed and :meth:`ClipCache.get` reports the problem in one line.

The key is :meth:`mannequin.curation.curate.ClipJob.cache_key` (content hash, split, override, params digest,
code version); records are written atomically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mannequin.atomic import atomic_write_text
from mannequin.clips.ids import CLIP_ID_PATTERN
from mannequin.curation.shards import naming_a_full_disk
from mannequin.curation.table import BASE_COLUMNS, ClipRow

CACHE_DIR = ".cache"
RECORD_VERSION = 1
_KEY_PATTERN = r"^curate-[A-Za-z0-9_.-]{1,128}-[0-9a-f]{32}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CachedRow(_Strict):
    """A :class:`ClipRow` as stored: its fields, and its scores as plain numbers."""

    clip_id: str = Field(pattern=f"^{CLIP_ID_PATTERN.pattern}$")
    split: str
    accepted: bool
    reason: str
    override: str
    auto_reason: str
    num_frames: int | None
    frames_used: int
    scores: dict[str, float | None]

    @classmethod
    def of(cls, row: ClipRow) -> CachedRow:
        return cls(**{name: getattr(row, name) for name in BASE_COLUMNS}, scores=dict(row.scores))

    def row(self) -> ClipRow:
        return ClipRow(**self.model_dump())


class ClipRecord(_Strict):
    """One clip's cached result: the row, and the seconds its curation took."""

    version: int = Field(RECORD_VERSION, ge=RECORD_VERSION, le=RECORD_VERSION)
    key: str = Field(pattern=_KEY_PATTERN)
    row: CachedRow
    seconds: float = Field(ge=0)


class ClipCache:
    """Records ``<key>.json`` in ``folder``; ``warn(line)`` hears of every record that was refused."""

    def __init__(self, folder: str | Path, warn: Callable[[str], None] | None = None) -> None:
        self.folder = Path(folder)
        self.warn = warn

    def path(self, key: str) -> Path:
        if re.fullmatch(_KEY_PATTERN, key) is None:
            raise ValueError(f"not a cache key: {key!r}")
        return self.folder / f"{key}.json"

    def get(self, key: str) -> ClipRecord | None:
        """The record of ``key``, or ``None`` when there is none or it is refused (then ``warn`` is called)."""
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._refuse(path, f"unreadable ({type(exc).__name__})")
        try:
            record = ClipRecord.model_validate(json.loads(text))
        except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError are ValueErrors
            return self._refuse(path, _first_problem(exc))
        if record.key != key:
            return self._refuse(path, "the record is for another key")
        return record

    def put(self, key: str, row: ClipRow, seconds: float) -> None:
        """Store the result of ``key`` atomically."""
        record = ClipRecord(key=key, row=CachedRow.of(row), seconds=max(0.0, float(seconds)))
        with naming_a_full_disk(self.path(key)):
            atomic_write_text(self.path(key), record.model_dump_json(indent=1) + "\n")

    def _refuse(self, path: Path, problem: str) -> None:
        if self.warn is not None:
            self.warn(f"{path}: cache record refused ({problem}); the clip is recomputed")
        return None


def _first_problem(exc: ValueError) -> str:
    """One short phrase for a JSON or validation error."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "record"
        return f"{where}: {err['msg']}"[:160]
    return f"not JSON: {' '.join(str(exc).split())}"[:160]

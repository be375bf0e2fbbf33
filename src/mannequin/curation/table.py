"""The clip table ``curated/clips.csv``, ``summary.json`` and ``timings.json``.

``clips.csv`` and ``summary.json`` are byte-identical across identical runs (scores are rounded,
rows sorted by clip id, no time stamps), so DVC-tracked outputs stay clean in git. Wall-clock
figures go to ``timings.json``, which is not meant to be compared.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path

from mannequin.atomic import atomic_write_text
from mannequin.curation.decisions import HELD_OUT_TEST
from mannequin.curation.rules import DEFAULT, Registry

SCORE_DIGITS = 4


@dataclass
class ClipRow:
    """One input clip's curation outcome.

    ``scores`` holds the scores of :mod:`mannequin.curation.rules` by name; one that is missing (or ``None``) was
    not measured, because the clip was rejected before its stage ran.
    """

    clip_id: str
    split: str = ""
    accepted: bool = False
    reason: str = ""  # "" when accepted, else "code: sentence"
    override: str = ""  # "force_accept: note" / "force_reject: note" when a human override applied
    auto_reason: str = ""  # the automatic decision's reason ("" = automatically accepted)
    num_frames: int | None = None
    frames_used: int = 0
    scores: dict[str, float | None] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """The machine reason code ("" when accepted)."""
        return self.reason.split(":", 1)[0] if self.reason else ""

    def to_dict(self) -> dict:
        """Flat: the row's fields, then every default score (``None`` when missing), then any other score."""
        base = {name: getattr(self, name) for name in BASE_COLUMNS}
        return {**base, **{name: self.scores.get(name) for name in DEFAULT.columns}, **self.scores}

    @classmethod
    def from_dict(cls, d: dict) -> ClipRow:
        """The inverse of :meth:`to_dict`: keys that are not row fields are scores."""
        base = {k: v for k, v in d.items() if k in BASE_COLUMNS}
        return cls(**base, scores={k: v for k, v in d.items() if k not in BASE_COLUMNS and k != "scores"})


BASE_COLUMNS = tuple(f.name for f in fields(ClipRow) if f.name != "scores")


def columns(registry: Registry = DEFAULT) -> tuple[str, ...]:
    """The columns of ``clips.csv``: the row's fields, then the registry's scores in declaration order."""
    return BASE_COLUMNS + registry.columns


COLUMNS = columns()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if math.isnan(value):
            return ""
        return f"{round(value, SCORE_DIGITS):.{SCORE_DIGITS}f}".rstrip("0").rstrip(".")
    return str(value)


def format_clip_table(rows: list[ClipRow], registry: Registry = DEFAULT) -> str:
    """The CSV text of ``rows``, sorted by clip id, scores rounded (deterministic bytes)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns(registry))
    for row in sorted(rows, key=lambda r: r.clip_id):
        d = row.to_dict()
        writer.writerow([_cell(d.get(c)) for c in columns(registry)])
    return buf.getvalue()


def write_clip_table(path: str | Path, rows: list[ClipRow], registry: Registry = DEFAULT) -> None:
    """Write ``clips.csv`` atomically."""
    atomic_write_text(path, format_clip_table(rows, registry))


def read_clip_table(path: str | Path):
    """``clips.csv`` as a pandas DataFrame (``accepted`` as bool, scores as float)."""
    import pandas as pd

    df = pd.read_csv(path, dtype={"clip_id": str, "split": str, "reason": str, "override": str, "auto_reason": str})
    df["accepted"] = df["accepted"].astype(str).str.lower().eq("true")
    for col in ("reason", "override", "auto_reason", "split"):
        df[col] = df[col].fillna("")
    return df


def summarize(rows: list[ClipRow], extra: dict | None = None) -> dict:
    """Counts by reason code, accepted fraction, mean coverage of the accepted clips (no timings)."""
    counts = Counter(r.code or "accepted" for r in rows)
    curated = [r for r in rows if r.code != HELD_OUT_TEST]
    accepted = [r for r in rows if r.accepted]
    cov = [r.scores["coverage"] for r in accepted if r.scores.get("coverage") is not None]
    summary = {
        "clips": len(rows),
        "candidates": len(curated),
        "accepted": len(accepted),
        "rejected": len(curated) - len(accepted),
        HELD_OUT_TEST: counts.get(HELD_OUT_TEST, 0),
        "accepted_fraction": round(len(accepted) / len(curated), SCORE_DIGITS) if curated else 0.0,
        "mean_coverage": round(sum(cov) / len(cov), SCORE_DIGITS) if cov else 0.0,
        "accepted_frames": sum(r.frames_used for r in accepted),
        "overrides": sum(1 for r in rows if r.override),
        "by_reason": dict(sorted(counts.items())),
    }
    if extra:
        summary.update(extra)
    return summary


def write_json(path: str | Path, data: dict) -> None:
    """Write a JSON document atomically with sorted keys (deterministic bytes)."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")

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
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from mannequin.atomic import atomic_write_text

SCORE_COLUMNS = (
    "pose_jump",
    "translation",
    "rotation_deg",
    "sharpness",
    "parallax_deg",
    "inconsistent_fraction",
    "disagreement_fraction",
    "motion_fraction",
    "coverage",
    "sfm_registered",
    "sfm_points",
    "sfm_reprojection_px",
    "sfm_focal",
)
SCORE_DIGITS = 4


@dataclass
class ClipRow:
    """One input clip's curation outcome. Scores are ``None`` when the clip was rejected before they were measured."""

    clip_id: str
    split: str = ""
    accepted: bool = False
    reason: str = ""  # "" when accepted, else "code: sentence"
    override: str = ""  # "force_accept: note" / "force_reject: note" when a human override applied
    auto_reason: str = ""  # the automatic decision's reason ("" = automatically accepted)
    num_frames: int | None = None
    frames_used: int = 0
    pose_jump: float | None = None
    translation: float | None = None
    rotation_deg: float | None = None
    sharpness: float | None = None
    parallax_deg: float | None = None
    inconsistent_fraction: float | None = None
    disagreement_fraction: float | None = None
    motion_fraction: float | None = None
    coverage: float | None = None
    # registration statistics of SfM poses (curate.poses); empty for a clip whose poses.txt was read
    sfm_registered: float | None = None  # share of the frames given to SfM that registered
    sfm_points: int | None = None
    sfm_reprojection_px: float | None = None
    sfm_focal: float | None = None  # focal length / image width

    @property
    def code(self) -> str:
        """The machine reason code ("" when accepted)."""
        return self.reason.split(":", 1)[0] if self.reason else ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ClipRow:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


COLUMNS = tuple(f.name for f in fields(ClipRow))


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


def format_clip_table(rows: list[ClipRow]) -> str:
    """The CSV text of ``rows``, sorted by clip id, scores rounded (deterministic bytes)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in sorted(rows, key=lambda r: r.clip_id):
        writer.writerow([_cell(getattr(row, c)) for c in COLUMNS])
    return buf.getvalue()


def write_clip_table(path: str | Path, rows: list[ClipRow]) -> None:
    """Write ``clips.csv`` atomically."""
    atomic_write_text(path, format_clip_table(rows))


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
    curated = [r for r in rows if r.code != "held_out_test"]
    accepted = [r for r in rows if r.accepted]
    cov = [r.coverage for r in accepted if r.coverage is not None]
    summary = {
        "clips": len(rows),
        "candidates": len(curated),
        "accepted": len(accepted),
        "rejected": len(curated) - len(accepted),
        "held_out_test": counts.get("held_out_test", 0),
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

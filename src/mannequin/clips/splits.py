"""``data/splits.csv`` (``clip_id,split``: unlabeled, labeled or test) and the clip folders under ``data/clips``."""

from __future__ import annotations

import csv
from pathlib import Path

from mannequin.clips.ids import validate_clip_id
from mannequin.errors import InputError, read_user_text

SPLITS = ("unlabeled", "labeled", "test")
SPLITS_NAME = "splits.csv"
CLIPS_NAME = "clips"


def require_data_dir(data_dir: str | Path) -> Path:
    """``data_dir`` when it is a folder; else the one-line error a new user needs: where to get data."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(
            data_dir,
            "data folder not found; get the sample data with `mannequin sample-data data` (or `make demo` in a "
            "clone of the project), or bring your own clips (docs/getting-started.md: Bring your own clips)",
            "missing_data",
        )
    return data_dir


def read_splits(data_dir: str | Path) -> dict[str, str]:
    """``{clip_id: split}`` from ``data_dir/splits.csv``; every problem names the file and the line."""
    path = Path(data_dir) / SPLITS_NAME
    text = read_user_text(path, "splits", encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip() for c in rows[0]] != ["clip_id", "split"]:
        raise InputError(path, "line 1: the header must be exactly 'clip_id,split'", "bad_splits")
    out: dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 2:
            raise InputError(path, f"line {lineno}: expected 2 columns (clip_id,split), got {len(row)}", "bad_splits")
        clip_id, split = row[0].strip(), row[1].strip()
        try:
            validate_clip_id(clip_id)
        except InputError as exc:
            raise InputError(path, f"line {lineno}: {exc.problem}", "bad_splits") from None
        if split not in SPLITS:
            raise InputError(path, f"line {lineno}: split {split!r} is not one of {', '.join(SPLITS)}", "bad_splits")
        if clip_id in out:
            raise InputError(path, f"line {lineno}: clip {clip_id!r} is listed twice", "bad_splits")
        out[clip_id] = split
    return out


def list_clip_dirs(data_dir: str | Path) -> list[Path]:
    """Every folder under ``data_dir/clips``, sorted by name.

    Folders whose names are not valid clip ids are returned too, so that curation can reject them
    with a reason instead of skipping them silently; call ``validate_clip_id`` before using a name.
    """
    clips = Path(data_dir) / CLIPS_NAME
    if not clips.is_dir():
        raise InputError(clips, "clips folder not found", "missing_clips")
    return sorted((p for p in clips.iterdir() if p.is_dir()), key=lambda p: p.name)

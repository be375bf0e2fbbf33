"""Clip identifiers (DESIGN.md section 3): ``[A-Za-z0-9_.-]{1,128}``, never ``.`` or ``..``."""

from __future__ import annotations

import re
from pathlib import Path

from mannequin.errors import InputError

CLIP_ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def is_valid_clip_id(clip_id: str) -> bool:
    """Whether ``clip_id`` is a safe clip identifier."""
    return isinstance(clip_id, str) and bool(CLIP_ID_PATTERN.fullmatch(clip_id)) and clip_id not in (".", "..")


def validate_clip_id(clip_id: str, path: str | Path | None = None) -> str:
    """Return ``clip_id`` unchanged, or raise ``InputError(code="bad_clip_id")`` naming ``path``."""
    if not is_valid_clip_id(clip_id):
        shown = repr(clip_id) if len(str(clip_id)) <= 60 else repr(str(clip_id)[:60]) + "..."
        raise InputError(
            path if path is not None else clip_id,
            f"clip id {shown} is not allowed (use 1-128 characters from A-Z a-z 0-9 _ . -, not '.' or '..')",
            "bad_clip_id",
        )
    return clip_id

"""Clip identifiers: 1-128 characters from ``A-Z a-z 0-9 _ . -`` that do not start with a dot.

The character set is the data layout's ``[A-Za-z0-9_.-]{1,128}``; a leading dot is refused on top of it, because
dot-folders (``.hidden``, ``...``, and ``.``/``..`` themselves) are hidden from, or mean something else to,
every folder listing that reads the clips and their shards.
"""

from __future__ import annotations

import re
from pathlib import Path

from mannequin.errors import InputError

CLIP_ID_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


def is_valid_clip_id(clip_id: str) -> bool:
    """Whether ``clip_id`` is a safe clip identifier."""
    return isinstance(clip_id, str) and bool(CLIP_ID_PATTERN.fullmatch(clip_id))


def validate_clip_id(clip_id: str, path: str | Path | None = None) -> str:
    """Return ``clip_id`` unchanged, or raise ``InputError(code="bad_clip_id")`` naming ``path``."""
    if not is_valid_clip_id(clip_id):
        shown = repr(clip_id) if len(str(clip_id)) <= 60 else repr(str(clip_id)[:60]) + "..."
        raise InputError(
            path if path is not None else clip_id,
            f"clip id {shown} is not allowed (use 1-128 characters from A-Z a-z 0-9 _ . -, not starting with '.')",
            "bad_clip_id",
        )
    return clip_id


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is safe as a file or folder name: clip ids joined by ``+`` (like ``mvs+masked``)."""
    return isinstance(name, str) and all(is_valid_clip_id(part) for part in name.split("+"))

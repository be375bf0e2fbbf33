"""Human overrides of the automatic decisions (``curate.overrides``: a YAML file).

Choosing the data is where human supervision belongs, so a person can force a clip in or out::

    force_accept:
      - {clip_id: street_04, note: "slow pedestrians at the edge only; depth checked by hand"}
    force_reject:
      - {clip_id: lobby_02, note: "mirror wall: MVS is confidently wrong"}

Rules (documented in docs/getting-started.md): a clip listed in both lists, an entry without ``clip_id``, a bad
id or an unknown key is an ``InputError`` (exit 2). Forcing a ``test`` clip in is an error too:
test clips never reach training. Ids that match no clip in ``data/clips`` are a warning, reported
in ``summary.json`` as ``unknown_override_ids``, and otherwise ignored, so that removing a clip from
the data does not break a scheduled run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mannequin.clips.ids import is_valid_clip_id
from mannequin.errors import InputError

FORCE_ACCEPT = "force_accept"
FORCE_REJECT = "force_reject"


@dataclass(frozen=True)
class Override:
    """One forced decision."""

    action: str  # FORCE_ACCEPT or FORCE_REJECT
    note: str

    def __str__(self) -> str:
        return f"{self.action}: {self.note}" if self.note else self.action


@dataclass(frozen=True)
class Overrides:
    """Forced decisions by clip id."""

    by_clip: dict[str, Override] = field(default_factory=dict)

    def get(self, clip_id: str) -> Override | None:
        return self.by_clip.get(clip_id)

    def unknown(self, clip_ids: set[str]) -> list[str]:
        """Override ids that match none of ``clip_ids``."""
        return sorted(set(self.by_clip) - clip_ids)


def read_overrides(path: str | Path | None) -> Overrides:
    """Parse and validate an overrides file; ``None`` means no overrides."""
    if path is None:
        return Overrides()
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "overrides file not found", "bad_overrides")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise InputError(path, "not valid YAML", "bad_overrides") from None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise InputError(path, "expected a mapping with force_accept and/or force_reject lists", "bad_overrides")
    extra = set(raw) - {FORCE_ACCEPT, FORCE_REJECT}
    if extra:
        raise InputError(path, f"unknown key {sorted(extra)[0]!r} (use force_accept, force_reject)", "bad_overrides")
    by_clip: dict[str, Override] = {}
    for action in (FORCE_ACCEPT, FORCE_REJECT):
        entries = raw.get(action) or []
        if not isinstance(entries, list):
            raise InputError(path, f"{action}: expected a list of {{clip_id, note}}", "bad_overrides")
        for k, entry in enumerate(entries):
            where = f"{action}[{k}]"
            if isinstance(entry, str):
                entry = {"clip_id": entry}
            if not isinstance(entry, dict) or "clip_id" not in entry:
                raise InputError(path, f"{where}: expected a mapping with clip_id and note", "bad_overrides")
            if set(entry) - {"clip_id", "note"}:
                raise InputError(
                    path, f"{where}: unknown key {sorted(set(entry) - {'clip_id', 'note'})[0]!r}", "bad_overrides"
                )
            clip_id = str(entry["clip_id"])
            if not is_valid_clip_id(clip_id):
                raise InputError(path, f"{where}: {clip_id!r} is not a valid clip id", "bad_overrides")
            if clip_id in by_clip:
                raise InputError(path, f"{where}: clip {clip_id} is listed twice", "bad_overrides")
            note = " ".join(str(entry.get("note") or "").split())
            by_clip[clip_id] = Override(action, note)
    return Overrides(by_clip)

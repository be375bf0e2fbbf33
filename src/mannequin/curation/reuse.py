"""Reuse shards from an earlier curation of the same clips, so the curation ablation recomputes no MVS.

A shard records in ``meta.json`` the key of what produced it (clip content, split, the curate params that change
scores, the code) and the clip's scores. A later run with the same key copies the shard (hard links where the
filesystem allows) and takes the scores; only the accept/reject decision is made again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from mannequin.curation.shards import SHARDS_DIR, naming_a_full_disk, shard_writer
from mannequin.curation.table import ClipRow

DECISION_FIELDS = ("accepted", "reason", "override")


def shard_scores(row: ClipRow) -> dict:
    """The part of a row that does not depend on the decision (what a shard's provenance keeps)."""
    return {k: v for k, v in row.to_dict().items() if k not in DECISION_FIELDS}


def find_reusable(reuse_dir: str | Path, clip_id: str, key: str) -> tuple[Path, ClipRow] | None:
    """The shard folder and scores of ``clip_id`` in ``reuse_dir`` when its provenance key is ``key``."""
    src = Path(reuse_dir) / SHARDS_DIR / clip_id
    try:
        meta = json.loads((src / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    provenance = meta.get("provenance") if isinstance(meta, dict) else None
    if not isinstance(provenance, dict) or provenance.get("source_key") != key:
        return None
    scores = provenance.get("scores")
    if not isinstance(scores, dict) or scores.get("clip_id") != clip_id:
        return None
    return src, ClipRow.from_dict(scores)


def copy_shard(src: Path, out_dir: str | Path) -> None:
    """Copy a shard folder into ``out_dir/shards`` atomically, hard-linking files where possible."""
    with naming_a_full_disk(Path(out_dir) / SHARDS_DIR / src.name), shard_writer(out_dir, src.name) as tmp:
        for f in sorted(p for p in src.iterdir() if p.is_file()):
            try:
                os.link(f, tmp / f.name)
            except OSError:
                shutil.copy2(f, tmp / f.name)

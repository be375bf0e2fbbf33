"""``mannequin real-data``: real scenes with true depth, converted into the data layout as test clips.

Two sources, each one test clip:

- ``castel`` (:mod:`mannequin.ingest.castel`): a real hand-held RGB-D sequence from Debian's ``visp-images-data``
  (GPL-2: installed at test or benchmark time, never committed). When the default folder is absent (the package
  is not installed) the clip is skipped with one line saying so and the rest is written; a folder given
  explicitly must be a complete sequence.
- ``motorcycle`` (:mod:`mannequin.ingest.middlebury`): the Middlebury 2014 Motorcycle pair scikit-image ships.

The folder is written whole and atomically: ``clips/``, ``depth/``, ``splits.csv`` (every clip ``test``) and
``real_data.json`` (where each clip came from, how its depth was made, the castel depth unit and how it was found).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mannequin.atomic import atomic_dir, atomic_write_text
from mannequin.errors import InputError

MANIFEST = "real_data.json"
CASTEL, MOTORCYCLE = "castel", "motorcycle"


@dataclass
class RealDataSummary:
    """What was written and what was skipped (one line each, for the user)."""

    clips: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def lines(self, out: Path) -> list[str]:
        lines = [f"{clip}: skipped: {why}" for clip, why in self.skipped.items()]
        for clip, record in self.clips.items():
            unit = record.get("depth_unit")
            extra = f", depth unit {1000 * unit['metres_per_count']:.4f} mm per count" if unit else ""
            lines.append(
                f"{clip}: {record['frames']} frames of {record['size'][0]}x{record['size'][1]}, depth on"
                f" {100 * record['depth_coverage']:.0f}% of the pixels{extra}"
            )
        lines.append(f"wrote {out} ({len(self.clips)} test clips)")
        return lines


def castel_source(castel: str | Path | None) -> tuple[Path | None, str | None]:
    """The castel folder to read and, when there is none, why: ``castel`` None means the default, if installed."""
    from mannequin.ingest.castel import DEFAULT_CASTEL, PACKAGE

    if castel is not None:
        return Path(castel), None
    if DEFAULT_CASTEL.is_dir():
        return DEFAULT_CASTEL, None
    return None, f"{DEFAULT_CASTEL} not found (install Debian's {PACKAGE}: apt-get install {PACKAGE})"


def write_real_data(
    out: str | Path,
    castel: str | Path | None = None,
    middlebury: str | Path | None = None,
    include: tuple[str, ...] = (CASTEL, MOTORCYCLE),
) -> RealDataSummary:
    """Convert the real sources named in ``include`` into ``out`` (see the module doc)."""
    from mannequin.ingest.castel import convert_castel, open_castel
    from mannequin.ingest.middlebury import convert_pair, read_pair

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a directory", "bad_output")
    summary = RealDataSummary()
    sources: dict[str, Any] = {}
    if CASTEL in include:  # open (and so validate) everything before writing anything
        folder, why = castel_source(castel)
        if folder is None:
            summary.skipped[CASTEL] = str(why)
        else:
            sources[CASTEL] = open_castel(folder)
    if MOTORCYCLE in include:
        sources[MOTORCYCLE] = read_pair(middlebury)
    with atomic_dir(out) as tmp:
        for clip_id, source in sources.items():
            clip_dir, depth_dir = tmp / "clips" / clip_id, tmp / "depth" / clip_id
            convert = convert_castel if clip_id == CASTEL else convert_pair
            summary.clips[clip_id] = convert(source, clip_dir, depth_dir)  # type: ignore[operator]
        atomic_write_text(tmp / "splits.csv", "clip_id,split\n" + "".join(f"{c},test\n" for c in summary.clips))
        manifest = {"clips": summary.clips, "skipped": summary.skipped}
        atomic_write_text(tmp / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary


def read_manifest(data_dir: str | Path) -> dict[str, Any]:
    """``real_data.json`` of a real-data folder ({} when it has none)."""
    path = Path(data_dir) / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        raise InputError(path, "not valid JSON", "bad_manifest") from None
    return data if isinstance(data, dict) else {}

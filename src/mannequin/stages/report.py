"""The ``report`` stage of ``dvc.yaml``: ``mannequin report``.

The summary table, label-efficiency plot, example frames, people section and curation audit from ``report.metrics``
into ``report.out`` (:func:`mannequin.evaluation.report.write_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.config import Params
from mannequin.evaluation.report import write_report


def run(params: Params) -> dict[str, Any]:
    """Write the report of ``params.report``; returns its summary."""
    p = params.report
    return write_report(Path(p.metrics), Path(p.out), data_dir=Path(p.data), curated_dir=Path(p.curated), params=p)

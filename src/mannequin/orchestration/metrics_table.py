"""The summary metrics of ``dvc metrics show`` as a markdown table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def flatten_metrics(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, name + "."))
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|")


def metrics_markdown(files: Mapping[str, Mapping[str, Any]], title: str = "Summary metrics") -> str:
    """One row per metrics file, one column per metric key (union over files, first-seen order)."""
    flat = {name: flatten_metrics(values) for name, values in sorted(files.items())}
    columns: list[str] = []
    for values in flat.values():
        columns.extend(key for key in values if key not in columns)
    lines = [f"## {title}", ""]
    if not flat:
        return "\n".join([*lines, "No metrics (dvc metrics show found none)."]) + "\n"
    lines.append("| file | " + " | ".join(columns) + " |")
    lines.append("|---|" + "---|" * len(columns))
    for name, values in flat.items():
        lines.append(f"| {name} | " + " | ".join(_cell(values.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"

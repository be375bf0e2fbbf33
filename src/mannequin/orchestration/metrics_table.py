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


def _grouped(flat: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{"models.a.abs_rel": 1}`` -> ``{"models": {"a": {"abs_rel": 1}}}``: group -> row -> column (first-seen)."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for key, value in flat.items():
        row, _, column = key.rpartition(".")
        group, _, name = row.rpartition(".")
        groups.setdefault(group, {}).setdefault(name, {})[column] = value
    return groups


def _table_lines(rows: Mapping[str, Mapping[str, Any]], indent: str, width: int) -> list[str]:
    """Fixed-width tables of ``rows``: a column per key (union, first-seen order), the row names first.

    Columns that do not fit in ``width`` go on to a further table with the same row names (as pandas wraps a
    wide frame). Empty when even one value column does not fit.
    """
    columns: list[str] = []
    for values in rows.values():
        columns.extend(key for key in values if key not in columns)
    names = ["", *rows]
    cells = {c: [c, *(_cell(values.get(c)) for values in rows.values())] for c in columns}
    name_width = max(len(n) for n in names)
    chunks: list[list[str]] = [[]]
    used = len(indent) + name_width
    for c in columns:
        need = 2 + max(len(v) for v in cells[c])
        if chunks[-1] and used + need > width:
            chunks.append([])
            used = len(indent) + name_width
        chunks[-1].append(c)
        used += need
    lines: list[str] = []
    for chunk in chunks:
        widths = [max(len(v) for v in cells[c]) for c in chunk]
        for i, name in enumerate(names):
            row = [name.ljust(name_width), *(cells[c][i].ljust(w) for c, w in zip(chunk, widths, strict=True))]
            lines.append((indent + "  ".join(row)).rstrip())
    return lines if max(len(line) for line in lines) <= width else []


def metrics_text(files: Mapping[str, Mapping[str, Any]], width: int = 80, title: str = "Summary metrics") -> str:
    """The metrics for a terminal ``width`` columns wide: per file, one small table per group of sibling keys.

    ``models.<name>.<metric>`` becomes a table with a row per model and a column per metric, its columns
    wrapped into further tables to fit ``width``; keys without siblings are written one ``key  value`` line
    each. (The markdown table of :func:`metrics_markdown`, one column per key, is for the Prefect artifact:
    it grows past 100 columns once a few models are scored.)
    """
    lines = [title, ""]
    if not files:
        return "\n".join([*lines, "No metrics (dvc metrics show found none)."]) + "\n"
    for name, values in sorted(files.items()):
        lines.append(name)
        for group, rows in _grouped(flatten_metrics(values)).items():
            prefix = f"{group}." if group else ""
            siblings = {row: cols for row, cols in rows.items() if row}
            table = _table_lines(siblings, "    ", width) if len(siblings) > 1 else []
            if table:
                lines += [f"  {group or '(top level)'}", *table]
                rows = {"": rows[""]} if "" in rows else {}
            pairs = [(f"{prefix}{row + '.' if row else ''}{col}", _cell(v)) for row, cols in rows.items()
                     for col, v in cols.items()]  # fmt: skip
            if pairs:
                key_width = min(max(len(k) for k, _ in pairs), width // 2)
                lines += [f"  {k.ljust(key_width)}  {v}" for k, v in pairs]
        lines.append("")
    return "\n".join(lines)

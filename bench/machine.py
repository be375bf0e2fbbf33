"""What the benchmarks share: the machine they ran on, their ``--set`` options, how they write results."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import yaml

from mannequin.atomic import atomic_write_text


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_settings(items: list[str], prog: str) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as a dict, each value read as YAML; a malformed one exits 2 with one line."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"{prog}: error: --set {item!r}: expected KEY=VALUE", file=sys.stderr)
            raise SystemExit(2)
        settings[key] = yaml.safe_load(value)
    return settings


def write_result(path: Path, result: dict[str, Any], indent: int = 2, **dumps: Any) -> None:
    """Write a benchmark's JSON result atomically (a run stopped half-way leaves the old file) and say where."""
    atomic_write_text(path, json.dumps(result, indent=indent, **dumps) + "\n")
    print(f"wrote {path}")

"""Issue 12: nothing users get cites the design notes, which live outside the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CITED = "DESIGN" + ".md"  # spelled apart, so that this file does not cite it either


def test_no_tracked_file_cites_the_design_notes() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "src", "tests", "flows", "bench", "docs", "mkdocs.yml", "README.md", "Makefile",
         "BENCHMARKS.md", "dvc.yaml"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(listed) > 50
    citing = [f for f in listed if (REPO / f).is_file() and CITED in (REPO / f).read_text(errors="replace")]
    assert citing == []

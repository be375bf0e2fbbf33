"""The strict build of the docs site (``make docs``): it passes, holds both references whole, and needs no network."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
#: an address outside the site in a src or href attribute: a font, script, style sheet or image from the network
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


def load_hooks() -> Any:
    spec = importlib.util.spec_from_file_location("docs_hooks_build", REPO / "docs" / "hooks" / "references.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_strict_build_passes_offline_and_holds_the_references(tmp_path: Path) -> None:
    site = tmp_path / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        command = ["unshare", "-n", *command]  # no network at all, where the machine allows it
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]

    hooks = load_hooks()
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    params = (site / "reference" / "params" / "index.html").read_text(encoding="utf-8")
    assert set(hooks.command_paths()) <= hooks.documented_commands(cli)
    assert set(hooks.params_keys()) <= hooks.documented_keys(params)
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 14
    assert [p for p in pages if EXTERNAL.search(p.read_text(encoding="utf-8"))] == []
    # the figures the pages show were copied into the site
    assert (site / "people_frame.png").stat().st_size > 10_000
    # BENCHMARKS.md is included whole in the Benchmarks page
    benchmarks = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    assert 'id="targets"' in benchmarks and "MVS against OpenCV StereoSGBM on real data" in benchmarks

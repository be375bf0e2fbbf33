"""The report stage as dvc.yaml declares it: real ``dvc repro``, ``dvc metrics show`` and ``dvc plots show``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.metrics import MODELS, write_metrics

pytestmark = pytest.mark.slow

STAGE = """stages:
  report:
    cmd: {mannequin} report --params params.yaml
    deps:
      - metrics
      - curated/summary.json
    params:
      - report
    outs:
      - reports/summary.md:
          cache: false
      - reports/summary.json:
          cache: false
      - reports/headline.md:
          cache: false
      - reports/audit.json:
          cache: false
      - reports/plots:
          cache: false
    metrics:
      - reports/headline.json:
          cache: false
    plots:
      - reports/label_efficiency.png:
          cache: false
      - reports/examples.png:
          cache: false
"""


def sh(*args: str, cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def test_dvc_repro_shows_the_headline_metrics_and_image_plots(tmp_path):
    dvc = shutil.which("dvc", path=str(Path(sys.executable).parent)) or pytest.skip("dvc not installed")
    mannequin = Path(sys.executable).parent / "mannequin"
    repo = tmp_path / "repo"
    repo.mkdir()
    sh("git", "init", "-q", cwd=repo)
    sh(dvc, "init", "-q", cwd=repo)
    sh(dvc, "config", "core.analytics", "false", cwd=repo)
    for name, spec in MODELS.items():
        write_metrics(repo / "metrics", name, *spec)
    (repo / "curated").mkdir()
    (repo / "curated/summary.json").write_text('{"accepted": 3, "candidates": 4, "accepted_fraction": 0.75}')
    (repo / "params.yaml").write_text("report:\n  examples: 2\n")
    (repo / "dvc.yaml").write_text(STAGE.format(mannequin=mannequin))
    sh(dvc, "repro", "-q", cwd=repo)
    shown = json.loads(sh(dvc, "metrics", "show", "--json", cwd=repo))
    files = next(iter(shown.values()))["data"]
    assert list(files) == ["reports/headline.json"]  # one small metrics file (issue 26, item 15)
    data = files["reports/headline.json"]["data"]
    assert data["claim"]["reduction"] == pytest.approx(0.5) and data["claim"]["holds"] is True
    assert data["curation"]["accepted_fraction"] == 0.75
    table = sh(dvc, "metrics", "show", cwd=repo)
    assert max(len(line) for line in table.splitlines()) < 200  # it was 13,000 characters wide
    summary = json.loads((repo / "reports/summary.json").read_text())  # the whole summary, a plain output
    assert summary["models"]["pretrain-mvs"]["abs_rel"] == 0.35
    out = sh(dvc, "plots", "show", "-o", "html", cwd=repo)
    page = (repo / "html" / "index.html").read_text()
    assert "html" in out and page.count("<img") == 2
    assert "label_efficiency.png" in page and "examples.png" in page
    assert "http://" not in page and "https://" not in page  # image plots only: nothing to fetch from a CDN
    assert "up to date" in sh(dvc, "status", cwd=repo).lower()  # nothing left to reproduce

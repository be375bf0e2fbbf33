"""A report for any dataset: sections whose data a dataset lacks are one line saying why, never tables of n/a."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.helpers.people import Constant, ParallaxEcho, evaluate_people


def sections(md: str) -> dict[str, str]:
    """``{heading: body}`` of every ``##`` section."""
    parts = re.split(r"^## ", md, flags=re.M)[1:]
    return {p.split("\n", 1)[0]: p.split("\n", 1)[1] if "\n" in p else "" for p in parts}


def tables(body: str) -> list[list[list[str]]]:
    """Every markdown table of ``body`` as rows of data cells (header and separator dropped)."""
    found, current = [], []
    for line in [*body.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            found.append(current[2:])
            current = []
    return found


def assert_no_column_only_na(md: str) -> None:
    for heading, body in sections(md).items():
        cells = [c for t in tables(body) for row in t for c in row[1:]]
        assert not cells or any(c != "n/a" for c in cells), f"section {heading!r} prints only n/a"
        for t in tables(body):
            for k in range(1, len(t[0]) if t else 0):
                assert any(row[k] != "n/a" for row in t), f"section {heading!r}: a column of only n/a"


@pytest.fixture(scope="module")
def bare_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset without people, masks or truth: the sample with every figure still, its truth removed."""
    from mannequin.sample.dataset import write_sample_data

    out = tmp_path_factory.mktemp("bare") / "data"
    write_sample_data(out, 20, seed=5, width=64, height=48, frames=(4, 5), progress=False, people="frozen")
    (out / "sample_truth.csv").unlink()
    shutil.rmtree(out / "truth")
    assert not list(out.glob("clips/*/masks"))
    return out


def test_the_report_of_a_dataset_without_people_masks_or_truth_has_no_section_of_only_na(
    bare_data: Path, tmp_path: Path
) -> None:
    from mannequin.config.evaluation import ReportParams
    from mannequin.evaluation.report import write_report

    metrics = tmp_path / "metrics"
    evaluate_people(bare_data, metrics, {"px-2": ParallaxEcho(), "scratch-2": Constant(2.0)})
    params = ReportParams(real_depth=str(tmp_path / "real"))  # asked for, not run: one line
    write_report(metrics, tmp_path / "reports", data_dir=bare_data, curated_dir=tmp_path / "curated", params=params)
    md = (tmp_path / "reports/summary.md").read_text()
    assert_no_column_only_na(md)
    found = sections(md)
    people = found["Where the people are (the Mannequin Challenge table)"]
    assert "no `people` column in `sample_truth.csv`" in people and "(no `masks/`)" in people
    assert "### 2 labels, all test clips" in people and "moving-people" not in people.split("\n\n", 2)[2]
    assert "Verdict" not in people and "no figure" in people and "![" not in people
    assert "| raw parallax (" in people  # the scores it does have: the raw parallax on all pixels
    assert found["Curation audit"].strip().startswith("Left out: ") and "sample_truth.csv" in found["Curation audit"]
    assert found["Real depth"].strip().startswith("Left out: ") and "make real-depth" in found["Real depth"]

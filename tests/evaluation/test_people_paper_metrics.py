"""The paper's metric set in ``metrics/people/regions.json`` and in the report's people tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mannequin.evaluation.paper_metrics import PAPER_METRIC_NAMES, paper_errors
from mannequin.evaluation.regions import MIN_GROUP_PIXELS, PARALLAX
from tests.helpers.people import Constant, ParallaxEcho, evaluate_people


@pytest.fixture(scope="module")
def paper_report(paper_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The people evaluation of two stand-in models on the paper-like sample, and its report: ``<root>/metrics``,
    ``<root>/reports``."""
    from mannequin.evaluation.report import write_report

    root = tmp_path_factory.mktemp("paper-report")
    evaluate_people(paper_data, root / "metrics", {"px-2": ParallaxEcho(), "scratch-2": Constant(2.0)})
    write_report(root / "metrics", root / "reports")
    return root


def test_regions_hold_the_paper_metrics_per_clip_set(paper_data: Path, paper_report: Path) -> None:
    from mannequin.clips.clip import open_clip
    from mannequin.clips.masks import read_masks
    from mannequin.evaluation.metrics import valid_mask
    from mannequin.evaluation.testset import iter_held_out_clips

    regions = json.loads((paper_report / "metrics/people/regions.json").read_text())
    paper = regions["models"]["finetune-scratch-2"]["paper"]
    assert set(paper["moving"]) == {*PAPER_METRIC_NAMES, "num_frames"}
    assert "si_full" in regions["models"][PARALLAX]["paper"]["all"]
    # known answer: a constant prediction's errors are the truth's own log-depth spread, recomputed frame by frame
    per_frame = {"moving": [], "frozen": []}
    for clip in iter_held_out_clips(paper_data):
        masks = read_masks(open_clip(paper_data / "clips" / clip.clip_id), clip.frame_indices, clip.images.shape[2])
        for gt, human in zip(clip.depth, masks, strict=True):
            valid = valid_mask(gt, 1e-3, 10.0)
            values = paper_errors(np.full(gt.shape, 2.0), np.where(valid, gt, 1.0), valid, human)
            if (valid & human).sum() < MIN_GROUP_PIXELS:
                values = {k: v for k, v in values.items() if k in ("si_full", "si_env")}
            per_frame[regions["clips"][clip.clip_id]].append(values)
    for clip_set, frames in per_frame.items():
        for name in PAPER_METRIC_NAMES:
            want = [f[name] for f in frames if name in f]
            assert paper[clip_set][name] == pytest.approx(np.mean(want))
            assert paper[clip_set]["num_frames"][name] == len(want)


def test_the_people_tables_show_the_paper_metrics(paper_report: Path) -> None:
    md = (paper_report / "reports/summary.md").read_text()
    assert "|  | si-full | si-env | si-human | si-intra | si-inter |" in md
    section = md[md.index("### 2 labels, moving-people clips") :]
    table = section[section.index("| si-full") :].split("\n\n")[0].splitlines()
    assert [row.split(" | ")[0] for row in table[2:]] == ["| rgb (scratch)", "| rgb+parallax (px)", "| raw parallax"]
    assert all("n/a" not in row for row in table[2:4]), "\n".join(table)  # the models: every metric
    assert "n/a" not in table[4].split(" | ")[1]  # the raw parallax: si-full at least (people may have no depth)


def test_the_paper_like_sample_keeps_every_people_section(paper_report: Path) -> None:
    md = (paper_report / "reports/summary.md").read_text()
    people = md[md.index("## Where the people are") :]
    assert "### 2 labels, moving-people clips" in people and "### 2 labels, frozen-people clips" in people
    assert "si-RMSE human" in people and "Left out" not in people and "no `people` column" not in people

"""A focal length SfM refined far from its prior is noted (issue 26, item 13): clips.csv's sfm_focal_vs_prior, the
pose summary line and a warning of ``mannequin poses``."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mannequin.config.sfm import SfmParams
from mannequin.curation.sfm import SfmStats, focal_note, focal_vs_prior

MAIN = "from mannequin.cli import main; main()"


def _stats(focal: float, refined: bool = True) -> SfmStats:
    return SfmStats(frames=12, registered=12, models=1, points=900, reprojection_error_px=0.3, focal=focal,
                    seconds=1.0, method="global mapping", focal_refined=refined)  # fmt: skip


def test_the_ratio_is_per_the_larger_side_and_only_for_a_refined_focal_length() -> None:
    params = SfmParams()  # focal_prior 0.85 x the larger side
    assert focal_vs_prior(_stats(1.615), params, 160, 120) == pytest.approx(1.9)
    assert focal_vs_prior(_stats(1.0), params, 120, 160) == pytest.approx(120 / (0.85 * 160))  # portrait
    assert focal_vs_prior(_stats(1.615, refined=False), params, 160, 120) is None  # given or fixed: nothing to say


def test_a_far_focal_length_gets_a_note_and_a_near_one_none() -> None:
    params = SfmParams()
    note = focal_note(_stats(1.615), params, 160, 120)
    assert note.startswith("SfM refined the focal length to 1.90x curate.sfm.focal_prior (0.85 x the larger side)")
    assert "intrinsics.txt" in note
    assert focal_note(_stats(0.40), params, 160, 120).startswith("SfM refined the focal length to 0.47x")
    assert focal_note(_stats(1.0), params, 160, 120) == ""  # 1.18x: within focal_note_ratio 1.5
    assert focal_note(_stats(1.615), params.model_copy(update={"focal_note_ratio": 2.0}), 160, 120) == ""


@pytest.mark.slow
def test_poses_of_a_long_lens_clip_warn_and_note_it(tmp_path: Path) -> None:
    """A rendered clip filmed at focal 1.5 x width (a 37 degree lens): SfM finds it, 1.76x the 0.85 prior."""
    import re

    from mannequin.sample.dataset import render_clip, write_clip
    from mannequin.sample.plan import make_plan

    plan = next(p for p in make_plan(24, seed=0) if p.defect == "none" and p.split == "unlabeled")
    plan = replace(plan, hfov_deg=36.87, n_frames=12)
    write_clip(render_clip(plan), tmp_path)
    clip_dir = tmp_path / "clips" / plan.clip_id
    (clip_dir / "poses.txt").unlink()
    out = tmp_path / "poses.txt"
    proc = subprocess.run([sys.executable, "-c", MAIN, "poses", str(clip_dir), "--out", str(out)],
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warning = [ln for ln in proc.stderr.splitlines() if ln.startswith("mannequin: warning: ")]
    assert len(warning) == 1, proc.stderr
    ratio = float(re.search(r"SfM refined the focal length to ([0-9.]+)x", warning[0]).group(1))
    assert ratio == pytest.approx(1.5 / 0.85, rel=0.05)
    assert "NOTE: SfM refined the focal length" in out.read_text().splitlines()[0]

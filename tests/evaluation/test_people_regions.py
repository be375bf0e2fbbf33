"""Scores where the people are: known answers of the pixel groups, and the people evaluation on paper-like data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mannequin.errors import InputError
from mannequin.evaluation.examples import load_npz
from mannequin.evaluation.regions import MIN_GROUP_PIXELS, PARALLAX, RegionScores, clip_people, score_groups
from tests.helpers.people import Constant, ParallaxEcho, evaluate_people


def _gt() -> tuple[np.ndarray, np.ndarray]:
    gt = np.linspace(1.0, 5.0, 40 * 30).reshape(30, 40)
    human = np.zeros((30, 40), bool)
    human[5:25, 10:20] = True  # 200 of 1200 pixels
    return gt, human


def test_groups_known_answers() -> None:
    gt, human = _gt()
    pred = np.where(human, 2.0 * gt, gt)  # right everywhere but twice as far on the person
    out = score_groups(pred, gt, human, "none", 1e-3, 10.0)
    assert out["human"]["abs_rel"] == pytest.approx(1.0) and out["human"]["si_rmse"] == pytest.approx(0.0, abs=1e-12)
    assert out["non_human"]["abs_rel"] == pytest.approx(0.0) and out["non_human"]["si_rmse"] == pytest.approx(0.0)
    f = 200 / 1200  # all pixels: log ratio log 2 on a sixth of them, so its standard deviation is log 2 sqrt(f(1-f))
    assert out["all"]["si_rmse"] == pytest.approx(math.log(2) * math.sqrt(f * (1 - f)))
    assert out["all"]["abs_rel"] == pytest.approx(f)
    assert [out[g]["n_pixels"] for g in ("human", "non_human", "all")] == [200, 1000, 1200]
    # median alignment: a prediction 3x too far everywhere is perfect after it, on every group
    scaled = score_groups(3.0 * gt, gt, human, "median", 1e-3, 10.0)
    assert all(scaled[g]["abs_rel"] == pytest.approx(0.0, abs=1e-12) for g in scaled)


def test_missing_depth_is_not_scored_and_counted_as_coverage() -> None:
    gt, human = _gt()
    pred = np.where(human, np.nan, 7.0 * gt)  # the masked parallax: no depth on the person, pose units
    out = score_groups(pred, gt, human, "median", 1e-3, 10.0)
    assert "human" not in out  # no depth there at all
    assert out["non_human"]["coverage"] == 1.0 and out["all"]["coverage"] == pytest.approx(1000 / 1200)
    assert out["all"]["abs_rel"] == pytest.approx(0.0, abs=1e-9)
    few = human & (np.arange(40)[None, :] == 10) & (np.arange(30)[:, None] < 5 + MIN_GROUP_PIXELS - 1)
    assert "human" not in score_groups(gt, gt, few, "none", 1e-3, 10.0)  # under MIN_GROUP_PIXELS: left out
    assert score_groups(np.full_like(gt, np.nan), gt, human, "median", 1e-3, 10.0) == {}


def test_scores_average_per_image_by_clip_set() -> None:
    gt, human = _gt()
    r = RegionScores("m", "rgb", "none")
    r.add("moving", score_groups(np.where(human, 2.0 * gt, gt), gt, human, "none", 1e-3, 10.0))
    r.add("frozen", score_groups(gt, gt, human, "none", 1e-3, 10.0))
    r.add(None, score_groups(gt, gt, None, "none", 1e-3, 10.0))  # unknown kind, nobody masked
    s = r.summary()["clip_sets"]
    assert s["moving"]["human"]["abs_rel"] == pytest.approx(1.0) and s["frozen"]["human"]["abs_rel"] == 0.0
    assert s["all"]["human"]["num_frames"] == 2 and s["all"]["all"]["num_frames"] == 3
    assert s["all"]["human"]["abs_rel"] == pytest.approx(0.5)


def test_clip_people_reads_the_truth_column(tmp_path: Path) -> None:
    assert clip_people(tmp_path) == {}
    (tmp_path / "sample_truth.csv").write_text("clip_id,defect,pose_scale\na,none,1.0\n")
    assert clip_people(tmp_path) == {}
    (tmp_path / "sample_truth.csv").write_text("clip_id,defect,pose_scale,people\na,none,1.0,moving\nb,none,2,frozen\n")
    assert clip_people(tmp_path) == {"a": "moving", "b": "frozen"}
    (tmp_path / "sample_truth.csv").write_text("clip_id,defect,pose_scale,people\na,none,1.0,dancing\n")
    with pytest.raises(InputError, match="line 2: people must be moving or frozen"):
        clip_people(tmp_path)


def test_people_evaluation_on_paper_like_data(paper_data: Path, tmp_path: Path) -> None:
    from mannequin.clips.clip import open_clip
    from mannequin.clips.masks import read_masks

    echo = ParallaxEcho()
    evaluate_people(paper_data, tmp_path / "one" / "metrics", {"px-2": echo, "scratch-2": Constant(2.0)})
    regions = json.loads((tmp_path / "one/metrics/people/regions.json").read_text())
    assert set(regions["clips"].values()) == {"moving", "frozen"}
    models = regions["models"]
    assert set(models) == {"finetune-px-2", "finetune-scratch-2", PARALLAX}
    assert models["finetune-px-2"]["inputs"] == "rgb+parallax" and models["finetune-scratch-2"]["inputs"] == "rgb"
    assert models[PARALLAX]["alignment"] == "median"
    for clip_set in ("moving", "frozen", "all"):
        assert set(models["finetune-scratch-2"]["clip_sets"][clip_set]) == {"human", "non_human", "all"}
    # the raw parallax is unmasked: it has depth on the people too, but not everywhere (occlusions, no texture)
    raw = models[PARALLAX]["clip_sets"]["all"]
    assert 0 < raw["human"]["coverage"] <= 1 and 0 < raw["all"]["coverage"] < 1
    # the model's input is masked: its mask channel is the clip's masks, parallax and confidence 0 inside
    test_ids = sorted(regions["clips"])
    for clip_id, channels in zip(test_ids, echo.seen, strict=True):
        clip = open_clip(paper_data / "clips" / clip_id)
        masks = read_masks(clip)
        assert masks is not None and masks.any()
        np.testing.assert_array_equal(channels[..., 2] > 0, masks)
        assert not channels[..., 0][masks].any() and not channels[..., 1][masks].any()
    frame = load_npz(tmp_path / "one/metrics/people/frame.npz")
    assert regions["clips"][str(frame["clip_id"])] == "moving" and frame["mask"].any()
    assert list(frame["models"]) == ["finetune-px-2", "finetune-scratch-2"]
    assert frame["predictions"].shape == (2, 48, 64) and np.isnan(frame["parallax"][frame["mask"]]).all()
    # byte-identical on a second run
    evaluate_people(paper_data, tmp_path / "two" / "metrics", {"px-2": ParallaxEcho(), "scratch-2": Constant(2.0)})
    for name in ("regions.json", "frame.npz"):
        assert (tmp_path / "one/metrics/people" / name).read_bytes() == (
            tmp_path / "two/metrics/people" / name
        ).read_bytes()


def test_an_rgb_parallax_model_without_the_people_evaluation_is_an_error(paper_data: Path, tmp_path: Path) -> None:
    from mannequin.evaluation.evaluate import evaluate_dirs

    with pytest.raises(ValueError, match="takes rgb\\+parallax, but no parallax input"):
        evaluate_dirs(
            [tmp_path / "models/finetune/px-2"],
            paper_data,
            tmp_path / "metrics",
            alignment={},
            min_depth=1e-3,
            max_depth=10.0,
            loader=lambda d: ParallaxEcho(),
        )


def test_rgb_parallax_models_read_the_stored_input(paper_data: Path, tmp_path: Path) -> None:
    """Where the parallax stage stored a test clip's input, that is what an rgb+parallax model sees."""
    from dataclasses import replace

    from mannequin.clips.clip import open_clip
    from mannequin.curation.parallax import clip_parallax
    from mannequin.curation.parallax_store import write_parallax

    test_ids = sorted(clip_people(paper_data))  # every clip of the sample
    first = next(c for c in test_ids if (paper_data / "depth" / c).is_dir() and "test" in _split(paper_data, c))
    clip = open_clip(paper_data / "clips" / first)
    images, cameras = clip.read_frames()
    inputs = clip_parallax(images, cameras, None)
    marked = replace(inputs, parallax=np.full_like(inputs.parallax, 0.125), frames=np.arange(len(clip)))
    write_parallax(tmp_path / "store", first, marked)
    echo = ParallaxEcho()
    evaluate_people(paper_data, tmp_path / "metrics", {"px-2": echo}, parallax_store=tmp_path / "store")
    seen = dict(zip(sorted(c for c in test_ids if "test" in _split(paper_data, c)), echo.seen, strict=True))
    assert np.all(seen[first][..., 0] == 0.125)
    assert not all(np.all(v[..., 0] == 0.125) for k, v in seen.items() if k != first)


def _split(data: Path, clip_id: str) -> str:
    from mannequin.clips.splits import read_splits

    return read_splits(data)[clip_id]

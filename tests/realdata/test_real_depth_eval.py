"""Every model on the real clips, median-aligned, beside a constant depth and the raw parallax input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mannequin.config import load_params
from mannequin.evaluation.baselines import CONSTANT, PARALLAX
from mannequin.evaluation.real_depth import load_real_clip
from mannequin.evaluation.real_depth_report import RESULTS_MARKERS, real_depth_section, update_results_page, verdicts
from mannequin.stages.real_depth import run, run_data


class Constant:
    """An rgb stand-in that predicts 3 m everywhere."""

    def __init__(self) -> None:
        self.meta = {"kind": "finetune", "init": "scratch", "budget": 2}

    def predict(self, images: np.ndarray) -> np.ndarray:
        assert images.dtype == np.uint8 and images.shape[-1] == 3
        return np.full(images.shape[:3], 3.0, np.float32)


class ParallaxEcho:
    """An rgb+parallax stand-in that predicts the depth its parallax channel holds (2 where it has none)."""

    inputs = "rgb+parallax"

    def __init__(self) -> None:
        self.meta = {"kind": "finetune", "init": "mvs-parallax", "budget": 2, "inputs": "rgb+parallax"}
        self.seen: list[tuple[int, ...]] = []

    def predict(self, images: np.ndarray, parallax: np.ndarray | None = None) -> np.ndarray:
        assert parallax is not None
        self.seen.append(parallax.shape)
        return np.where(parallax[..., 1] > 0, np.exp(parallax[..., 0]), 2.0).astype(np.float32)


@pytest.fixture(scope="module")
def motorcycle_params(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("real-depth")
    params = load_params(
        None,
        {"real_depth.data": str(root / "data"), "real_depth.out": str(root / "out"), "real_depth.sweep_width": 120,
         "curate.mvs.planes": 24, "curate.masks.parallax_planes": 24},
    )  # fmt: skip
    run_data(params, ("motorcycle",))
    return params


def test_the_pair_is_scored_with_the_right_view_as_the_parallax_source(motorcycle_params, tmp_path: Path) -> None:
    p = motorcycle_params.real_depth
    echo = ParallaxEcho()
    models = {"scratch-2": Constant(), "mvs-parallax-2": echo}
    dirs = [tmp_path / "models" / "finetune" / name for name in models]
    result = run(motorcycle_params, dirs, loader=lambda d: models[d.name])
    rows = result["clips"]["motorcycle"]["rows"]
    assert set(rows) == {CONSTANT, PARALLAX, "finetune-scratch-2", "finetune-mvs-parallax-2"}
    # a constant model, median-aligned, is the constant baseline: same numbers
    for m in ("abs_rel", "si_rmse", "a1"):
        assert rows["finetune-scratch-2"][m] == pytest.approx(rows[CONSTANT][m])
    assert rows[CONSTANT]["si_rmse"] > 0.1 and rows[CONSTANT]["frames"] == 1
    # the raw parallax of the calibrated pair is real depth: far better than a constant where it has depth
    raw = rows[PARALLAX]
    assert 0.3 < raw["coverage"] <= 1.0 and raw["abs_rel"] < 0.5 * rows[CONSTANT]["abs_rel"]
    assert echo.seen == [(1, 500, 741, 3)]  # the left view only, at its size, with the parallax channels
    assert rows["finetune-mvs-parallax-2"]["inputs"] == "rgb+parallax"
    assert rows["finetune-mvs-parallax-2"]["abs_rel"] < rows[CONSTANT]["abs_rel"]
    assert json.loads((Path(p.out) / "real_depth.json").read_text()) == result
    clip = load_real_clip(Path(p.data), "motorcycle", _poses(motorcycle_params), _mvs(motorcycle_params), 120, "cpu")
    assert clip.parallax.source.tolist() == [1]  # frame 0 (left, with depth) swept against frame 1 (right)


def _poses(params):
    from mannequin.curation.sfm_store import PoseSource

    return PoseSource("auto", params.curate.sfm, None)


def _mvs(params):
    from mannequin.curation.parallax import sweep_params

    return sweep_params(params.curate.mvs, params.curate.masks)


def _result(constant: float, rgb: float, both: float, raw: float) -> dict:
    def row(kind: str, inputs: str, value: float, **extra) -> dict:
        return {"kind": kind, "inputs": inputs, "abs_rel": value, "si_rmse": value, "a1": 0.5, "frames": 3, **extra}

    rows = {
        CONSTANT: row("baseline", "", constant),
        PARALLAX: row("baseline", "parallax", raw, coverage=0.6),
        "finetune-mvs-8": row("finetune", "rgb", rgb, init="mvs", budget=8),
        "finetune-scratch-8": row("finetune", "rgb", rgb + 0.01, init="scratch", budget=8),
        "finetune-mvs-parallax-8": row("finetune", "rgb+parallax", both, init="mvs-parallax", budget=8),
    }
    clip = {"frames": 3, "size": [64, 48], "poses": "poses.txt", "source": {}, "rows": rows}
    return {"alignment": "median", "clips": {"c": clip}, "skipped": {"castel": "not installed"}}


def test_verdicts_say_when_the_rgb_models_are_no_better_than_a_constant() -> None:
    said = verdicts(_result(constant=0.20, rgb=0.25, both=0.10, raw=0.15)["clips"]["c"]["rows"])
    assert (
        said[0]
        == "The best rgb model (`finetune-mvs-8`, abs_rel 0.2500) is **no better** than a constant depth (0.2000)."
    )
    assert said[1].startswith("The best rgb+parallax model (`finetune-mvs-parallax-8`, abs_rel 0.1000) is **better**")
    assert "better than its raw parallax input (0.1500, on the 60% of pixels where it has depth)" in said[1]
    said = verdicts(_result(constant=0.20, rgb=0.15, both=0.18, raw=0.12)["clips"]["c"]["rows"])
    assert "**better** than a constant depth" in said[0] and "no better than its raw parallax input" in said[1]


def test_section_and_results_page_come_from_the_same_result(tmp_path: Path) -> None:
    result = _result(constant=0.20, rgb=0.25, both=0.10, raw=0.15)
    md = real_depth_section(result)
    assert md.startswith("## Real depth\n") and "`make real-depth`" in md
    assert "| constant depth (baseline) |  | 0.2000 | 0.2000 | 0.5000 | 3 |" in md
    assert md.index("constant depth") < md.index("raw parallax input (60% of px)") < md.index("`finetune-scratch-8`")
    assert md.index("`finetune-scratch-8`") < md.index("`finetune-mvs-8`")  # scratch first, as in the whole report
    assert "castel: not evaluated: not installed." in md
    page = tmp_path / "results.md"
    start, end = RESULTS_MARKERS
    page.write_text(f"# title\n\n{start}\nold\n{end}\n\nafter\n")
    update_results_page(page, result)
    text = page.read_text()
    assert "old" not in text and text.endswith(f"{end}\n\nafter\n") and "### c: 3 frames of 64x48" in text
    assert "| constant depth (baseline) |  | 0.2000 |" in text

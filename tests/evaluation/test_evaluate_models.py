"""``evaluate_dirs`` with stand-in predictors on real (tiny) clips, videos and depth PNGs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mannequin.errors import InputError
from mannequin.evaluation.evaluate import evaluate_dirs, find_model_dirs, model_info
from mannequin.evaluation.examples import load_npz

W, H = 32, 24


def make_models(root: Path) -> dict[Path, dict]:
    dirs = {
        root / "finetune" / "scratch-4": {"kind": "finetune", "init": "scratch", "budget": 4},
        root / "pretrain" / "mvs": {"kind": "pretrain", "objective": "mvs"},
    }
    for d, meta in dirs.items():
        d.mkdir(parents=True)
        (d / "model.json").write_text(json.dumps(meta))
    return dirs


def run(eval_data: Path, tmp_path: Path, constant_predictor, out: str = "metrics") -> dict:
    metas = make_models(tmp_path / out / "models")
    values = {"finetune": 2.0, "pretrain": 7.0}

    def loader(model_dir: Path):
        meta = metas[model_dir]
        return constant_predictor(values[meta["kind"]], meta)

    return evaluate_dirs(
        find_model_dirs(tmp_path / out / "models"),
        eval_data,
        tmp_path / out,
        alignment={"finetune": "none", "pretrain": "median"},
        min_depth=1e-3,
        max_depth=10.0,
        batch_size=2,
        examples=2,
        loader=loader,
    )


def test_evaluate_writes_the_expected_metrics(eval_data, tmp_path, constant_predictor):
    results = run(eval_data, tmp_path, constant_predictor)
    assert sorted(results) == ["finetune-scratch-4", "pretrain-mvs"]
    ft = json.loads((tmp_path / "metrics/finetune-scratch-4.json").read_text())
    assert ft == results["finetune-scratch-4"]
    assert ft["model"] == {"name": "finetune-scratch-4", "kind": "finetune", "init": "scratch", "budget": 4,
                           "objective": None}  # fmt: skip
    assert ft["alignment"] == "none" and ft["averaging"] == "per_image"
    # frames: clip_a/0 (1 m, 4 rows without reading), clip_a/2 (4 m, 2 rows beyond the cap), clip_b/1 (2 m);
    # clip_a/4 has no reading at all (skipped); clip_c has no depth; clip_l is not a test clip
    assert (ft["num_clips"], ft["num_frames"], ft["num_frames_skipped"]) == (2, 3, 1)
    assert ft["num_pixels"] == (H - 4) * W + (H - 2) * W + H * W
    # a constant 2 m prediction: abs_rel 1, 0.5, 0 per image; rmse 1, 2, 0; a1 0, 0, 1
    assert ft["metrics"]["abs_rel"] == pytest.approx(0.5)
    assert ft["metrics"]["rmse"] == pytest.approx(1.0)
    assert ft["metrics"]["a1"] == pytest.approx(1 / 3)
    assert ft["metrics"]["si_rmse"] == pytest.approx(0.0, abs=1e-6)  # constant ratio within each image
    assert ft["clips"]["clip_a"]["metrics"]["abs_rel"] == pytest.approx(0.75)
    assert ft["clips"]["clip_a"]["num_frames"] == 2
    assert ft["clips"]["clip_b"]["metrics"]["abs_rel"] == pytest.approx(0.0)
    assert "clip_c" not in ft["clips"] and "clip_l" not in ft["clips"]
    pt = results["pretrain-mvs"]
    assert pt["alignment"] == "median"
    assert pt["metrics"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)  # median scaling fixes a constant
    assert pt["alignment_scale_median"] == pytest.approx(2.0 / 7.0)  # scales 1/7, 4/7, 2/7
    text = (tmp_path / "metrics/pretrain-mvs.json").read_text()
    assert str(tmp_path) not in text and "time" not in text


def test_evaluate_saves_examples(eval_data, tmp_path, constant_predictor):
    run(eval_data, tmp_path, constant_predictor)
    frames = load_npz(tmp_path / "metrics/examples/frames.npz")
    assert frames["clip_ids"].tolist() == ["clip_a", "clip_b"]
    assert frames["frame_indices"].tolist() == [2, 1]  # the middle frame with depth of each clip
    assert frames["images"].shape == (2, H, W, 3) and frames["images"].dtype == np.uint8
    assert np.nanmax(frames["depth"][0]) == pytest.approx(20.0) and frames["depth"][1].mean() == pytest.approx(2.0)
    assert np.isnan(frames["mvs"]).all()  # no curated shard
    ft = load_npz(tmp_path / "metrics/examples/finetune-scratch-4.npz")["depth"]
    pt = load_npz(tmp_path / "metrics/examples/pretrain-mvs.npz")["depth"]
    assert ft.shape == pt.shape == (2, H, W)
    assert np.allclose(ft, 2.0) and np.allclose(pt[0], 4.0) and np.allclose(pt[1], 2.0)  # median-aligned


def test_evaluate_output_is_byte_identical_on_rerun(eval_data, tmp_path, constant_predictor):
    run(eval_data, tmp_path, constant_predictor, out="one")
    run(eval_data, tmp_path, constant_predictor, out="two")
    one = {
        p.relative_to(tmp_path / "one"): p.read_bytes()
        for p in (tmp_path / "one").rglob("*.*")
        if "models" not in p.parts
    }
    two = {
        p.relative_to(tmp_path / "two"): p.read_bytes()
        for p in (tmp_path / "two").rglob("*.*")
        if "models" not in p.parts
    }
    assert len(one) == 5 and one == two


def test_model_names_and_discovery(tmp_path):
    info = model_info(tmp_path / "finetune" / "mvs-uncurated-16", {"kind": "finetune"})
    assert (info.name, info.kind, info.init, info.budget, info.objective) == (
        "finetune-mvs-uncurated-16", "finetune", "mvs-uncurated", 16, None)  # fmt: skip
    assert model_info(tmp_path / "pretrain" / "mvs", {}).name == "pretrain-mvs"
    make_models(tmp_path / "models")
    (tmp_path / "models/finetune/.tmp-x").mkdir()
    (tmp_path / "models/finetune/.tmp-x/model.json").write_text("{}")
    found = [p.relative_to(tmp_path / "models").as_posix() for p in find_model_dirs(tmp_path / "models")]
    assert found == ["finetune/scratch-4", "pretrain/mvs"]
    with pytest.raises(InputError, match="no such models directory"):
        find_model_dirs(tmp_path / "nowhere")


def test_depth_png_for_a_frame_the_clip_lacks_is_an_input_error(eval_data, tmp_path, constant_predictor):
    from mannequin.clips.depth_png import write_depth_png

    write_depth_png(eval_data / "depth/clip_b/000009.png", np.ones((H, W)))
    with pytest.raises(InputError, match=r"000009\.png: no frame 9"):
        run(eval_data, tmp_path, constant_predictor)


def test_nan_prediction_names_model_clip_and_frame(eval_data, tmp_path, constant_predictor):
    with pytest.raises(ValueError, match=r"finetune-scratch-4 on clip_a frame 0: prediction has"):
        evaluate_dirs(
            [tmp_path / "finetune" / "scratch-4"],
            eval_data,
            tmp_path / "metrics",
            alignment={},
            min_depth=1e-3,
            max_depth=10.0,
            loader=lambda d: constant_predictor(float("nan"), {"kind": "finetune"}),
        )


def test_example_mvs_fills_frames_without_a_curated_target(eval_data, tmp_path, constant_predictor):
    from mannequin.evaluation.evaluate import ModelInfo, ModelRun, evaluate_models
    from mannequin.evaluation.testset import iter_held_out_clips

    asked = []

    def fake_mvs(clip_id: str, frame_index: int) -> np.ndarray:
        asked.append((clip_id, frame_index))
        return np.full((H // 2, W // 2), 5.0, dtype=np.float32)  # curation resolution: half size

    run_ = ModelRun(ModelInfo("finetune-scratch-4", "finetune"), constant_predictor(2.0, {}), "none")
    _, ex = evaluate_models([run_], iter_held_out_clips(eval_data), min_depth=1e-3, max_depth=10.0, examples=1,
                            example_mvs=fake_mvs)  # fmt: skip
    assert asked == [("clip_a", 2)]
    assert ex["mvs"].shape == (1, H, W) and np.all(ex["mvs"] == 5.0)


def test_computed_mvs_runs_the_real_plane_sweep(eval_data):
    from mannequin.config.curate import CurateParams
    from mannequin.evaluation.examples import computed_mvs

    depth = computed_mvs(eval_data, "clip_a", 2, CurateParams())
    assert depth.shape == (H, W) and depth.dtype == np.float32  # flat grey frames: little or no confident depth

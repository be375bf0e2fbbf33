"""The target gap: a pretrained model against the MVS depth of its own held-out curated clips (known answers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mannequin.evaluation.evaluate import evaluate_dirs
from mannequin.evaluation.target_gap import target_gap

H, W = 6, 8


def write_shard(curated: Path, clip_id: str, depth: np.ndarray, parallax: bool = False) -> None:
    """A curated shard on disk: frames, MVS depth (NaN where unconfident), and the parallax input if asked."""
    d = curated / "shards" / clip_id
    d.mkdir(parents=True)
    n = len(depth)
    np.save(d / "images.npy", np.full((n, H, W, 3), 100, np.uint8))
    np.save(d / "depth.npy", depth.astype(np.float32))
    np.save(d / "confidence.npy", np.isfinite(depth).astype(np.float32))
    if parallax:
        np.save(d / "parallax.npy", np.full((n, H, W, 3), 0.5, np.float16))
    meta = {"clip_id": clip_id, "num_frames": n, **({"parallax": {}} if parallax else {})}
    (d / "meta.json").write_text(json.dumps(meta))


def two_level_depth(n: int = 2) -> np.ndarray:
    """Half the confident pixels at 1, half at 3 (pose units), the last row unconfident."""
    depth = np.ones((n, H, W), np.float32)
    depth[:, :, W // 2 :] = 3.0
    depth[:, -1] = np.nan
    return depth


class Predictor:
    """Predicts ``fn(images)``; records the parallax input it was given."""

    def __init__(self, fn, meta: dict, needs_parallax: bool = False) -> None:
        self.fn, self.meta, self.needs_parallax, self.seen = fn, meta, needs_parallax, []

    def predict(self, images: np.ndarray, parallax: np.ndarray | None = None) -> np.ndarray:
        self.seen.append(parallax)
        return self.fn(images)


def test_a_model_that_equals_its_targets_up_to_scale_has_no_gap(tmp_path):
    write_shard(tmp_path, "clip_v", two_level_depth())
    exact = two_level_depth()
    pred = Predictor(lambda im: np.nan_to_num(exact[: len(im)], nan=5.0) * 7.0, {"val_clips": ["clip_v"]})
    gap = target_gap(pred, tmp_path)
    assert gap == {"abs_rel": pytest.approx(0.0, abs=1e-6), "num_clips": 1, "num_frames": 2}


def test_a_flat_model_scores_the_closed_form_gap_on_confident_pixels_only(tmp_path):
    write_shard(tmp_path, "clip_v", two_level_depth(3))
    write_shard(tmp_path, "clip_train", np.full((2, H, W), 9.0))  # trained on: not scored
    pred = Predictor(lambda im: np.ones(im.shape[:3], np.float32), {"val_clips": ["clip_v"]})
    gap = target_gap(pred, tmp_path, batch_size=2)
    # median of {1, 3} (equal halves) is 2: |2-1|/1 and |2-3|/3 averaged
    assert gap["abs_rel"] == pytest.approx((1.0 + 1.0 / 3.0) / 2.0, rel=1e-5)
    assert (gap["num_clips"], gap["num_frames"]) == (1, 3)


def test_an_rgb_parallax_model_reads_the_shards_parallax_input(tmp_path):
    write_shard(tmp_path, "clip_v", two_level_depth(), parallax=True)
    pred = Predictor(lambda im: np.ones(im.shape[:3]), {"val_clips": ["clip_v"]}, needs_parallax=True)
    assert target_gap(pred, tmp_path) is not None
    assert pred.seen[0].shape == (2, H, W, 3) and pred.seen[0].dtype == np.float32


@pytest.mark.parametrize("meta", [{}, {"val_clips": []}, {"val_clips": ["clip_elsewhere"]}])
def test_no_held_out_shard_is_no_gap(tmp_path, meta):
    write_shard(tmp_path, "clip_v", two_level_depth())
    assert target_gap(Predictor(lambda im: np.ones(im.shape[:3]), meta), tmp_path) is None


def test_evaluate_gives_pretrained_models_their_gap_and_fine_tuned_ones_none(eval_data, tmp_path):
    curated = tmp_path / "curated"
    write_shard(curated, "clip_v", two_level_depth())
    metas = {
        tmp_path / "m" / "pretrain" / "mvs": {"kind": "pretrain", "objective": "mvs", "val_clips": ["clip_v"]},
        tmp_path / "m" / "finetune" / "mvs-2": {"kind": "finetune", "init": "mvs", "budget": 2,
                                                "val_clips": ["clip_v"]},
    }  # fmt: skip
    for d, meta in metas.items():
        d.mkdir(parents=True)
        (d / "model.json").write_text(json.dumps(meta))

    def loader(model_dir: Path) -> Predictor:
        return Predictor(lambda im: np.ones(im.shape[:3], np.float32), metas[model_dir])

    results = evaluate_dirs(
        list(metas), eval_data, tmp_path / "metrics", alignment={"finetune": "none", "pretrain": "median"},
        min_depth=1e-3, max_depth=10.0, batch_size=2, examples=0, curated_dir=curated, loader=loader,
    )  # fmt: skip
    assert results["pretrain-mvs"]["target_gap"]["abs_rel"] == pytest.approx(2.0 / 3.0, rel=1e-5)
    assert "target_gap" not in results["finetune-mvs-2"]
    written = json.loads((tmp_path / "metrics" / "pretrain-mvs.json").read_text())
    assert written["target_gap"] == results["pretrain-mvs"]["target_gap"]


def test_the_report_gives_the_target_gap_beside_the_test_score():
    from mannequin.evaluation.markdown import render_markdown
    from mannequin.evaluation.metrics import DEPTH_METRICS
    from mannequin.evaluation.summary import build_summary, metrics_view

    metrics = {m.name: 0.5 for m in DEPTH_METRICS}

    def result(name: str, gap: float | None) -> dict:
        r = {"model": {"name": name, "kind": "pretrain", "objective": name}, "alignment": "median",
             "metrics": metrics}  # fmt: skip
        return {**r, "target_gap": {"abs_rel": gap, "num_clips": 2, "num_frames": 9}} if gap is not None else r

    summary = build_summary({"pretrain-mvs": result("mvs", 0.1234), "pretrain-old": result("old", None)})
    assert summary["models"]["pretrain-mvs"]["target_gap"] == 0.1234
    assert metrics_view(summary)["models"]["pretrain-mvs"]["target_gap"] == 0.1234
    md = render_markdown(summary, None, 0.2)
    table = md.split("## Pretrained-only models")[1].split("\n\n## ")[0]
    header = next(line for line in table.splitlines() if line.startswith("| model"))
    column = header.split(" | ").index("target gap")
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in table.splitlines()[4:] if "|" in line}
    assert rows["pretrain-mvs"][column] == "0.1234" and rows["pretrain-old"][column] == "n/a"

"""Fine-tuning that uses its labels: steps follow the budget, the exported weights are chosen on the held-out
labelled frames (the start included), and model.json says how far the weights moved."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mannequin.config.learning import FinetuneParams
from mannequin.learning.predict import DepthPredictor
from mannequin.learning.selection import choose_weights, weights_moved
from mannequin.stages.finetune import run as run_finetune
from mannequin.stages.pretrain import run as run_pretrain
from tests.helpers.learning import tiny_params


@pytest.mark.parametrize(
    ("epochs", "budget", "expected"),
    [(0.0, 32, 60), (40.0, 2, 60), (40.0, 8, 80), (40.0, 32, 300), (10.0, 7, 60), (100.0, 9, 225)],
)
def test_steps_follow_the_budget_between_the_floor_and_the_ceiling(epochs, budget, expected):
    f = FinetuneParams.model_validate({"epochs": epochs, "min_steps": 60, "batch_size": 4,
                                       "trainer": {"max_steps": 300 if budget != 9 else -1}})  # fmt: skip
    assert f.steps_for(budget) == (expected if epochs else f.trainer.max_steps)


def test_weights_moved_is_the_relative_distance_per_part():
    start = {"encoder.w": torch.full((4,), 2.0), "decoder.w": torch.ones(3), "encoder.n": torch.tensor(3)}
    now = {"encoder.w": torch.full((4,), 2.2), "decoder.w": torch.ones(3), "encoder.n": torch.tensor(7)}
    moved = weights_moved(start, now)
    assert moved["encoder"] == pytest.approx(0.1) and moved["decoder"] == 0.0  # integer buffers are not weights


def test_choose_weights_keeps_the_best_and_the_earliest_of_a_tie():
    net = torch.nn.Linear(1, 1, bias=False)
    states = [(s, {"weight": torch.tensor([[float(w)]])}) for s, w in [(0, 3.0), (20, 1.0), (40, 1.0), (60, 2.0)]]
    step, scores = choose_weights(net, states, lambda: abs(float(net.weight.detach())))
    assert step == 20 and float(net.weight) == 1.0
    assert scores == {0: 3.0, 20: 1.0, 40: 1.0, 60: 2.0}
    with pytest.raises(ValueError, match="no weights"):
        choose_weights(net, [], lambda: 0.0)


def _params(tmp: Path, data: dict[str, Path], **extra: object):
    paths = {"pretrain.curated": str(data["curated"]), "pretrain.data": str(data["data"]),
             "finetune.data": str(data["data"])}  # fmt: skip
    return tiny_params(tmp, **paths, **extra)


def test_the_exported_weights_are_the_best_on_the_held_out_frames(tmp_path: Path, learning_data) -> None:
    params = _params(tmp_path, learning_data, **{
        "pretrain.trainer.max_steps": 4, "finetune.trainer.max_steps": 6, "finetune.val_frames": 2,
        "finetune.lr": 0.05, "finetune.pretrained_lr_scale": 1.0,
    })  # fmt: skip
    run_pretrain(params, "mvs")
    result = run_finetune(params, "mvs", 2)
    sel = DepthPredictor.load(result.out_dir).meta["selection"]
    assert sel["final_step"] == 6 and "0" in sel["val_scores"] and "6" in sel["val_scores"]
    best = min(sel["val_scores"].values())
    assert sel["val_scores"][str(sel["chosen_step"])] == best
    # the exported model scores on the held-out frames what the chosen candidate scored
    assert result.metrics["val"]["abs_rel"] == pytest.approx(best, rel=1e-4)
    assert set(sel["moved"]) == {"encoder", "decoder"} and sel["moved_final"]["encoder"] > 0
    if sel["chosen_step"] == 0:
        assert sel["moved"] == {"encoder": 0.0, "decoder": 0.0}
    # a rerun resumes at the end and chooses the same weights
    again = run_finetune(params, "mvs", 2)
    assert DepthPredictor.load(again.out_dir).meta["selection"] == sel


def test_select_last_exports_the_final_weights_and_steps_follow_the_budget(tmp_path: Path, learning_data) -> None:
    params = _params(tmp_path, learning_data, **{
        "finetune.select": "last", "finetune.epochs": 6.0, "finetune.min_steps": 2, "finetune.batch_size": 2,
        "finetune.trainer.max_steps": 50,
    })  # fmt: skip
    result = run_finetune(params, "scratch", 3)
    meta = DepthPredictor.load(result.out_dir).meta
    assert result.steps == 9 == meta["steps"]  # ceil(6 x 3 / 2)
    assert "selection" not in meta
    assert len(meta["label_aspects"]) == 1 and meta["label_aspects"][0] > 0  # the labelled frames' shape


def test_random_weights_are_no_candidate_for_a_fine_tune_from_scratch(tmp_path: Path, learning_data) -> None:
    params = _params(tmp_path, learning_data, **{"finetune.trainer.max_steps": 4, "finetune.val_frames": 2})
    sel = DepthPredictor.load(run_finetune(params, "scratch", 2).out_dir).meta["selection"]
    assert "0" not in sel["val_scores"] and sel["chosen_step"] > 0 and sel["moved"]["encoder"] > 0

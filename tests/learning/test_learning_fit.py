"""Real Lightning fits on tiny data (CPU): losses go down, resume continues, exports load, CLI errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from typer.testing import CliRunner

from mannequin.config import Params
from mannequin.config.learning import AugmentParams, FinetuneParams, NetParams, PretrainParams
from mannequin.learning.data import PretrainDataModule, ShardFrames
from mannequin.learning.fit import build_trainer, score
from mannequin.learning.modules import FinetuneModule, PretrainModule
from mannequin.learning.predict import DepthPredictor
from mannequin.stages.finetune import run as run_finetune
from mannequin.stages.pretrain import run as run_pretrain
from tests.helpers.learning import tiny_params


def _params(tmp: Path, data: dict[str, Path], **extra: object):
    paths = {
        "pretrain.curated": str(data["curated"]),
        "pretrain.data": str(data["data"]),
        "finetune.data": str(data["data"]),
    }
    return tiny_params(tmp, **paths, **extra)


def _moved(params: Params, out: Path, runs: Path) -> Params:
    """The same params with the pretraining output and run folders elsewhere (what --out and --runs set)."""
    pretrain = params.pretrain.model_copy(update={"out": str(out), "runs": str(runs)})
    return params.model_copy(update={"pretrain": pretrain})


@pytest.mark.parametrize("objective", ["mvs", "masked", "contrastive"])
def test_fit_lowers_the_loss(objective: str, tmp_path: Path, learning_data: dict[str, Path]) -> None:
    pl.seed_everything(0, verbose=False)
    no_augment = AugmentParams(flip_p=0.0, jitter=0.0, channel_shuffle=False, grayscale_p=0.0)
    # contrastive at the default lr: at 5e-3 its embedding often stays at chance (loss ln 5) after 30 steps,
    # whatever the loader (seeds 0-3: 2 of 4 failed with torch's shuffling, 4 of 4 with the seeded sampler);
    # at 2e-3 all 4 learned (loss ratio 0.13-0.29)
    lr = 2e-3 if objective == "contrastive" else 5e-3
    module = PretrainModule(PretrainParams(net=NetParams(width=8, depth=3), lr=lr, augment=no_augment), [objective])
    dm = PretrainDataModule(learning_data["curated"], learning_data["data"], (32, 24), 6, 0.0, 0, module.needs_pairs)
    fixed = ShardFrames(dm.train_set.paths, dm.clip_labels, (32, 24), module.needs_pairs, random_pairs=False)
    before = score(module, fixed, len(fixed), seed=0)["loss"]
    tp = _params(tmp_path, learning_data).pretrain.trainer.model_copy(update={"max_steps": 30})
    build_trainer(tp, tmp_path / "run", "train/loss", progress=False).fit(module, datamodule=dm)
    after = score(module, fixed, len(fixed), seed=0)["loss"]
    assert after < 0.8 * before, (objective, before, after)


class _CrashAt(pl.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        if trainer.global_step == self.step:
            raise RuntimeError("simulated interruption")


class _CountSteps(pl.Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_train_batch_end(self, *args) -> None:  # type: ignore[no-untyped-def]
        self.batches += 1


def test_resume_from_last_ckpt_continues_the_step_count(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    params = _params(tmp_path, learning_data, **{"pretrain.trainer.max_steps": 6,
                                                 "pretrain.trainer.checkpoint_every_n_steps": 2})  # fmt: skip
    with pytest.raises(RuntimeError, match="simulated"):
        run_pretrain(params, "mvs", callbacks=[_CrashAt(5)])
    run_dir = tmp_path / "runs" / "pretrain-mvs"
    assert torch.load(run_dir / "last.ckpt", weights_only=True)["global_step"] == 4  # resume loads it the same safe way
    counter = _CountSteps()
    result = run_pretrain(params, "mvs", callbacks=[counter])
    assert result.resumed and result.steps == 6 and counter.batches == 2
    # different params: the stored digest no longer matches, so training starts afresh
    changed = _params(tmp_path, learning_data, **{"pretrain.trainer.max_steps": 3})
    counter = _CountSteps()
    fresh = run_pretrain(changed, "mvs", callbacks=[counter])
    assert not fresh.resumed and fresh.steps == 3 and counter.batches == 3


def test_a_step_factor_gives_one_run_more_steps(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    """``pretrain.step_factors`` multiplies one run's steps, and only that run's."""
    params = _params(tmp_path, learning_data, **{"pretrain.trainer.max_steps": 3, "pretrain.step_factors": {"mvs": 2}})
    counter = _CountSteps()
    longer = run_pretrain(params, "mvs", callbacks=[counter])
    assert longer.steps == 6 and counter.batches == 6
    counter = _CountSteps()
    other = run_pretrain(params, "masked", callbacks=[counter])
    assert other.steps == 3 and counter.batches == 3


def test_rerunning_a_finished_run_changes_nothing(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    """The last periodic checkpoint (step 4) is before the end (step 5): a re-run must not redo steps 5."""
    params = _params(tmp_path, learning_data, **{"pretrain.trainer.max_steps": 5,
                                                 "pretrain.trainer.checkpoint_every_n_steps": 2})  # fmt: skip
    first = run_pretrain(params, "mvs")
    before = {n: (first.out_dir / n).read_bytes() for n in ("model.pt", "model.json", "metrics.json")}
    counter = _CountSteps()
    again = run_pretrain(params, "mvs", callbacks=[counter])
    assert again.resumed and counter.batches == 0
    assert {n: (again.out_dir / n).read_bytes() for n in before} == before


def test_checkpoints_record_every_setting_as_plain_values(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    """The modules take the params blocks; a checkpoint stores their dumps and rebuilds the module from them."""
    params = _params(tmp_path, learning_data, **{"pretrain.trainer.max_steps": 2, "finetune.trainer.max_steps": 2,
                                                 "pretrain.objective.masked.ratio": 0.25})  # fmt: skip
    pre = run_pretrain(params, "mvs+masked")
    ckpt = torch.load(pre.run_dir / "last.ckpt", weights_only=True)  # plain dicts, lists and numbers only
    assert ckpt["hyper_parameters"] == {
        "params": params.pretrain.model_dump(mode="json"),
        "objectives": ["mvs", "masked"],
    }
    module = PretrainModule.load_from_checkpoint(pre.run_dir / "last.ckpt", weights_only=True)
    assert module.objectives["masked"].params == params.pretrain.objective.masked  # each objective, its own block
    assert torch.equal(module.net.log_offset, torch.load(pre.out_dir / "model.pt", weights_only=True)["log_offset"])
    fine = run_finetune(params, "scratch", 2)
    hp = torch.load(fine.run_dir / "last.ckpt", weights_only=True)["hyper_parameters"]
    assert hp == {"params": params.finetune.model_dump(mode="json"), "net": params.pretrain.net.model_dump()}
    assert FinetuneModule.load_from_checkpoint(fine.run_dir / "last.ckpt", weights_only=True).pretrained_lr_scale == (
        params.finetune.pretrained_lr_scale
    )


def test_exports_load_weights_only_and_reruns_are_byte_identical(
    tmp_path: Path, learning_data: dict[str, Path]
) -> None:
    params = _params(tmp_path, learning_data)
    first = run_pretrain(_moved(params, tmp_path / "a", tmp_path / "runs_a"), "mvs")
    second = run_pretrain(_moved(params, tmp_path / "b", tmp_path / "runs_b"), "mvs")
    assert first.loaded_clip_ids == ["l0", "l1", "u0", "u1", "u2"]  # the test clip t0 is never loaded
    for name in ("model.pt", "backbone.pt", "model.json", "metrics.json"):
        assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes(), name
    text = (first.out_dir / "model.json").read_text()
    assert str(tmp_path) not in text and "time" not in text
    # the exported backbone loads (weights only) into a fresh fine-tuning model
    backbone = torch.load(first.out_dir / "backbone.pt", weights_only=True)
    fresh = FinetuneModule(FinetuneParams(), NetParams(width=4, depth=3))
    fresh.net.encoder.load_state_dict(backbone)
    assert all(torch.equal(v, backbone[k]) for k, v in fresh.net.encoder.state_dict().items())


def test_finetune_from_pretrained_and_scratch(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    params = _params(tmp_path, learning_data)
    run_pretrain(params, "mvs")
    run_pretrain(params, "masked", name="masked-uncurated")  # a named run, as the curation ablation makes
    mvs = run_finetune(params, "mvs", 2)
    masked = run_finetune(params, "masked-uncurated", 2)
    scratch = run_finetune(params, "scratch", 4)
    assert mvs.loaded_clip_ids == ["l0", "l1"] and scratch.loaded_clip_ids == ["l0", "l1"]
    meta = DepthPredictor.load(mvs.out_dir).meta
    assert meta["kind"] == "finetune" and meta["loaded"] == "encoder+decoder" and meta["budget"] == 2
    assert DepthPredictor.load(masked.out_dir).meta["loaded"] == "encoder"
    assert masked.out_dir.name == "masked-uncurated-2"
    assert len(DepthPredictor.load(scratch.out_dir).meta["train_items"]) == 4
    assert set(mvs.metrics) == {"train", "val"} and np.isfinite(mvs.metrics["val"]["abs_rel"])
    # predictions come back at the input resolution, positive, float32
    images = np.random.default_rng(0).integers(0, 255, (3, 37, 50, 3), dtype=np.uint8)
    depth = DepthPredictor.load(mvs.out_dir, batch_size=2).predict(images)
    assert depth.shape == (3, 37, 50) and depth.dtype == np.float32 and (depth > 0).all()


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    from mannequin.cli import app

    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["pretrain", "--objective", "jigsaw"], "unknown objective 'jigsaw'"),
        (["pretrain", "--objective", "mvs", "--curated", str(empty), "--data", str(learning_data["data"])],
         "no curated shards"),
        (["finetune", "--init", "mvs", "--budget", "2", "--pretrained", str(empty),
          "--data", str(learning_data["data"])], "no pretrained model"),
        (["finetune", "--init", "scratch", "--budget", "999", "--data", str(learning_data["data"])], "exceeds"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_runs_without_validation_data(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    no_val = {"pretrain.val_fraction": 0.0, "finetune.val_frames": 0}
    params = _params(
        tmp_path, learning_data, **no_val, **{"pretrain.trainer.max_steps": 3, "finetune.trainer.max_steps": 2}
    )
    pre = run_pretrain(params, "mvs")
    assert set(pre.metrics) == {"train"} and (pre.run_dir / "best.ckpt").is_file()
    fine = run_finetune(params, "scratch", 3)
    assert set(fine.metrics) == {"train"} and fine.steps == 2


def test_pretrained_weights_learn_at_the_scaled_rate() -> None:
    scratch = FinetuneModule(FinetuneParams(lr=1e-3, pretrained_lr_scale=0.02), NetParams())
    assert [g["lr"] for g in scratch.param_groups()] == [1e-3]  # nothing loaded: one group at the full rate
    module = FinetuneModule(FinetuneParams(lr=1e-3, pretrained_lr_scale=0.02), NetParams())
    module.pretrained_prefixes = ("net.encoder.", "net.decoder.")
    fresh, loaded = module.param_groups()
    assert fresh["lr"] == 1e-3 and loaded["lr"] == pytest.approx(2e-5)
    assert [p is module.net.log_offset for p in fresh["params"]] == [True]
    assert len(loaded["params"]) == len(list(module.parameters())) - 1

"""Issue 23 wiring: the photometric objective from the command line (alone, mixed with mvs, on the rgb+parallax net),
its models fine-tuned and used by ``mannequin predict``, a real fit on rendered clips, and its bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
import yaml
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.config.learning import AugmentParams, NetParams, PretrainParams
from mannequin.learning.data import PretrainDataModule, ShardFrames
from mannequin.learning.export import read_meta
from mannequin.learning.fit import build_trainer, score
from mannequin.learning.modules import PretrainModule
from tests.helpers.learning import make_clip, make_curated, tiny_params, write_splits
from tests.helpers.photometric import rendered, write_rendered_shard

TINY = {"net": {"width": 4, "depth": 3}, "batch_size": 4, "num_workers": 0, "image_size": [32, 24],
        "trainer": {"accelerator": "cpu", "max_steps": 4, "val_every_n_epochs": 1, "log_every_n_steps": 2,
                    "image_every_n_steps": 2}}  # fmt: skip


def params_file(tmp: Path, data: Path, curated: Path, **photometric: object) -> Path:
    pretrain = {**TINY, "curated": str(curated), "data": str(data), "objective": {"photometric": photometric}}
    finetune = {"data": str(data), "batch_size": 4, "image_size": [32, 24], "val_frames": 2,
                "trainer": {"accelerator": "cpu", "max_steps": 3, "val_every_n_epochs": 1}}  # fmt: skip
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump({"pretrain": pretrain, "finetune": finetune}))
    return path


def cli(*args: object):  # noqa: ANN201: click's Result
    return CliRunner().invoke(app, [str(a) for a in args])


def folders(tmp: Path) -> list[str]:
    return ["--out", str(tmp / "models" / "pretrain"), "--runs", str(tmp / "runs"), "--no-progress"]


@pytest.mark.parametrize("objective", ["photometric", "mvs+photometric"])
def test_pretrain_from_the_cli_exports_a_model_that_finetunes_and_predicts(
    objective: str, tmp_path: Path, learning_data: dict[str, Path]
) -> None:
    params = params_file(tmp_path, learning_data["data"], learning_data["curated"])
    result = cli("pretrain", "--objective", objective, "--params", params, *folders(tmp_path))
    assert result.exit_code == 0, result.output
    model = tmp_path / "models" / "pretrain" / objective
    meta = read_meta(model)
    assert meta["trains_decoder"] and meta["objectives"] == objective.split("+")
    assert meta["photometric_skipped"] == {}
    metrics = json.loads((model / "metrics.json").read_text())["train"]
    assert 0 < metrics["photometric_error"] < 1 and 0 <= metrics["photometric_automasked"] <= 1
    panels = list((tmp_path / "runs" / f"pretrain-{objective}" / "tb").glob("events.*"))
    assert panels, "no TensorBoard log"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(panels[0]), size_guidance={"images": 0})
    events.Reload()
    assert "photometric/panel" in events.Tags()["images"]

    fine = ["--data", learning_data["data"], "--pretrained", tmp_path / "models" / "pretrain"]
    fine += ["--out", tmp_path / "models" / "finetune", "--runs", tmp_path / "runs", "--no-progress"]
    result = cli("finetune", "--init", objective, "--budget", 2, "--params", params, *fine)
    assert result.exit_code == 0, result.output
    tuned = tmp_path / "models" / "finetune" / f"{objective}-2"
    assert read_meta(tuned)["loaded"] == "encoder+decoder"
    clip = tmp_path / "clip"
    make_clip(tmp_path / "predict", "c0", 3, np.random.default_rng(2), depth=False)
    shutil.move(tmp_path / "predict" / "clips" / "c0", clip)
    result = cli("predict", clip, "--model", tuned, "--out", tmp_path / "pred")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "pred").glob("*.png"))) >= 3


def test_photometric_trains_the_rgb_parallax_net(tmp_path: Path) -> None:
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_splits(data, {"p0": "unlabeled", "p1": "unlabeled"})
    make_curated(curated, ["p0", "p1"], frames=5, parallax=True)
    params = params_file(tmp_path, data, curated)
    result = cli("pretrain", "--objective", "photometric-parallax", "--params", params, *folders(tmp_path))
    assert result.exit_code == 0, result.output
    meta = read_meta(tmp_path / "models" / "pretrain" / "photometric-parallax")
    assert meta["net"]["inputs"] == "rgb+parallax" and meta["objectives"] == ["photometric"]


def _one_line(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and line.startswith("mannequin: error: "), line
    for part in parts:
        assert part in line, line


def test_a_clip_with_a_single_frame_is_one_line(tmp_path: Path) -> None:
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_splits(data, {"s0": "unlabeled", "s1": "unlabeled"})
    make_curated(curated, ["s0", "s1"], frames=1)
    params = params_file(tmp_path, data, curated)
    result = cli("pretrain", "--objective", "photometric", "--params", params, *folders(tmp_path))
    _one_line(result, str(curated / "shards"), ": a single frame: the photometric objective warps other frames")


def test_a_shard_without_cameras_is_one_line(tmp_path: Path) -> None:
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_splits(data, {"n0": "unlabeled", "n1": "unlabeled"})
    make_curated(curated, ["n0", "n1"], frames=4)
    (curated / "shards" / "n1" / "cameras.npz").unlink()
    params = params_file(tmp_path, data, curated)
    result = cli("pretrain", "--objective", "mvs+photometric", "--params", params, *folders(tmp_path))
    _one_line(result, f"{curated / 'shards' / 'n1' / 'cameras.npz'}: no cameras: the photometric objective warps")


def test_fewer_usable_source_frames_than_asked_is_one_line(tmp_path: Path) -> None:
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_splits(data, {"f0": "unlabeled", "f1": "unlabeled"})
    make_curated(curated, ["f0", "f1"], frames=4)
    params = params_file(tmp_path, data, curated, sources=4)
    result = cli("pretrain", "--objective", "photometric", "--params", params, *folders(tmp_path))
    _one_line(result, "no frame has 4 usable source frames (triangulation angle 1-30 degrees): at most 3 found",
              "lower pretrain.objective.photometric.sources")  # fmt: skip


def test_one_clip_without_sources_is_skipped_and_recorded(tmp_path: Path) -> None:
    """One bad clip never sinks the run: it is left out, and model.json says which and why."""
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_splits(data, {"g0": "unlabeled", "g1": "unlabeled", "g2": "unlabeled", "one": "unlabeled"})
    make_curated(curated, ["g0", "g1", "g2"], frames=4)
    make_curated(curated, ["one"], frames=1, seed=1)
    params = params_file(tmp_path, data, curated)
    result = cli("pretrain", "--objective", "photometric", "--params", params, *folders(tmp_path))
    assert result.exit_code == 0, result.output
    skipped = read_meta(tmp_path / "models" / "pretrain" / "photometric")["photometric_skipped"]
    assert list(skipped) == ["one"] and skipped["one"].startswith("a single frame")


def test_a_fit_on_rendered_clips_lowers_the_loss(tmp_path: Path) -> None:
    """A real Lightning fit on two rendered clips' shards: the photometric loss of fixed items falls."""
    data, curated = tmp_path / "data", tmp_path / "curated"
    write_splits(data, {"r0": "unlabeled", "r1": "unlabeled"})
    for clip_id, seed in (("r0", 3), ("r1", 4)):
        write_rendered_shard(curated, clip_id, rendered("sweep", seed=seed), scale=0.5 + seed)
    pl.seed_everything(0, verbose=False)
    no_augment = AugmentParams(flip_p=0.0, jitter=0.0, channel_shuffle=False, grayscale_p=0.0)
    params = PretrainParams(net=NetParams(width=8, depth=3), lr=5e-3, augment=no_augment, image_size=(64, 48))
    module = PretrainModule(params, ["photometric"])
    dm = PretrainDataModule(curated, data, (64, 48), 4, 0.0, 0, views=module.views)
    fixed = ShardFrames(dm.train_set.paths, dm.clip_labels, (64, 48), views=module.views)
    before = score(module, fixed, len(fixed), seed=0)
    tp = tiny_params(tmp_path).pretrain.trainer.model_copy(update={"max_steps": 40})
    build_trainer(tp, tmp_path / "run", "train/loss", progress=False).fit(module, datamodule=dm)
    after = score(module, fixed, len(fixed), seed=0)
    assert after["photometric_error"] < 0.85 * before["photometric_error"], (before, after)
    assert torch.isfinite(torch.tensor(after["loss"]))

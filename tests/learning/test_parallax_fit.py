"""The rgb+parallax model on tiny data: masks remove the parallax input, a real Lightning fit lowers its loss,
``mvs-parallax`` pretrains and fine-tunes end to end with the mask sources recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from mannequin.clips.cameras import Camera
from mannequin.config.learning import AugmentParams, NetParams, PretrainParams
from mannequin.curation.parallax import CHANNELS, ParallaxInput, mask_channels, normalise_depth
from mannequin.curation.parallax_store import write_parallax
from mannequin.curation.shards import write_shard
from mannequin.errors import InputError
from mannequin.learning.data import PretrainDataModule, ShardFrames
from mannequin.learning.fit import build_trainer, score
from mannequin.learning.modules import PretrainModule
from mannequin.learning.predict import DepthPredictor
from mannequin.stages.finetune import run as run_finetune
from mannequin.stages.pretrain import run as run_pretrain
from tests.helpers.learning import SPLITS, make_clip, synthetic_frame, tiny_params, write_splits

W, H = 64, 48
NO_AUGMENT = AugmentParams(flip_p=0.0, jitter=0.0, channel_shuffle=False, grayscale_p=0.0)


def _parallax_of(depth: np.ndarray, rng: np.random.Generator, source: str, frames: list[int]) -> ParallaxInput:
    """A parallax input like the sweep's: noisy depth, holes, a person-sized box masked where ``given``."""
    noisy = (depth * np.exp(rng.normal(0, 0.05, depth.shape))).astype(np.float32)
    mask = np.zeros(depth.shape, bool)
    if source == "given":
        mask[:, H // 4 : 3 * H // 4, W // 3 : W // 2] = True
    noisy[mask | (rng.uniform(size=depth.shape) < 0.1)] = np.nan
    conf = np.where(np.isfinite(noisy), rng.uniform(0.5, 1.0, depth.shape), 0.0).astype(np.float32)
    par, shift = zip(*(normalise_depth(d) for d in noisy), strict=True)
    n = len(depth)
    return ParallaxInput(np.stack(par), conf, mask, np.array(shift), noisy, np.zeros(n, np.int64),
                         np.array(frames), source)  # fmt: skip


@pytest.fixture(scope="module")
def parallax_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Shards with a parallax input (clips u0, u1 without masks, u2 with given masks), labelled clips with a
    parallax store, and a test clip that must never be read."""
    root = tmp_path_factory.mktemp("parallax_learning")
    data, curated, store = root / "data", root / "curated", root / "parallax"
    write_splits(data, SPLITS)
    rng = np.random.default_rng(3)
    for c in ("l0", "l1", "t0"):
        make_clip(data, c, 6, rng)
    for c, source in (("u0", "none"), ("u1", "motion"), ("u2", "given")):
        images, depths = zip(*(synthetic_frame(rng) for _ in range(6)), strict=True)
        depth = np.stack(depths) * rng.uniform(0.5, 3.0)
        conf = np.ones(depth.shape, np.float32)
        K = np.array([[W, 0, W / 2 - 0.5], [0, W, H / 2 - 0.5], [0, 0, 1]])
        cams = [Camera(K, np.eye(3), np.array([0.01 * k, 0, 0]), W, H) for k in range(6)]
        par = _parallax_of(depth, rng, source, list(range(6)))
        write_shard(curated, c, np.stack(images), depth.astype(np.float32), conf, cams, list(range(6)), parallax=par)
    for c in ("l0", "l1"):  # the labelled clips' stored parallax input: their sensor depth, noisy
        from mannequin.clips.depth_png import read_depth_png, sensor_depth_path

        depth = np.stack([read_depth_png(sensor_depth_path(data, c, k), (W, H)) for k in range(6)])
        write_parallax(store, c, _parallax_of(depth, rng, "motion", list(range(6))))
    return {"root": root, "data": data, "curated": curated, "parallax": store}


def test_mask_removes_the_parallax_input_inside_it() -> None:
    channels = np.random.default_rng(0).uniform(0.1, 1.0, (4, 5, len(CHANNELS))).astype(np.float32)
    channels[..., 2] = 0.0
    mask = np.zeros((4, 5), bool)
    mask[1:3, 2:4] = True
    out = mask_channels(channels, mask)
    assert (out[mask][:, :2] == 0).all() and (out[mask][:, 2] == 1).all()  # parallax and confidence gone, mask set
    np.testing.assert_array_equal(out[~mask], channels[~mask])  # untouched outside
    assert channels[mask][:, 0].min() > 0  # a new array


def test_random_masks_only_where_masks_were_not_given(parallax_data: dict[str, Path]) -> None:
    paths = sorted((parallax_data["curated"] / "shards").iterdir())
    labels = {p.name: i for i, p in enumerate(paths)}
    plain = ShardFrames(paths, labels, (W, H), parallax_masks=0)
    masked = ShardFrames(paths, labels, (W, H), parallax_masks=2)
    assert masked.mask_sources == ["none", "motion", "given"]
    for i, (s, _f) in enumerate(masked.index):
        a, b = plain[(i, 7)]["parallax"], masked[(i, 7)]["parallax"]
        assert a.shape == (3, H, W)
        hidden = (b[2] > 0) & (a[2] == 0)  # where the random masks went
        if masked.mask_sources[s] == "given":
            assert torch.equal(a, b) and a[2].any()  # the given mask of u2, no random one
        else:
            assert hidden.float().mean() > 0.02, i  # person-sized
            assert (b[0][hidden] == 0).all() and (b[1][hidden] == 0).all()
            assert torch.equal(b[:, ~hidden], a[:, ~hidden])
    # the draw comes from the item's seed: the same key draws the same masks, another key others
    assert torch.equal(masked[(0, 7)]["parallax"], masked[(0, 7)]["parallax"])
    assert not torch.equal(masked[(0, 7)]["parallax"], masked[(0, 8)]["parallax"])


def test_fit_of_the_rgb_parallax_net_lowers_its_loss(parallax_data: dict[str, Path]) -> None:
    pl.seed_everything(0, verbose=False)
    p = PretrainParams(net=NetParams(width=8, depth=3, inputs="rgb+parallax"), lr=5e-3, augment=NO_AUGMENT)
    module = PretrainModule(p, ["mvs"])
    assert module.net.encoder.blocks[0][0].in_channels == 6
    dm = PretrainDataModule(parallax_data["curated"], parallax_data["data"], (32, 24), 6, 0.0, 0, False, 0, 1)
    fixed = ShardFrames(dm.train_set.paths, dm.clip_labels, (32, 24), parallax_masks=1)
    before = score(module, fixed, len(fixed), seed=0)["loss"]
    tp = tiny_params(parallax_data["root"]).pretrain.trainer.model_copy(update={"max_steps": 30})
    build_trainer(tp, parallax_data["root"] / "fit-run", "train/loss", progress=False).fit(module, datamodule=dm)
    after = score(module, fixed, len(fixed), seed=0)["loss"]
    assert after < 0.8 * before, (before, after)


def _params(tmp: Path, data: dict[str, Path], **extra: object):
    paths = {
        "pretrain.curated": str(data["curated"]),
        "pretrain.data": str(data["data"]),
        "finetune.data": str(data["data"]),
        "finetune.parallax": str(data["parallax"]),
        "curate.masks.random_masks": 1,
    }
    return tiny_params(tmp, **{**paths, **extra})


def test_mvs_parallax_pretrains_and_finetunes(tmp_path: Path, parallax_data: dict[str, Path]) -> None:
    params = _params(tmp_path, parallax_data)
    pre = run_pretrain(params, "mvs-parallax")
    assert pre.out_dir == tmp_path / "models" / "pretrain" / "mvs-parallax"
    meta = json.loads((pre.out_dir / "model.json").read_text())
    assert meta["inputs"] == meta["net"]["inputs"] == "rgb+parallax" and meta["objectives"] == ["mvs"]
    assert meta["mask_sources"] == {"given": 1, "motion": 1, "none": 1} and meta["random_masks"] == 1
    assert "t0" not in pre.loaded_clip_ids

    fine = run_finetune(params, "mvs-parallax", 2)
    fmeta = json.loads((fine.out_dir / "model.json").read_text())
    assert fmeta["inputs"] == "rgb+parallax" and fmeta["loaded"] == "encoder+decoder"
    assert fmeta["mask_sources"] == {"l0": "motion", "l1": "motion"} and fmeta["random_masks"] == 1
    predictor = DepthPredictor.load(fine.out_dir)
    assert predictor.inputs == "rgb+parallax"
    images = np.zeros((2, H, W, 3), np.uint8)
    assert predictor.predict(images, parallax=np.zeros((2, H, W, 3), np.float32)).shape == (2, H, W)

    # rgb runs beside it stay rgb and read no parallax input
    rgb = run_finetune(params, "scratch", 2)
    assert json.loads((rgb.out_dir / "model.json").read_text())["inputs"] == "rgb"


def test_missing_parallax_inputs_are_one_line_naming_the_file(tmp_path: Path, parallax_data: dict[str, Path]) -> None:
    params = _params(tmp_path, parallax_data, **{"finetune.parallax": str(tmp_path / "nowhere")})
    run_pretrain(params, "mvs-parallax")
    with pytest.raises(InputError, match=re.escape("nowhere/l") + ".*no parallax input for labeled clip"):
        run_finetune(params, "mvs-parallax", 2)
    with pytest.raises(InputError, match="masked reads RGB only and cannot train a net with inputs rgb\\+parallax"):
        run_pretrain(params, "masked-parallax")
    old = tmp_path / "old"
    images, depth = synthetic_frame(np.random.default_rng(0))
    K = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1.0]])
    write_shard(old, "u0", images[None], depth[None], np.ones((1, H, W), np.float32),
                [Camera(K, np.eye(3), np.zeros(3), W, H)], [0])  # fmt: skip
    with pytest.raises(InputError, match="u0: the shard has no parallax input"):
        run_pretrain(_params(tmp_path, {**parallax_data, "curated": old}), "mvs-parallax")

"""Data modules: split by clip, label budgets, geometry-honest augmentation, test clips never read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mannequin.config.learning import AugmentParams
from mannequin.errors import InputError
from mannequin.learning.augment import GeometryHonestAugment
from mannequin.learning.data import (
    FinetuneDataModule,
    PretrainDataModule,
    ShardFrames,
    held_out_clips,
    label_order,
    labelled_frames,
    select_budget,
    split_clips,
)


def test_split_by_clip_is_deterministic_and_disjoint() -> None:
    ids = [f"c{i}" for i in range(10)]
    train, val = split_clips(ids, 0.2, seed=3)
    assert (train, val) == split_clips(list(reversed(ids)), 0.2, seed=3)
    assert len(val) == 2 and not set(train) & set(val) and sorted(train + val) == ids
    assert split_clips(ids, 0.2, seed=4) != (train, val)
    assert split_clips(["a"], 0.5, 0) == (["a"], [])


def test_pretrain_module_excludes_test_clips_and_splits_by_clip(learning_data: dict[str, Path]) -> None:
    dm = PretrainDataModule(learning_data["curated"], learning_data["data"], (32, 24), 4, 0.2, seed=0, pairs=True)
    assert "t0" not in dm.loaded_clip_ids
    assert dm.loaded_clip_ids == ["l0", "l1", "u0", "u1", "u2"]
    assert len(dm.val_ids) == 1 and not set(dm.train_ids) & set(dm.val_ids)
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (4, 3, 24, 32) and batch["depth"].shape == (4, 1, 24, 32)
    assert batch["image2"].shape == (4, 3, 24, 32)
    assert torch.isnan(batch["depth"]).any()  # holes stay NaN through the resize
    # every frame of the train clips, none of the val clips
    clips_seen = {dm.train_set.clip_ids[s] for s, _ in dm.train_set.index}
    assert clips_seen == set(dm.train_ids)


def test_shard_frames_keep_at_most_max_open_shards_open(
    learning_data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dm = PretrainDataModule(learning_data["curated"], learning_data["data"], (32, 24), 4, 0.0, seed=0)
    paths = [s.path for s in dm.shards]
    unbounded = ShardFrames(paths, dm.clip_labels, (32, 24))
    order = list(range(len(unbounded)))[::-1] + list(range(len(unbounded)))
    monkeypatch.setattr(ShardFrames, "max_open_shards", None)
    expected = [unbounded[i] for i in order]
    assert len(unbounded._shards) == len(paths) > 2  # the behaviour without a bound: every shard stays open
    monkeypatch.setattr(ShardFrames, "max_open_shards", 2)
    bounded = ShardFrames(paths, dm.clip_labels, (32, 24))
    for i, want in zip(order, expected, strict=True):
        got = bounded[i]
        assert len(bounded._shards) <= 2
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)
    last = bounded.index[order[-1]][0]
    assert list(bounded._shards)[-1] == last  # the most recently used shard is the one kept


def test_pretrain_without_shards_is_input_error(tmp_path: Path, learning_data: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="no curated shards"):
        PretrainDataModule(tmp_path, learning_data["data"], (32, 24), 4, 0.2, 0)


def test_label_budget_is_round_robin_nested_and_deterministic() -> None:
    available = {"a": list(range(10)), "b": list(range(10)), "c": [0, 1]}
    order = label_order(available, seed=0)
    assert order == label_order(available, seed=0) and order != label_order(available, seed=1)
    first_three = {c for c, _ in order[:3]}
    assert first_three == {"a", "b", "c"}  # spread over clips
    small, val = select_budget(available, 4, seed=0, val_frames=3)
    large, val2 = select_budget(available, 9, seed=0, val_frames=3)
    assert large[:4] == small and val == val2 and not set(val) & set(large)
    with pytest.raises(InputError, match="exceeds"):
        select_budget(available, 20, seed=0, val_frames=3)


def test_validation_holds_out_whole_clips_never_frames_of_a_training_clip() -> None:
    available = {c: list(range(n)) for c, n in {"a": 10, "b": 10, "c": 2, "d": 4, "e": 6}.items()}
    for seed in range(6):
        held = held_out_clips(available, seed, 5)
        assert sum(len(available[c]) for c in held) >= 5
        assert sum(len(available[c]) for c in held[:-1]) < 5  # as few clips as hold 5 frames
        train, val = select_budget(available, 8, seed, val_frames=5)
        assert {c for c, _ in val} == set(held) and not {c for c, _ in train} & set(held)
        assert sorted(val) == sorted((c, i) for c in held for i in available[c])  # every frame of a held-out clip
        # without validation the budget is the plain label order, and the held-out clips only leave it
        order = label_order(available, seed)
        assert select_budget(available, 8, seed)[0] == order[:8]
        assert train == [item for item in order if item[0] not in held][:8]
    # one clip is always left to train on
    assert held_out_clips({"a": [0, 1], "b": [0]}, 0, 100) in (["a"], ["b"])
    assert held_out_clips({"a": [0, 1, 2]}, 0, 2) == [] and held_out_clips(available, 0, 0) == []
    with pytest.raises(InputError, match="held out for validation"):
        select_budget(available, 32, 0, val_frames=5)


def test_finetune_loads_only_labeled_clips(learning_data: dict[str, Path]) -> None:
    """The test clip t0 has sensor depth, but every one of its files is poisoned: reading it would fail."""
    assert sorted(labelled_frames(learning_data["data"])) == ["l0", "l1"]
    dm = FinetuneDataModule(learning_data["data"], 4, (32, 24), 2, seed=0, val_frames=2)
    assert dm.loaded_clip_ids == ["l0", "l1"]
    trained, held = {c for c, _ in dm.train_items}, {c for c, _ in dm.val_items}
    assert len(trained) == len(held) == 1 and trained | held == {"l0", "l1"} and len(dm.train_items) == 4
    batch = next(iter(dm.train_dataloader()))
    assert batch["depth"].shape == (2, 1, 24, 32)
    d = batch["depth"][torch.isfinite(batch["depth"])]
    assert d.min() > 0.9 and d.max() < 5.1  # metres from the 16-bit PNGs


def test_flip_flips_targets_with_the_image_and_jitter_never_touches_targets() -> None:
    g = torch.Generator().manual_seed(0)
    batch = {
        "image": torch.rand(8, 3, 6, 10, generator=g),
        "depth": torch.rand(8, 1, 6, 10, generator=g) + 1,
        "confidence": torch.rand(8, 1, 6, 10, generator=g),
    }
    batch["depth"][:, :, :, 0] = float("nan")
    torch.manual_seed(1)
    out = GeometryHonestAugment(AugmentParams(flip_p=0.5, jitter=0.0, channel_shuffle=False, grayscale_p=0.0))(batch)
    flipped = [not torch.equal(out["image"][i], batch["image"][i]) for i in range(8)]
    assert 0 < sum(flipped) < 8
    for i, f in enumerate(flipped):
        src = {k: v[i].flip(-1) if f else v[i] for k, v in batch.items()}
        for key in ("image", "depth", "confidence"):
            assert torch.equal(out[key][i].nan_to_num(-1), src[key].nan_to_num(-1)), (key, i)
    torch.manual_seed(2)
    jittered = GeometryHonestAugment(
        AugmentParams(flip_p=0.0, jitter=0.4, channel_shuffle=False, grayscale_p=0.0), jitter_p=1.0
    )(batch)
    assert not torch.allclose(jittered["image"], batch["image"])
    assert torch.equal(jittered["depth"].nan_to_num(-1), batch["depth"].nan_to_num(-1))
    assert torch.equal(jittered["confidence"], batch["confidence"])


def test_decolouring_permutes_channels_per_image_greys_some_and_never_touches_targets() -> None:
    g = torch.Generator().manual_seed(0)
    batch = {
        "image": torch.rand(32, 3, 4, 5, generator=g),
        "image2": torch.rand(32, 3, 4, 5, generator=g),
        "depth": torch.rand(32, 1, 4, 5, generator=g) + 1,
        "confidence": torch.rand(32, 1, 4, 5, generator=g),
    }
    torch.manual_seed(3)
    out = GeometryHonestAugment(AugmentParams(flip_p=0.0, jitter=0.0, channel_shuffle=True, grayscale_p=0.25))(batch)
    assert torch.equal(out["depth"], batch["depth"]) and torch.equal(out["confidence"], batch["confidence"])
    orders = set()
    n_grey = 0
    for i in range(32):
        x, y = batch["image"][i], out["image"][i]
        if torch.allclose(y, x.mean(dim=0, keepdim=True).expand_as(x)):
            n_grey += 1
            continue
        match = [next(c for c in range(3) if torch.equal(y[k], x[c])) for k in range(3)]
        assert sorted(match) == [0, 1, 2]
        orders.add(tuple(match))
    assert 0 < n_grey < 32
    assert len(orders) > 2
    assert not torch.equal(out["image2"], batch["image2"])
    plain = GeometryHonestAugment(AugmentParams(flip_p=0.0, jitter=0.0, channel_shuffle=False, grayscale_p=0.0))(batch)
    assert torch.equal(plain["image"], batch["image"])


def test_resize_keeps_nan_holes_nan() -> None:
    from mannequin.learning.data import resize_sample

    depth = np.ones((12, 16), np.float32)
    depth[:6] = np.nan
    _, out, _ = resize_sample(np.zeros((12, 16, 3), np.uint8), depth, None, (8, 6))
    assert np.isnan(out[:3]).all() and np.isfinite(out[3:]).all()

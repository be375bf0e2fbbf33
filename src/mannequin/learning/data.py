"""Data for pretraining (curated shards) and fine-tuning (labelled clips' sensor depth).

- Pretraining reads curated shards, split into train/val **by clip** (deterministic from the seed).
- Fine-tuning reads a **label budget** of sensor-depth frames from ``labeled`` clips, chosen
  deterministically from the seed and spread round-robin over the clips, so a smaller budget
  is always a subset of a larger one.
- ``test`` clips are never opened by either: their ids are dropped before any file is read.

Items are dicts of tensors: ``image`` (3,H,W) float in [0,1], ``depth`` (1,H,W) float with NaN
invalid, ``confidence`` (1,H,W), ``clip`` (int64 index of the clip in the sorted train+val list),
and for contrastive pretraining ``image2``, another frame of the same clip. For an ``rgb+parallax`` net items
also hold ``parallax`` (3,H,W): the parallax input (:data:`mannequin.curation.parallax.CHANNELS`), from the
shard (pretraining) or the ``parallax`` store (fine-tuning), resized by nearest neighbour; where a clip's masks
do not mark people (``mask_source`` motion or none: a frozen clip), ``random_masks`` random person-sized masks
(:func:`mannequin.clips.masks.random_person_mask`) are removed from it too, drawn from the item's seed, so the
net keeps learning to fill masked regions.

Training loaders are resumable (:mod:`mannequin.learning.seeding`): their order and
the items' own draws are seeded from (seed, epoch, index), and their place in the epoch is saved
in checkpoints, so a run resumed mid-epoch sees the very batches the uninterrupted run saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from mannequin.clips.depth_png import read_depth_png, sensor_depth_indices, sensor_depth_path
from mannequin.clips.masks import random_person_mask
from mannequin.curation.parallax import PERSON_SOURCES, mask_channels
from mannequin.curation.shards import ClipShard, list_shards
from mannequin.errors import InputError
from mannequin.learning.seeding import EpochSampler, ItemKey, ResumableLoader, split_key
from mannequin.learning.source_views import SourceViews, usable_targets, views_item

if TYPE_CHECKING:
    from mannequin.curation.sfm_store import PoseSource

SPLITS_NAME = "splits.csv"


def read_split_table(data_dir: str | Path) -> dict[str, str]:
    """``clip_id -> split`` from ``data_dir/splits.csv`` (a missing or malformed file is an InputError)."""
    from mannequin.clips.splits import read_splits

    return read_splits(data_dir)


def split_clips(clip_ids: Sequence[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Deterministic train/val split by clip: ``floor(val_fraction * n)`` clips go to val (none for few clips)."""
    ids = sorted(clip_ids)
    n_val = min(max(len(ids) - 1, 0), int(val_fraction * len(ids) + 1e-9))
    order = np.random.default_rng(seed).permutation(len(ids))
    val = sorted(ids[i] for i in order[:n_val])
    train = sorted(ids[i] for i in order[n_val:])
    return train, val


def resize_sample(
    image: np.ndarray, depth: np.ndarray, confidence: np.ndarray | None, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Resize to ``size`` = (W, H): area for the image, nearest for depth/confidence (NaN stays NaN)."""
    w, h = size
    if image.shape[1] != w or image.shape[0] != h:
        image = cv2.resize(np.ascontiguousarray(image), (w, h), interpolation=cv2.INTER_AREA)
    if depth.shape[1] != w or depth.shape[0] != h:
        depth = cv2.resize(np.ascontiguousarray(depth), (w, h), interpolation=cv2.INTER_NEAREST)
    if confidence is not None and (confidence.shape[1] != w or confidence.shape[0] != h):
        confidence = cv2.resize(np.ascontiguousarray(confidence), (w, h), interpolation=cv2.INTER_NEAREST)
    return image, depth, confidence


def to_tensors(image: np.ndarray, depth: np.ndarray, confidence: np.ndarray) -> dict[str, torch.Tensor]:
    return {
        "image": torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div_(255.0),
        "depth": torch.from_numpy(np.array(depth, dtype=np.float32))[None],
        "confidence": torch.from_numpy(np.array(confidence, dtype=np.float32))[None],
    }


def resize_channels(channels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, C) float channels to ``size`` = (W, H) by nearest neighbour (a mask stays a mask), float32."""
    channels = np.asarray(channels, dtype=np.float32)
    w, h = size
    if channels.shape[1] != w or channels.shape[0] != h:
        channels = cv2.resize(np.ascontiguousarray(channels), (w, h), interpolation=cv2.INTER_NEAREST)
    return channels


def parallax_tensor(channels: np.ndarray, random_masks: int, draw: int | None, fallback: int) -> torch.Tensor:
    """(3, H, W) float tensor of the parallax input ``channels`` (H, W, 3), with ``random_masks`` random person-sized
    masks removed (drawn from ``draw``, or ``fallback`` for a fixed, unshuffled read)."""
    if random_masks > 0:
        rng = np.random.default_rng(draw if draw is not None else fallback)
        h, w = channels.shape[:2]
        channels = mask_channels(channels, random_person_mask(rng, h, w, random_masks))
    return torch.from_numpy(np.ascontiguousarray(channels, dtype=np.float32)).permute(2, 0, 1)


class ShardFrames(Dataset):
    """Frames of curated shards; arrays are memory-mapped lazily in each process (worker-safe).

    At most ``max_open_shards`` shards stay open per process (least recently used closed first): each open shard
    holds three memory maps, and so a file descriptor each, and a shuffled epoch over every clip would otherwise
    end with all of them open (3,000 descriptors for 1,000 clips; bench/bench_data_scale.py). ``None``: no bound.
    """

    max_open_shards: int | None = 64

    def __init__(
        self,
        shard_paths: Sequence[str | Path],
        clip_labels: dict[str, int],
        image_size: tuple[int, int],
        pairs: bool = False,
        random_pairs: bool = True,
        parallax_masks: int | None = None,
        views: SourceViews | None = None,
    ) -> None:
        """``parallax_masks``: None for an ``rgb`` net; else items hold ``parallax``, with that many random masks on
        the frames of clips whose masks were not given (every shard must hold a parallax input). ``views``: items
        hold the photometric objective's source frames and cameras (:mod:`mannequin.learning.source_views`), and only
        frames with enough sources are items; ``skipped`` then says which clips gave none, and why."""
        self.paths = [Path(p) for p in shard_paths]
        self.clip_labels = clip_labels
        self.image_size = tuple(image_size)
        self.pairs = pairs
        self.random_pairs = random_pairs
        self.parallax_masks = parallax_masks
        self.views = views
        self._shards: dict[int, ClipShard] = {}
        self.index: list[tuple[int, int]] = []
        self.clip_ids: list[str] = []
        self.mask_sources: list[str] = []
        self.sources: dict[tuple[int, int], tuple[int, ...]] = {}
        self.skipped: dict[Path, str] = {}
        for s, path in enumerate(self.paths):
            shard = ClipShard(path)
            self.clip_ids.append(shard.clip_id)
            if views is None:
                self.index += [(s, f) for f in range(len(shard))]
            else:
                targets, why = usable_targets(shard, views)
                self.index += [(s, f) for f in sorted(targets)]
                self.sources.update({(s, f): src for f, src in targets.items()})
                if why:
                    self.skipped[path] = why
            if parallax_masks is not None and not shard.has_parallax:
                raise InputError(path, "the shard has no parallax input (curated before it existed: curate again)",
                                 "no_parallax")  # fmt: skip
            self.mask_sources.append(shard.mask_source)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_shards"] = {}
        return state

    def _shard(self, s: int) -> ClipShard:
        shard = self._shards.pop(s, None)
        if shard is None:
            shard = ClipShard(self.paths[s])
        self._shards[s] = shard  # dicts keep insertion order: the most recently used is last
        if self.max_open_shards is not None and len(self._shards) > self.max_open_shards:
            del self._shards[next(iter(self._shards))]
        return shard

    def __len__(self) -> int:
        return len(self.index)

    def _frame(self, s: int, f: int) -> dict[str, torch.Tensor]:
        shard = self._shard(s)
        image, depth, conf = resize_sample(shard.images[f], shard.depth[f], shard.confidence[f], self.image_size)
        return to_tensors(image, depth, conf)

    def __getitem__(self, key: ItemKey) -> dict[str, torch.Tensor]:
        """Item ``key``: an index, or ``(index, seed)`` whose seed draws the random second frame."""
        i, draw = split_key(key)
        s, f = self.index[i]
        item = self._frame(s, f)
        item["clip"] = torch.tensor(self.clip_labels[self.clip_ids[s]], dtype=torch.int64)
        if self.parallax_masks is not None:
            channels = resize_channels(self._shard(s).parallax[f], self.image_size)
            count = self.parallax_masks if self.mask_sources[s] not in PERSON_SOURCES else 0
            item["parallax"] = parallax_tensor(channels, count, draw, i)
        if self.pairs:
            n = len(self._shard(s))
            if n < 2:
                other = f
            elif self.random_pairs and draw is not None:
                other = (f + 1 + int(np.random.default_rng(draw).integers(n - 1))) % n
            else:
                other = (f + 1) % n
            item["image2"] = self._frame(s, other)["image"]
        if self.views is not None:
            item.update(views_item(self._shard(s), f, self.sources[(s, f)], self.image_size,
                                   lambda g: item["image"] if g == f else self._frame(s, g)["image"]))  # fmt: skip
        return item


def resumable_loader(
    dm: pl.LightningDataModule, dataset: Dataset, batch_size: int, seed: int, num_workers: int
) -> ResumableLoader:
    """The shuffled training loader of ``dm``: this rank's share of each epoch, resumable mid-epoch.

    Full batches only, unless the whole set is smaller than one batch. Its position is what the
    trainer's epoch loop has processed (read when Lightning saves a checkpoint).
    """
    trainer = dm.trainer
    rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
    sampler = EpochSampler(len(dataset), seed, rank, world)

    def position() -> int:
        assert dm.trainer is not None
        return dm.trainer.fit_loop.epoch_loop.batch_progress.current.processed

    return ResumableLoader(
        dataset,
        sampler,
        position,
        batch_size=batch_size,
        drop_last=len(sampler) >= batch_size,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        pin_memory=torch.cuda.is_available(),
    )


class PretrainDataModule(pl.LightningDataModule):
    """Curated shards of non-test clips, split train/val by clip."""

    def __init__(
        self,
        curated: str | Path,
        data: str | Path,
        image_size: tuple[int, int],
        batch_size: int,
        val_fraction: float,
        seed: int,
        pairs: bool = False,
        num_workers: int = 0,
        parallax_masks: int | None = None,
        views: SourceViews | None = None,
    ) -> None:
        super().__init__()
        self.curated, self.data = Path(curated), Path(data)
        self.image_size, self.batch_size, self.num_workers = tuple(image_size), batch_size, num_workers
        self.pairs, self.seed, self.parallax_masks, self.views = pairs, seed, parallax_masks, views
        splits = read_split_table(self.data)
        shards = list_shards(self.curated)
        # Test clips (and clips missing from splits.csv) are dropped by id, before any array is opened.
        self.shards = [s for s in shards if splits.get(s.path.name, "test") != "test"]
        if not self.shards:
            raise InputError(self.curated, "no curated shards of non-test clips found", "no_shards")
        ids = [s.path.name for s in self.shards]
        self.train_ids, self.val_ids = split_clips(ids, val_fraction, seed)
        self.clip_labels = {c: i for i, c in enumerate(sorted(ids))}
        by_id = {s.path.name: s.path for s in self.shards}
        self.train_set = ShardFrames([by_id[c] for c in self.train_ids], self.clip_labels, self.image_size, pairs,
                                     parallax_masks=parallax_masks, views=views)  # fmt: skip
        self.val_set = ShardFrames([by_id[c] for c in self.val_ids], self.clip_labels, self.image_size, pairs, False,
                                   parallax_masks, views)  # fmt: skip
        if len(self.train_set) == 0 and self.train_set.skipped:
            path, why = next(iter(self.train_set.skipped.items()))
            others = len(self.train_set.skipped) - 1
            raise InputError(path, why + (f" (and {others} more training clips without targets)" if others else ""),
                             "no_sources")  # fmt: skip
        if len(self.train_set) == 0:
            raise InputError(self.curated, "the curated shards hold no frames", "no_shards")

    @property
    def skipped(self) -> dict[str, str]:
        """Clips that gave no photometric targets (clip id -> why), training and validation."""
        found = {**self.train_set.skipped, **self.val_set.skipped}
        return {path.name: why for path, why in sorted(found.items())}

    @property
    def loaded_clip_ids(self) -> list[str]:
        return sorted(self.train_ids + self.val_ids)

    def mask_sources(self) -> dict[str, int]:
        """How many training and validation clips had each mask source (``given | segmenter | motion | none``)."""
        found = self.train_set.mask_sources + self.val_set.mask_sources
        return {k: found.count(k) for k in sorted(set(found))}

    def train_dataloader(self) -> DataLoader:
        return resumable_loader(self, self.train_set, self.batch_size, self.seed, self.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            self.val_set,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
        )


# --------------------------------------------------------------------------- fine-tuning


def labelled_frames(data_dir: str | Path) -> dict[str, list[int]]:
    """``labeled`` clip id -> sorted frame indices that have a sensor-depth PNG. Test clips are never listed."""
    data_dir = Path(data_dir)
    splits = read_split_table(data_dir)
    out: dict[str, list[int]] = {}
    for clip_id in sorted(c for c, s in splits.items() if s == "labeled"):
        idx = sensor_depth_indices(data_dir, clip_id)
        if idx:
            out[clip_id] = idx
    return out


def _clip_order(available: dict[str, list[int]], rng: np.random.Generator) -> tuple[list[str], dict[str, list[int]]]:
    clips = sorted(available)
    clips = [clips[i] for i in rng.permutation(len(clips))]
    return clips, {c: [available[c][i] for i in rng.permutation(len(available[c]))] for c in clips}


def _round_robin(clips: list[str], queues: dict[str, list[int]]) -> list[tuple[str, int]]:
    order: list[tuple[str, int]] = []
    depth = max((len(queues[c]) for c in clips), default=0)
    for k in range(depth):
        order += [(c, queues[c][k]) for c in clips if k < len(queues[c])]
    return order


def label_order(available: dict[str, list[int]], seed: int) -> list[tuple[str, int]]:
    """All labelled frames in budget order: shuffled per clip, then round-robin over shuffled clips."""
    return _round_robin(*_clip_order(available, np.random.default_rng(seed)))


def held_out_clips(available: dict[str, list[int]], seed: int, val_frames: int) -> list[str]:
    """The labelled clips held out whole for validation: the last ones of the seed's clip order, as few as hold
    ``val_frames`` frames, always leaving one clip to train on (none with ``val_frames`` 0 or a single clip)."""
    clips, _ = _clip_order(available, np.random.default_rng(seed))
    held: list[str] = []
    while val_frames > 0 and len(held) < len(clips) - 1 and sum(len(available[c]) for c in held) < val_frames:
        held.append(clips[len(clips) - 1 - len(held)])
    return held


def select_budget(
    available: dict[str, list[int]],
    budget: int,
    seed: int,
    val_frames: int = 0,
    source: str | Path = "data",
    budgets: Sequence[int] = (),
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """``budget`` training frames and the held-out validation frames.

    Validation holds out whole clips (:func:`held_out_clips`), never frames of a clip the budget trains on: frames
    of one room share its scale and layout, so held-out frames of the training clips reward a model that learnt
    those rooms (measured: 0.13 abs_rel on such frames for a model at 0.21 on the test clips). The held-out clips
    are the same for every budget; the budget is a prefix of :func:`label_order` over the other clips, so a smaller
    budget is a subset of a larger one. A budget larger than what is left is an InputError that also says what all
    of ``budgets`` (the DAG's) would need.
    """
    held = held_out_clips(available, seed, val_frames)
    rng = np.random.default_rng(seed)
    clips, queues = _clip_order(available, rng)
    val = _round_robin([c for c in clips if c in held], queues)
    pool = _round_robin([c for c in clips if c not in held], queues)
    if budget < 1:
        raise InputError(source, f"label budget must be at least 1, got {budget}", "bad_budget")
    if budget > len(pool):
        dag = ""
        if budgets:
            dag = (
                f"; finetune.budgets {', '.join(map(str, budgets))} need {max(budgets)} labelled frames outside "
                f"the clips held out for finetune.val_frames {val_frames}: add labeled clips with sensor depth, or "
                f"lower finetune.budgets"
            )
        raise InputError(
            source,
            f"label budget {budget} exceeds the {len(pool)} labelled frames available "
            f"({sum(len(v) for v in available.values())} in labeled clips, {len(val)} of them in the "
            f"{len(held)} clip(s) held out for validation){dag}",
            "bad_budget",
        )
    return pool[:budget], val


def load_labelled(
    data_dir: str | Path, items: Sequence[tuple[str, int]], image_size: tuple[int, int], poses: PoseSource | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Frames (N,H,W,3) uint8 and sensor depth (N,H,W) metres for ``items``, at ``image_size``; and clip ids read.

    Clips are opened through the one pose resolver, ``poses`` (a ``PoseSource``; default: ``poses.txt``, else SfM).
    """
    from mannequin.curation.sfm_store import PoseSource, lines_of_frames

    data_dir = Path(data_dir)
    w, h = image_size
    images = np.zeros((len(items), h, w, 3), np.uint8)
    depths = np.zeros((len(items), h, w), np.float32)
    by_clip: dict[str, list[int]] = {}
    for slot, (clip_id, _) in enumerate(items):
        by_clip.setdefault(clip_id, []).append(slot)
    for clip_id, slots in by_clip.items():
        resolved = (poses or PoseSource()).resolve(data_dir / "clips" / clip_id)
        clip = resolved.clip
        frames, _ = clip.read_frames(lines_of_frames(clip, [items[s][1] for s in slots], resolved.source))
        for s, frame in zip(slots, frames, strict=True):
            depth = read_depth_png(sensor_depth_path(data_dir, clip_id, items[s][1]), frame.shape[1::-1])
            images[s], depths[s], _ = resize_sample(frame, depth, None, image_size)
    return images, depths, sorted(by_clip)


def label_aspect(width: int, height: int) -> float:
    """The aspect ratio recorded for labelled frames (rounded: frames of one camera give one value)."""
    return round(width / height, 4)


def label_aspects(data_dir: str | Path, items: Sequence[tuple[str, int]]) -> list[float]:
    """The distinct aspect ratios (width / height, :func:`label_aspect`) of the sensor depth frames of ``items``:
    the shape of the frames a fine-tune learnt metres from (``model.json``'s ``label_aspects``)."""
    aspects = set()
    for clip_id, index in items:
        depth = cv2.imread(str(sensor_depth_path(data_dir, clip_id, index)), cv2.IMREAD_UNCHANGED)
        if depth is not None:
            aspects.add(label_aspect(depth.shape[1], depth.shape[0]))
    return sorted(aspects)


class LabelledFrames(Dataset):
    """In-memory labelled frames, repeated to ``length`` items per epoch (tiny budgets still fill batches).

    With ``parallax`` (N,H,W,3) items hold it too, with ``random_masks`` random masks on the frames where
    ``masked`` (N,) bool is true (their clip's masks were not given).
    """

    def __init__(
        self,
        images: np.ndarray,
        depths: np.ndarray,
        clip_index: np.ndarray,
        length: int | None = None,
        parallax: np.ndarray | None = None,
        masked: np.ndarray | None = None,
        random_masks: int = 0,
    ):
        self.images, self.depths, self.clip_index = images, depths, clip_index
        self.length = length or len(images)
        self.parallax, self.random_masks = parallax, random_masks
        self.masked = np.zeros(len(images), bool) if masked is None else np.asarray(masked, bool)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: ItemKey) -> dict[str, torch.Tensor]:
        i, draw = split_key(key)
        j = i % len(self.images)
        item = to_tensors(self.images[j], self.depths[j], np.ones(self.depths[j].shape, np.float32))
        item["clip"] = torch.tensor(int(self.clip_index[j]), dtype=torch.int64)
        if self.parallax is not None:
            count = self.random_masks if self.masked[j] else 0
            item["parallax"] = parallax_tensor(self.parallax[j], count, draw, i)
        return item


def load_labelled_parallax(
    root: str | Path, items: Sequence[tuple[str, int]], image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, dict[str, str]]:
    """The stored parallax input (``mannequin parallax``) of labelled ``items`` at ``image_size``: (N,H,W,3)
    float32, whether each item's clip had no given masks (N,) bool, and each clip's mask source."""
    from mannequin.curation.parallax_store import parallax_path, read_parallax

    w, h = image_size
    out = np.zeros((len(items), h, w, 3), np.float32)
    masked = np.zeros(len(items), bool)
    sources: dict[str, str] = {}
    by_clip: dict[str, list[int]] = {}
    for slot, (clip_id, _) in enumerate(items):
        by_clip.setdefault(clip_id, []).append(slot)
    for clip_id, slots in sorted(by_clip.items()):
        stored = read_parallax(root, clip_id)
        if stored is None:
            raise InputError(parallax_path(root, clip_id), f"no parallax input for labeled clip {clip_id} "
                             "(run `mannequin parallax` first)", "no_parallax")  # fmt: skip
        try:
            rows = stored.at_frames([items[s][1] for s in slots])
        except KeyError as exc:
            raise InputError(parallax_path(root, clip_id), str(exc.args[0]), "no_parallax") from None
        channels = rows.channels_last()
        for k, s in enumerate(slots):
            out[s] = resize_channels(channels[k], image_size)
            masked[s] = stored.mask_source not in PERSON_SOURCES
        sources[clip_id] = stored.mask_source
    return out, masked, sources


class FinetuneDataModule(pl.LightningDataModule):
    """A label budget of sensor-depth frames from ``labeled`` clips (test clips are never read)."""

    def __init__(
        self,
        data: str | Path,
        budget: int,
        image_size: tuple[int, int],
        batch_size: int,
        seed: int,
        val_frames: int = 0,
        steps_per_epoch: int = 20,
        num_workers: int = 0,
        budgets: Sequence[int] = (),
        parallax: str | Path | None = None,
        random_masks: int = 0,
    ) -> None:
        """``parallax``: the ``parallax`` store, for an ``rgb+parallax`` net (None: rgb, no parallax input)."""
        super().__init__()
        self.data = Path(data)
        self.image_size, self.batch_size, self.num_workers = tuple(image_size), batch_size, num_workers
        self.seed = seed
        available = labelled_frames(self.data)
        if not available:
            raise InputError(self.data, "no labeled clip has sensor depth under depth/<clip_id>/", "no_labels")
        self.train_items, self.val_items = select_budget(
            available, budget, seed, val_frames, self.data / SPLITS_NAME, budgets
        )
        labels = {c: i for i, c in enumerate(sorted(available))}
        images, depths, train_clips = load_labelled(self.data, self.train_items, self.image_size)
        clip_index = np.array([labels[c] for c, _ in self.train_items])
        per_epoch = max(len(images), batch_size * steps_per_epoch)
        self.mask_sources: dict[str, str] = {}
        par = masked = None
        if parallax is not None:
            par, masked, self.mask_sources = load_labelled_parallax(parallax, self.train_items, self.image_size)
        self.train_set = LabelledFrames(images, depths, clip_index, per_epoch, par, masked, random_masks)
        self.val_set = None
        val_clips: list[str] = []
        if self.val_items:
            v_images, v_depths, val_clips = load_labelled(self.data, self.val_items, self.image_size)
            v_par = v_masked = None
            if parallax is not None:
                v_par, v_masked, v_sources = load_labelled_parallax(parallax, self.val_items, self.image_size)
                self.mask_sources.update(v_sources)
            v_index = np.array([labels[c] for c, _ in self.val_items])
            self.val_set = LabelledFrames(v_images, v_depths, v_index, None, v_par, v_masked, random_masks)
        self.loaded_clip_ids = sorted(set(train_clips) | set(val_clips))

    def train_dataloader(self) -> DataLoader:
        return resumable_loader(self, self.train_set, self.batch_size, self.seed, self.num_workers)

    def val_dataloader(self) -> DataLoader | list:
        if self.val_set is None:
            return []
        return DataLoader(self.val_set, batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers)

"""Randomness that a resumed run can replay: every draw is seeded from the run seed and where it happens.

Nothing in training reads a random state that carries over from one step to the next, so a run
resumed from ``last.ckpt`` mid-epoch draws exactly what the uninterrupted run drew:

- the sample order of an epoch comes from ``(seed, epoch)`` (:class:`EpochSampler`), and the
  loader's position within the epoch is saved in the checkpoint (:class:`ResumableLoader`);
- an item's own randomness (e.g. which second frame of a clip it pairs with) comes from
  ``(seed, epoch, index)``, handed to the dataset with the index, so loader workers need no RNG;
- augmentation and objective randomness in a training step come from ``(seed, global_step, rank)``
  (:func:`seeded`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

#: what a sampler yields and a dataset accepts: an index, or ``(index, seed of the item's own draws)``.
ItemKey = int | tuple[int, int]


def derive_seed(*parts: int) -> int:
    """A 63-bit seed from integers (``numpy.random.SeedSequence``: well mixed, order-sensitive)."""
    return int(np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(2, np.uint64)[0] >> 1)


def split_key(key: ItemKey) -> tuple[int, int | None]:
    """``(index, item seed)`` from a key; the seed is None for a plain index (a fixed, unshuffled read)."""
    if isinstance(key, tuple):
        return int(key[0]), int(key[1])
    return int(key), None


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run the body with torch's global RNG (CPU, and ``device`` when CUDA) seeded, then restore it."""
    devices = (
        [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    )
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class EpochSampler(Sampler[ItemKey]):
    """Each epoch a permutation drawn from ``(seed, epoch)``; yields ``(index, item seed)`` keys.

    Under several processes each rank takes every ``world``-th position of the same permutation
    (the tail that does not divide evenly is dropped, so ranks step together). :meth:`resume` makes
    the next pass start part-way into an epoch.
    """

    def __init__(self, size: int, seed: int, rank: int = 0, world: int = 1) -> None:
        self.size, self.seed, self.rank, self.world = size, seed, rank, world
        self.epoch = 0
        self._start = 0  # positions of this rank to skip at the start of the next pass

    def __len__(self) -> int:
        return self.size // self.world

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at each epoch start; a resumed position in the same epoch is kept."""
        if epoch != self.epoch:
            self.epoch, self._start = epoch, 0

    def resume(self, epoch: int, skip: int, finished: bool = False) -> None:
        """Start the next pass at epoch ``epoch`` after its first ``skip`` items; or at the next, if ``finished``."""
        self.epoch, self._start = (epoch + 1, 0) if finished else (epoch, skip)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, start = self.epoch, self._start
        self._start = 0
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        mine = order[self.rank : len(self) * self.world : self.world]
        for index in mine[start:]:
            yield int(index), derive_seed(self.seed, epoch, int(index))


class ResumableLoader(DataLoader):
    """A shuffling DataLoader over an :class:`EpochSampler` whose place in the epoch goes into checkpoints.

    Lightning's fit loop saves ``state_dict()`` of every train loader that has one and hands it back
    to ``load_state_dict()`` before the resumed epoch's iterator is made. ``position`` returns the
    number of batches of this epoch the training steps have consumed (the loader itself cannot tell:
    Lightning fetches one batch ahead).
    """

    def __init__(self, dataset: Dataset, sampler: EpochSampler, position: Callable[[], int], **kwargs: Any) -> None:
        super().__init__(dataset, sampler=sampler, **kwargs)
        self.position = position

    def state_dict(self) -> dict[str, int]:
        assert isinstance(self.sampler, EpochSampler)
        return {"epoch": self.sampler.epoch, "batches": int(self.position())}

    def load_state_dict(self, state: dict[str, int]) -> None:
        assert isinstance(self.sampler, EpochSampler) and self.batch_size is not None
        batches = int(state["batches"])
        self.sampler.resume(int(state["epoch"]), batches * self.batch_size, finished=batches >= len(self))

"""What every pretext objective is: a small head over the shared backbone and a pure loss (solo-learn style).

An objective takes the shared :class:`~mannequin.learning.nets.DepthNet` and a batch, and returns its loss and
log values. Each one reads its own params block (``pretrain.objective.<name>``, :mod:`mannequin.config.objectives`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from pydantic import BaseModel
from torch import nn

from mannequin.learning.nets import DepthNet

Gather = Callable[[torch.Tensor], torch.Tensor]


class Objective(nn.Module):
    """Base class: ``forward(net, batch, gather)`` returns ``(loss, {name: value})``.

    ``prepare(net, datamodule)`` runs once the training data is known (Lightning's ``setup``), before a
    checkpoint is restored: an objective whose head depends on the data (``colorize``'s ab bins) builds it there.
    """

    name: str = ""
    #: whether this objective trains the depth decoder (then fine-tuning reuses it).
    trains_decoder: bool = False
    #: whether batches need a second frame of the same clip (``image2``).
    needs_pairs: bool = False
    #: whether it can train an ``rgb+parallax`` net (it feeds the net :func:`~mannequin.learning.nets.net_input`).
    reads_parallax: bool = False

    def __init__(self, net: DepthNet, params: BaseModel) -> None:
        super().__init__()
        self.params = params

    def prepare(self, net: DepthNet, datamodule: object | None) -> None:
        """Build what depends on the training data; nothing by default."""

    def panel(self, net: DepthNet, batch: dict) -> torch.Tensor | None:
        """A (3, H, W) image for TensorBoard, or None."""
        return None


def sample_frames(dataset: torch.utils.data.Dataset, count: int) -> list[torch.Tensor]:
    """The ``image`` of ``count`` evenly spaced items of ``dataset`` (the global RNG is left untouched)."""
    n = len(dataset)
    if n == 0:
        return []
    picks = np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int))
    with torch.random.fork_rng(devices=[]):  # a pair dataset draws its partner frame at random
        return [dataset[int(i)]["image"] for i in picks]


@torch.no_grad()
def probe_features(net: DepthNet) -> torch.Tensor:
    """The backbone's deepest features for a small blank image: what a head is probed with when built."""
    side = 2 ** len(net.encoder.channels) * 2
    return net.encoder(torch.zeros(1, 3, side, side))[-1]

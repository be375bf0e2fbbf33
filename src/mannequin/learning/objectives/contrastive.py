"""``contrastive``: InfoNCE on pooled backbone features; frames of the same clip are positives, frames of other clips
negatives; embeddings are gathered across processes under DDP."""

from __future__ import annotations

import torch
from torch import nn

from mannequin.config.objectives import ContrastiveParams
from mannequin.learning.losses import info_nce_loss
from mannequin.learning.nets import DepthNet
from mannequin.learning.objectives.base import Gather, Objective


class ContrastiveObjective(Objective):
    """InfoNCE between two frames of each clip, over pooled backbone features."""

    name = "contrastive"
    needs_pairs = True
    params: ContrastiveParams

    def __init__(self, net: DepthNet, params: ContrastiveParams) -> None:
        super().__init__(net, params)
        c = net.encoder.out_channels
        self.head = nn.Sequential(nn.Linear(c, c), nn.SiLU(), nn.Linear(c, params.embed_dim))

    def embed(self, net: DepthNet, image: torch.Tensor) -> torch.Tensor:
        return self.head(net.encoder(image)[-1].mean(dim=(2, 3)))

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        z_a = self.embed(net, batch["image"])
        z_b = self.embed(net, batch["image2"])
        labels = batch["clip"]
        all_b, all_labels = z_b, labels
        if gather is not None:
            all_b, all_labels = gather(z_b), gather(labels)
        loss = info_nce_loss(z_a, all_b, labels, all_labels, self.params.temperature)
        return loss, {"contrastive_nce": loss.detach()}

"""``selfie``: choose the true patch of each hidden cell among the other hidden patches of the same image
(Trinh et al. 2019). The numerical core is :mod:`mannequin.learning.pretext.selfie`."""

from __future__ import annotations

import torch

from mannequin.config.objectives import SelfieParams
from mannequin.learning.nets import DepthNet
from mannequin.learning.objectives.base import Gather, Objective, probe_features
from mannequin.learning.pretext.selfie import SelfieHead, selfie_accuracy, selfie_batch, selfie_loss


class SelfieObjective(Objective):
    """Fill hidden cells by choosing the true patch among the image's other hidden patches (Trinh et al. 2019)."""

    name = "selfie"
    params: SelfieParams

    def __init__(self, net: DepthNet, params: SelfieParams) -> None:
        super().__init__(net, params)
        self.head = SelfieHead(net.encoder.out_channels, 3, params.dim, temperature=params.temperature)
        with torch.no_grad():  # the head must fit the backbone's width: one probe at build time
            self.head(probe_features(net), torch.zeros(1, 2, 2), torch.zeros(1, 2, 3, 4, 4))

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        p = self.params
        problem = selfie_batch(batch["image"], p.patch, p.k, p.margin, p.fill)
        feats = net.encoder(problem["masked"])[-1]
        logits = self.head(feats, problem["positions"], problem["candidates"])
        loss = selfie_loss(logits)
        return loss, {"selfie_ce": loss.detach(), "selfie_acc": selfie_accuracy(logits.detach())}

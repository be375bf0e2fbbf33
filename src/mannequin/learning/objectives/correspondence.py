"""``correspondence``: two frames of one clip (``image`` / ``image2``) against frames of other clips in the batch,
each frame recoloured independently; a similarity map max-pooled to one logit, binary cross-entropy (after
Arandjelović and Zisserman 2018). The numerical core is :mod:`mannequin.learning.pretext.correspondence`."""

from __future__ import annotations

import torch

from mannequin.config.objectives import CorrespondenceParams
from mannequin.learning.nets import DepthNet
from mannequin.learning.objectives.base import Gather, Objective, probe_features
from mannequin.learning.pretext.correspondence import CorrespondenceHead, build_pairs, correspondence_loss


class CorrespondenceObjective(Objective):
    """Same clip or not? A max-pooled similarity map over two frames' backbone features, binary loss."""

    name = "correspondence"
    needs_pairs = True
    params: CorrespondenceParams

    def __init__(self, net: DepthNet, params: CorrespondenceParams) -> None:
        super().__init__(net, params)
        self.head = CorrespondenceHead(net.encoder.out_channels, params.dim)
        with torch.no_grad():
            self.head(probe_features(net), probe_features(net))  # the head must fit the backbone's width

    def score_pair(self, net: DepthNet, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames (B, 3, H, W) -> (logit (B,), similarity map (B, 1, h, w)) of the trained head."""
        return self.head(net.encoder(a)[-1], net.encoder(b)[-1])

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        a, b, same = build_pairs(batch["image"], batch["image2"], batch["clip"], recolour=self.params.recolour)
        logit, _map = self.score_pair(net, a, b)
        loss = correspondence_loss(logit, same)
        acc = ((logit.detach() > 0).float() == same).float().mean()
        return loss, {"correspondence_bce": loss.detach(), "correspondence_acc": acc}

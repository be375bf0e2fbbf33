"""``mvs``: regress the curated MVS depth (the paper's targets); the head is the network's own depth decoder.

Scale-invariant log loss + multi-scale gradient matching, confidence-weighted. With ``net.head: bins`` the loss is the
bins' soft-target cross-entropy (+ gradient matching of the decoded expectation) instead of the scale-invariant one.
"""

from __future__ import annotations

import torch

from mannequin.config.objectives import MvsObjectiveParams
from mannequin.learning.losses import gradient_matching_loss, scale_invariant_loss
from mannequin.learning.nets import DepthNet, net_input
from mannequin.learning.objectives.base import Gather, Objective


class MvsObjective(Objective):
    """Scale-invariant log loss + multi-scale gradient matching against MVS depth."""

    name = "mvs"
    trains_decoder = True
    reads_parallax = True
    params: MvsObjectiveParams

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        out = net.decode(net_input(net, batch))
        pred = net.log_depth(out)
        grad = gradient_matching_loss(pred, batch["depth"], batch["confidence"], self.params.gradient_scales)
        if net.head == "bins":  # the distribution's cross-entropy replaces the scale-invariant regression
            ce = net.bins_loss(out, batch["depth"], batch["confidence"])
            loss = ce + self.params.gradient_weight * grad
            return loss, {"mvs_bins_ce": ce.detach(), "mvs_grad": grad.detach(), "pred_log": pred.detach()}
        si = scale_invariant_loss(pred, batch["depth"], batch["confidence"])
        loss = si + self.params.gradient_weight * grad
        return loss, {"mvs_si": si.detach(), "mvs_grad": grad.detach(), "pred_log": pred.detach()}

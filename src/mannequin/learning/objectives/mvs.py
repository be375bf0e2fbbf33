"""``mvs``: regress the curated MVS depth (the paper's targets); the head is the network's own depth decoder.

Scale-invariant log loss + multi-scale gradient matching, confidence-weighted. With ``net.head: bins`` the loss is the
bins' soft-target cross-entropy (+ gradient matching of the decoded expectation) instead of the scale-invariant one.
"""

from __future__ import annotations

import torch

from mannequin.config.objectives import MvsObjectiveParams
from mannequin.learning.losses import edge_aware_smoothness_loss, gradient_matching_loss, scale_invariant_loss
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
            loss, logs = ce + self.params.gradient_weight * grad, {"mvs_bins_ce": ce.detach()}
        else:
            si = scale_invariant_loss(pred, batch["depth"], batch["confidence"])
            loss, logs = si + self.params.gradient_weight * grad, {"mvs_si": si.detach()}
        logs.update(mvs_grad=grad.detach(), pred_log=pred.detach())
        smooth = self._smoothness(pred, batch)
        if smooth is not None:
            loss = loss + smooth
            logs["mvs_smooth"] = smooth.detach()
        return loss, logs

    def _smoothness(self, pred: torch.Tensor, batch: dict) -> torch.Tensor | None:
        """``smoothness_weight`` x the edge-aware smoothness of ``pred`` where the target has no confident pixel
        (None when the weight is 0: the loss is then exactly what it was without the term)."""
        if self.params.smoothness_weight <= 0:
            return None
        depth, confidence = batch["depth"], batch["confidence"]
        known = torch.isfinite(depth) & (depth > 0) & (confidence.nan_to_num(0.0) > 0)
        free = (~known).float()
        return self.params.smoothness_weight * edge_aware_smoothness_loss(pred, batch["image"], free)

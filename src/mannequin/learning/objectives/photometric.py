"""``photometric``: source frames of the same clip warped into each frame through its predicted depth and the clip's
known cameras; monodepth2's loss (Godard et al. 2019). The head is the network's own depth decoder.

The cameras are the curated ones (given or SfM poses), so there is no pose network. Every decoder scale
(:meth:`~mannequin.learning.nets.DepthNet.decode_all`) is upsampled to the input's size and scored there, as in
monodepth2; the edge-aware smoothness of mean-normalised inverse depth is scored at each scale's own size, halved per
coarser scale. Pixels inside the clip's masks (people, anything that may move) are left out when
``photometric.masks`` is on. The numerical core is :mod:`mannequin.learning.pretext.photometric`; the batch's
frames and cameras come from :mod:`mannequin.learning.source_views` (intrinsics from the batch, so augmentation that
moves pixels keeps them consistent).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mannequin.config.objectives import PhotometricParams
from mannequin.learning.nets import DepthNet, net_input
from mannequin.learning.objectives.base import Gather, Objective
from mannequin.learning.pretext.photometric import (
    PhotometricTerms,
    anchor_depth,
    edge_aware_smoothness,
    photometric_terms,
    scale_poses,
)
from mannequin.learning.source_views import SourceViews


class PhotometricObjective(Objective):
    """monodepth2's minimum reprojection loss with auto-masking and edge-aware smoothness, with known poses."""

    name = "photometric"
    trains_decoder = True
    reads_parallax = True
    params: PhotometricParams

    def views(self) -> SourceViews:
        p = self.params
        return SourceViews(p.sources, p.min_angle_deg, p.max_angle_deg)

    def terms(self, log_depth: torch.Tensor, batch: dict) -> PhotometricTerms:
        """The photometric terms of one log-depth map (B, 1, H, W) at the input's size."""
        p = self.params
        depth, pose_scale, anchored = anchor_depth(log_depth, batch["depth"])
        counted = anchored.view(-1, 1, 1, 1).expand_as(depth)
        if p.masks:
            counted = counted & (batch["mask"] < 0.5)
        return photometric_terms(
            batch["target"], batch["sources"], depth, batch["K"], batch["source_K"],
            scale_poses(batch["source_pose"], pose_scale), ssim_weight=p.ssim_weight, automask=p.automask,
            counted=counted,
        )  # fmt: skip

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        size = batch["target"].shape[-2:]
        outputs = net.decode_all(net_input(net, batch))
        photometric = smooth = None
        total = torch.zeros((), device=batch["target"].device)
        for k, out in enumerate(outputs):
            log_depth = net.log_depth(out)
            full = log_depth if log_depth.shape[-2:] == size else F.interpolate(
                log_depth, size=size, mode="bilinear", align_corners=False
            )  # fmt: skip
            terms = self.terms(full, batch)
            image = batch["target"]
            if image.shape[-2:] != log_depth.shape[-2:]:
                image = F.interpolate(image, size=log_depth.shape[-2:], mode="area")
            s = edge_aware_smoothness(torch.exp(-log_depth), image)
            total = total + terms.loss + self.params.smoothness_weight * s / 2**k
            if k == 0:
                photometric, smooth, first = terms.loss, s, terms
        loss = total / len(outputs)
        counted = first.counted.float().sum().clamp_min(1.0)
        automasked = (first.automasked & first.counted).float().sum() / counted
        return loss, {
            "photometric_error": photometric.detach(),  # type: ignore[union-attr]
            "photometric_smooth": smooth.detach(),  # type: ignore[union-attr]
            "photometric_automasked": automasked.detach(),
            "photometric_counted": (first.counted.float().mean()).detach(),
        }

    @torch.no_grad()
    def panel(self, net: DepthNet, batch: dict) -> torch.Tensor | None:
        """First frame of the batch: target | each warped source | per-pixel minimum error | auto-mask (white: in the
        loss, black: auto-masked, red: left out by the clip's masks)."""
        one = {k: v[:1] for k, v in batch.items() if isinstance(v, torch.Tensor)}
        was_training = net.training
        net.eval()
        terms = self.terms(net.log_depth(net.decode_all(net_input(net, one))[0]), one)
        net.train(was_training)
        error = terms.per_pixel[0, 0]
        scale = error.flatten().quantile(0.98).clamp_min(1e-6)
        grey = (error / scale).clamp(0, 1).expand(3, -1, -1)
        kept = (~terms.automasked[0, 0] & terms.counted[0, 0]).float()
        left_out = (~terms.counted[0, 0]).float()
        mask = torch.stack([torch.maximum(kept, left_out), kept, kept])
        tiles = [one["target"][0], *terms.warped[0], grey, mask]
        return torch.cat([t.float().cpu() for t in tiles], dim=2)

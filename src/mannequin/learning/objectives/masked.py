"""``masked``: hide random patches of the input and reconstruct the RGB (loss on hidden pixels only).

Head: a small decoder over the backbone features.
"""

from __future__ import annotations

import torch

from mannequin.config.objectives import MaskedParams
from mannequin.learning.losses import masked_reconstruction_loss, random_patch_mask
from mannequin.learning.nets import Decoder, DepthNet
from mannequin.learning.objectives.base import Gather, Objective


class MaskedObjective(Objective):
    """Hide square patches (filled with grey) and reconstruct the RGB under them."""

    name = "masked"
    params: MaskedParams

    def __init__(self, net: DepthNet, params: MaskedParams) -> None:
        super().__init__(net, params)
        self.head = Decoder(net.encoder.channels, 3)

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        image = batch["image"]
        b, _, h, w = image.shape
        hidden = random_patch_mask(b, h, w, self.params.patch, self.params.ratio, device=image.device)
        masked = image * (1 - hidden) + 0.45 * hidden
        recon = torch.sigmoid(self.head(net.encoder(masked), (h, w)))
        loss = masked_reconstruction_loss(recon, image, hidden)
        return loss, {"masked_mse": loss.detach()}

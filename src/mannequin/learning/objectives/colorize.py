"""``colorize``: L in (replicated to 3 channels as ``L / 100``, so the RGB backbone reads it unchanged), a
distribution over the ab bins occupied by the training frames out; rebalanced soft-target cross-entropy.

The bins are counted once, at setup, over an evenly spaced sample of the training frames (``colorize.bin_frames``),
and kept as head buffers, so the checkpoint records them. The numerical core is
:mod:`mannequin.learning.pretext.colorize`.
"""

from __future__ import annotations

import torch

from mannequin.config.objectives import ColorizeParams
from mannequin.errors import InputError
from mannequin.learning.nets import Decoder, DepthNet
from mannequin.learning.objectives.base import Gather, Objective, sample_frames
from mannequin.learning.pretext.colorize import ColorizeHead, build_ab_bins, colorize_input


class ColorizeObjective(Objective):
    """Colourisation as classification over the ab bins of the training frames (Zhang et al. 2016)."""

    name = "colorize"
    params: ColorizeParams

    def __init__(self, net: DepthNet, params: ColorizeParams) -> None:
        super().__init__(net, params)
        self.channels = net.encoder.channels
        self.decoder = Decoder(self.channels, self.channels[0])
        self.head: ColorizeHead | None = None  # built by prepare(): its size is the number of occupied bins

    def prepare(self, net: DepthNet, datamodule: object | None) -> None:
        if self.head is not None:
            return
        train_set = getattr(datamodule, "train_set", None)
        if train_set is None:
            raise InputError("colorize", "needs the training frames to count its ab bins", "no_colour")
        frames = sample_frames(train_set, self.params.bin_frames)
        source = getattr(datamodule, "curated", "colorize")
        bins = build_ab_bins(frames, self.params.grid, source)
        self.head = ColorizeHead(self.channels[0], bins, self.params.lam, self.params.sigma)
        self.head.to(next(self.decoder.parameters()).device)

    def _logits(self, net: DepthNet, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.head is None:
            raise RuntimeError("colorize: prepare() (Lightning's setup) must run before the first step")
        x, lightness, ab = colorize_input(image)
        h, w = image.shape[-2:]
        logits = self.head(self.decoder(net.encoder(x), (max(1, h // 4), max(1, w // 4))))
        return logits, lightness, ab

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        logits, _lightness, ab = self._logits(net, batch["image"])
        loss = self.head.loss(logits, ab, self.params.k, self.params.sigma)  # type: ignore[union-attr]
        return loss, {"colorize_ce": loss.detach()}

    @torch.no_grad()
    def panel(self, net: DepthNet, batch: dict) -> torch.Tensor | None:
        """The L input | the annealed-mean colourisation | the truth, first frame of the batch."""
        if self.head is None:
            return None
        logits, _, _ = self._logits(net, batch["image"][:1])
        return self.head.panel(logits, batch["image"][:1], self.params.temperature)

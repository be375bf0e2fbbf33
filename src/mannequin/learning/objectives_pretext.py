"""The pretexts of issue 15 as registered objectives, wired from the numerical cores in :mod:`.pretext`.

- ``colorize``: L in (replicated to 3 channels as ``L / 100``, so the RGB backbone reads it unchanged), a
  distribution over the ab bins occupied by the training frames out; rebalanced soft-target cross-entropy.
  The bins are counted once, at setup, over an evenly spaced sample of the training frames
  (``colorize_bin_frames``), and kept as head buffers, so the checkpoint records them.
- ``selfie``: choose the true patch among the other hidden patches of the same image.
- ``correspondence``: two frames of one clip (``image`` / ``image2``) against frames of other clips in the batch,
  each frame recoloured independently; a similarity map max-pooled to one logit, binary cross-entropy.

Each head is the objective's own; the backbone is the shared encoder.
"""

from __future__ import annotations

import numpy as np
import torch

from mannequin.config.learning import ObjectiveParams
from mannequin.errors import InputError
from mannequin.learning.nets import Decoder, DepthNet
from mannequin.learning.objectives import Gather, Objective, register
from mannequin.learning.pretext.colorize import ColorizeHead, build_ab_bins, colorize_input
from mannequin.learning.pretext.correspondence import CorrespondenceHead, build_pairs, correspondence_loss
from mannequin.learning.pretext.selfie import SelfieHead, selfie_accuracy, selfie_batch, selfie_loss


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


@register
class ColorizeObjective(Objective):
    """Colourisation as classification over the ab bins of the training frames (Zhang et al. 2016)."""

    name = "colorize"

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
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
        frames = sample_frames(train_set, self.params.colorize_bin_frames)
        source = getattr(datamodule, "curated", "colorize")
        bins = build_ab_bins(frames, self.params.colorize_grid, source)
        p = self.params
        self.head = ColorizeHead(self.channels[0], bins, p.colorize_lambda, p.colorize_sigma)
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
        loss = self.head.loss(logits, ab, self.params.colorize_k, self.params.colorize_sigma)  # type: ignore[union-attr]
        return loss, {"colorize_ce": loss.detach()}

    @torch.no_grad()
    def panel(self, net: DepthNet, batch: dict) -> torch.Tensor | None:
        """The L input | the annealed-mean colourisation | the truth, first frame of the batch."""
        if self.head is None:
            return None
        logits, _, _ = self._logits(net, batch["image"][:1])
        return self.head.panel(logits, batch["image"][:1], self.params.colorize_temperature)


@register
class SelfieObjective(Objective):
    """Fill hidden cells by choosing the true patch among the image's other hidden patches (Trinh et al. 2019)."""

    name = "selfie"

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
        super().__init__(net, params)
        self.head = SelfieHead(net.encoder.out_channels, 3, params.selfie_dim, temperature=params.temperature)
        with torch.no_grad():  # the head must fit the backbone's width: one probe at build time
            self.head(probe_features(net), torch.zeros(1, 2, 2), torch.zeros(1, 2, 3, 4, 4))

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        p = self.params
        problem = selfie_batch(batch["image"], p.selfie_patch, p.selfie_k, p.selfie_margin, p.selfie_fill)
        feats = net.encoder(problem["masked"])[-1]
        logits = self.head(feats, problem["positions"], problem["candidates"])
        loss = selfie_loss(logits)
        return loss, {"selfie_ce": loss.detach(), "selfie_acc": selfie_accuracy(logits.detach())}


@register
class CorrespondenceObjective(Objective):
    """Same clip or not? A max-pooled similarity map over two frames' backbone features, binary loss."""

    name = "correspondence"
    needs_pairs = True

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
        super().__init__(net, params)
        self.head = CorrespondenceHead(net.encoder.out_channels, params.correspondence_dim)
        with torch.no_grad():
            self.head(probe_features(net), probe_features(net))  # the head must fit the backbone's width

    def score_pair(self, net: DepthNet, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames (B, 3, H, W) -> (logit (B,), similarity map (B, 1, h, w)) of the trained head."""
        return self.head(net.encoder(a)[-1], net.encoder(b)[-1])

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        a, b, same = build_pairs(
            batch["image"], batch["image2"], batch["clip"], recolour=self.params.correspondence_recolour
        )
        logit, _map = self.score_pair(net, a, b)
        loss = correspondence_loss(logit, same)
        acc = ((logit.detach() > 0).float() == same).float().mean()
        return loss, {"correspondence_bce": loss.detach(), "correspondence_acc": acc}

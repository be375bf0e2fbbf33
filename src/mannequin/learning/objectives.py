"""Pretext objectives: a pure loss (``losses.py``) plus a small head, chosen by name from a registry.

A method is backbone + head + loss (solo-learn style): each objective takes the shared
:class:`~mannequin.learning.nets.DepthNet` and a batch, and returns its loss and log values.

Registered names:

- ``mvs``: regress the curated MVS depth (scale-invariant log loss + multi-scale gradient
  matching, confidence-weighted). Its head is the network's own depth decoder.
- ``masked``: hide random patches of the input and reconstruct the RGB (loss on hidden pixels).
  Head: a small decoder over the backbone features.
- ``contrastive``: InfoNCE on pooled backbone features; frames of the same clip are positives,
  frames of other clips negatives; embeddings are gathered across processes under DDP.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from mannequin.config.learning import ObjectiveParams
from mannequin.errors import InputError
from mannequin.learning.losses import (
    gradient_matching_loss,
    info_nce_loss,
    masked_reconstruction_loss,
    random_patch_mask,
    scale_invariant_loss,
)
from mannequin.learning.nets import Decoder, DepthNet

Gather = Callable[[torch.Tensor], torch.Tensor]


class Objective(nn.Module):
    """Base class: ``forward(net, batch, gather)`` returns ``(loss, {name: value})``."""

    name: str = ""
    #: whether this objective trains the depth decoder (then fine-tuning reuses it).
    trains_decoder: bool = False
    #: whether batches need a second frame of the same clip (``image2``).
    needs_pairs: bool = False

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
        super().__init__()
        self.params = params


_REGISTRY: dict[str, type[Objective]] = {}


def register(cls: type[Objective]) -> type[Objective]:
    """Class decorator adding an objective to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def objective_names() -> list[str]:
    return sorted(_REGISTRY)


def parse_objectives(spec: str | list[str]) -> list[str]:
    """``"mvs+masked"`` or ``["mvs", "masked"]`` -> validated, de-duplicated names in given order."""
    names = spec.split("+") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise InputError("--objective", "no objective given", "unknown_objective")
    for n in names:
        if n not in _REGISTRY:
            raise InputError(
                "--objective", f"unknown objective {n!r} (known: {', '.join(objective_names())})", "unknown_objective"
            )
    return list(dict.fromkeys(names))


def build_objective(name: str, net: DepthNet, params: ObjectiveParams) -> Objective:
    parse_objectives([name])
    return _REGISTRY[name](net, params)


@register
class MvsObjective(Objective):
    """Scale-invariant log loss + multi-scale gradient matching against MVS depth."""

    name = "mvs"
    trains_decoder = True

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        pred = net(batch["image"])
        si = scale_invariant_loss(pred, batch["depth"], batch["confidence"])
        grad = gradient_matching_loss(pred, batch["depth"], batch["confidence"], self.params.gradient_scales)
        loss = si + self.params.gradient_weight * grad
        return loss, {"mvs_si": si.detach(), "mvs_grad": grad.detach(), "pred_log": pred.detach()}


@register
class MaskedObjective(Objective):
    """Hide square patches (filled with grey) and reconstruct the RGB under them."""

    name = "masked"

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
        super().__init__(net, params)
        self.head = Decoder(net.encoder.channels, 3)

    def forward(self, net: DepthNet, batch: dict, gather: Gather | None = None) -> tuple[torch.Tensor, dict]:
        image = batch["image"]
        b, _, h, w = image.shape
        hidden = random_patch_mask(b, h, w, self.params.mask_patch, self.params.mask_ratio, device=image.device)
        masked = image * (1 - hidden) + 0.45 * hidden
        recon = torch.sigmoid(self.head(net.encoder(masked), (h, w)))
        loss = masked_reconstruction_loss(recon, image, hidden)
        return loss, {"masked_mse": loss.detach()}


@register
class ContrastiveObjective(Objective):
    """InfoNCE between two frames of each clip, over pooled backbone features."""

    name = "contrastive"
    needs_pairs = True

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
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

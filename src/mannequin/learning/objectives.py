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
- ``colorize``, ``selfie``, ``correspondence``: see :mod:`mannequin.learning.objectives_pretext`.

With ``net.head: bins`` the ``mvs`` loss is the bins' soft-target cross-entropy (+ gradient matching of
the decoded expectation) instead of the scale-invariant log loss.
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
from mannequin.learning.nets import Decoder, DepthNet, net_input

Gather = Callable[[torch.Tensor], torch.Tensor]


class Objective(nn.Module):
    """Base class: ``forward(net, batch, gather)`` returns ``(loss, {name: value})``.

    ``prepare(net, datamodule)`` runs once the training data is known (Lightning's ``setup``), before a
    checkpoint is restored: an objective whose head depends on the data (``colorize``'s ab bins) builds it there.
    """

    name: str = ""
    #: whether this objective trains the depth decoder (then fine-tuning reuses it).
    trains_decoder: bool = False
    #: whether batches need a second frame of the same clip (``image2``).
    needs_pairs: bool = False
    #: whether it can train an ``rgb+parallax`` net (it feeds the net :func:`~mannequin.learning.nets.net_input`).
    reads_parallax: bool = False

    def __init__(self, net: DepthNet, params: ObjectiveParams) -> None:
        super().__init__()
        self.params = params

    def prepare(self, net: DepthNet, datamodule: object | None) -> None:
        """Build what depends on the training data; nothing by default."""

    def panel(self, net: DepthNet, batch: dict) -> torch.Tensor | None:
        """A (3, H, W) image for TensorBoard, or None."""
        return None


_REGISTRY: dict[str, type[Objective]] = {}


def register(cls: type[Objective]) -> type[Objective]:
    """Class decorator adding an objective to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def objective_names() -> list[str]:
    return sorted(_REGISTRY)


def parse_objectives(spec: str | list[str], option: str = "--objective") -> list[str]:
    """``"mvs+masked"`` or ``["mvs", "masked"]`` -> validated, de-duplicated names in given order.

    ``option`` is what an error names (the command-line option the spec came from).
    """
    names = spec.split("+") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise InputError(option, "no objective given", "unknown_objective")
    for n in names:
        if n not in _REGISTRY:
            raise InputError(
                option, f"unknown objective {n!r} (known: {', '.join(objective_names())})", "unknown_objective"
            )
    return list(dict.fromkeys(names))


def build_objective(name: str, net: DepthNet, params: ObjectiveParams) -> Objective:
    """The objective ``name`` for ``net``; a head that does not fit the backbone is an error naming it, as is an
    ``rgb+parallax`` net for an objective that reads RGB only."""
    parse_objectives([name])
    if net.inputs != "rgb" and not _REGISTRY[name].reads_parallax:
        takers = ", ".join(n for n in objective_names() if _REGISTRY[n].reads_parallax)
        raise InputError(
            f"pretrain.objective ({name})",
            f"{name} reads RGB only and cannot train a net with inputs {net.inputs} (objectives that can: {takers})",
            "bad_inputs",
        )
    try:
        return _REGISTRY[name](net, params)
    except (RuntimeError, ValueError) as exc:
        raise InputError(
            f"pretrain.objective ({name})",
            f"the {name} head does not fit the backbone (width {net.encoder.out_channels}): {exc}",
            "bad_head",
        ) from None


@register
class MvsObjective(Objective):
    """Scale-invariant log loss + multi-scale gradient matching against MVS depth."""

    name = "mvs"
    trains_decoder = True
    reads_parallax = True

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


# the pretexts of issue 15 register themselves on import (after the base classes above exist)
from mannequin.learning import objectives_pretext  # noqa: E402, F401

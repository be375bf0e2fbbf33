"""Do two frames show the same scene? A spatial similarity map max-pooled to one logit.

After Arandjelović and Zisserman, Objects that Sound (2018), with a second frame standing in
for the sound: every position of frame A's feature map is compared (cosine) with every
position of frame B's; the largest similarity, calibrated by a learnt scale and bias, is the
logit of a binary cross-entropy (two frames of one clip: 1; frames of different clips: 0). At
inference the per-position map (each position of A: its best match in B) localises what
the two frames share; :func:`write_similarity_png` draws it.

Shortcut closed: per-image colour statistics. Frames of one clip share a palette, so a pair
could be told apart by comparing colour histograms without any look at structure. The pairs
are built by :func:`build_pairs`, which recolours every frame independently
(:func:`decorrelate_colour`: random channel order, per-channel gain and offset, sometimes
grey), so the two frames of a positive pair differ in colour statistics as much as those of
a negative pair. The known-answer test shows that a linear probe on colour histograms of the
pairs stays near chance, and solves them when the recolouring is switched off.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from mannequin.atomic import atomic_path


def similarity(feat_a: torch.Tensor, feat_b: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) x (B, C, h', w') -> (B, h*w, h'*w') cosine similarity of every pair of positions."""
    a = F.normalize(feat_a.flatten(2).float(), dim=1)
    b = F.normalize(feat_b.flatten(2).float(), dim=1)
    return a.transpose(1, 2) @ b


def similarity_map(sim: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, h*w, h'*w') -> (B, 1, h, w): for each position of frame A, its best similarity in frame B."""
    return sim.amax(dim=2).view(-1, 1, height, width)


def max_pooled_logit(sim: torch.Tensor, scale: torch.Tensor | float, bias: torch.Tensor | float) -> torch.Tensor:
    """(B, h*w, h'*w') -> (B,) logit ``scale * max similarity + bias``."""
    return scale * sim.flatten(1).amax(dim=1) + bias


def correspondence_loss(logit: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the pair logits against ``same`` (1: one clip, 0: different clips)."""
    return F.binary_cross_entropy_with_logits(logit.float(), same.float())


class CorrespondenceHead(nn.Module):
    """A shared projection of both frames' backbone features, then the max-pooled similarity logit.

    ``forward(feat_a, feat_b)`` -> ``(logit (B,), map (B, 1, h, w))``. The calibration is
    ``scale * (max cosine - threshold)``, learnt as a log-scale and a threshold in cosine units
    (so one optimiser step moves both by comparable amounts); it starts at 10 and 0.5.
    """

    def __init__(self, in_channels: int, dim: int = 64, scale: float = 10.0, threshold: float = 0.5) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(in_channels, dim, 1), nn.SiLU(), nn.Conv2d(dim, dim, 1))
        self.log_scale = nn.Parameter(torch.tensor(float(scale)).log())
        self.threshold = nn.Parameter(torch.tensor(float(threshold)))

    def forward(self, feat_a: torch.Tensor, feat_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sim = similarity(self.project(feat_a), self.project(feat_b))
        scale = self.log_scale.exp()
        return max_pooled_logit(sim, scale, -scale * self.threshold), similarity_map(sim, *feat_a.shape[-2:])


def decorrelate_colour(
    image: torch.Tensor,
    generator: torch.Generator | None = None,
    gain: float = 0.4,
    offset: float = 0.2,
    grey_p: float = 0.2,
) -> torch.Tensor:
    """Recolour each image of (B, 3, H, W) on its own: channel order, per-channel gain/offset, sometimes grey."""
    b = image.shape[0]

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator).to(image)

    perm = torch.rand(b, 3, generator=generator).argsort(dim=1).to(image.device)
    x = torch.gather(image, 1, perm.view(b, 3, 1, 1).expand_as(image))
    x = x * (1 + gain * (2 * uniform(b, 3, 1, 1) - 1)) + offset * (2 * uniform(b, 3, 1, 1) - 1)
    grey = uniform(b, 1, 1, 1) < grey_p
    x = torch.where(grey, x.mean(dim=1, keepdim=True).expand_as(x), x)
    return x.clamp(0, 1)


def negative_partners(clip: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B,) for each row a random row of another clip, or -1 where the batch holds no other clip."""
    other = clip[:, None] != clip[None, :]
    scores = torch.rand(other.shape, generator=generator).to(clip.device).masked_fill(~other, -1.0)
    best = scores.argmax(dim=1)
    return torch.where(other.any(dim=1), best, -1)


def build_pairs(
    image: torch.Tensor,
    image2: torch.Tensor,
    clip: torch.Tensor,
    generator: torch.Generator | None = None,
    recolour: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pairs from a batch whose row ``i`` holds two frames of clip ``clip[i]``.

    Positives: ``(image[i], image2[i])``; negatives: ``(image[i], image2[j])`` with ``j`` of
    another clip. With ``recolour`` every frame of every pair is recoloured independently.
    Returns ``(frames_a, frames_b, same)``.
    """
    partner = negative_partners(clip, generator)
    has = partner >= 0
    a = torch.cat([image, image[has]])
    b = torch.cat([image2, image2[partner[has]]])
    same = torch.cat([torch.ones(len(image)), torch.zeros(int(has.sum()))]).to(image.device)
    if recolour:
        a, b = decorrelate_colour(a, generator), decorrelate_colour(b, generator)
    return a, b, same


def write_similarity_png(
    path: str | Path, frame_a: torch.Tensor, frame_b: torch.Tensor, sim_map: torch.Tensor, logit: float | None = None
) -> Path:
    """Write frame A, frame B and A overlaid with its similarity map (h, w) as one PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def rgb(x: torch.Tensor):
        return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()

    h, w = frame_a.shape[-2:]
    heat = F.interpolate(sim_map.detach().float().view(1, 1, *sim_map.shape[-2:]), size=(h, w), mode="bilinear")
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    try:
        axes[0].imshow(rgb(frame_a))
        axes[0].set_title("frame A")
        axes[1].imshow(rgb(frame_b))
        axes[1].set_title("frame B")
        axes[2].imshow(rgb(frame_a))
        shown = axes[2].imshow(heat[0, 0].cpu().numpy(), cmap="magma", alpha=0.6, vmin=-1, vmax=1)
        axes[2].set_title("best match in B" + (f" (logit {logit:.2f})" if logit is not None else ""))
        fig.colorbar(shown, ax=axes[2], fraction=0.046)
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=80)
    finally:
        plt.close(fig)
    return path

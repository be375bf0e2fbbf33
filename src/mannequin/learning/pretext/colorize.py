"""Colourisation as classification (Zhang et al., Colorful Image Colorization, ECCV 2016).

Input: the L channel of CIE Lab (kornia's conversion, D65). Output: per pixel, a distribution
over quantised ab bins. The bins are the cells of a ``grid``-unit ab grid (10 in the paper,
313 in-gamut cells on natural images) that the training frames actually occupy, so the set is
computed from the data (:func:`build_ab_bins`), never assumed. Targets are soft: each pixel's
ab is spread over its ``k`` nearest bin centres with Gaussian weights (``sigma`` ab units).
The cross-entropy is rebalanced per pixel by ``w(q*)``, ``q*`` the pixel's nearest bin, with
``w ∝ ((1 - λ) p̃ + λ / Q)^-1`` where ``p̃`` is the empirical bin frequency smoothed by a
Gaussian (``sigma``) in ab space; ``w`` is normalised so that its expectation under the
empirical bin distribution is 1 (the mean weight over the training pixels is 1). Decoding is
the annealed mean: the mean ab under ``softmax(logits / T)``, T about 0.38.

How an L-only input feeds the RGB encoder: **L is replicated to three channels** (as ``L / 100``,
a grey RGB image; :func:`l_as_rgb`). The backbone keeps its 3-channel first convolution, so
``backbone.pt`` is loaded for RGB fine-tuning without any surgery. Replication is exactly the
same network as summing the first convolution's weights over its input channels and feeding L
alone (``conv(x, x, x) = (W_r + W_g + W_b) * x``). While colorize trains, the three input
channels are equal, so ``W_r``, ``W_g`` and ``W_b`` get the same gradient: their sum learns,
their differences keep their initial values (up to weight decay), and RGB fine-tuning learns
them from there. Grey frames are also what the augmentation's ``grayscale_p`` option feeds the
depth pretexts, so the input is in the encoder's domain. Colour cannot leak into the input:
it is computed from the (augmented) frame's L alone, after any colour augmentation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import kornia.color
import torch
import torch.nn.functional as F
from torch import nn

from mannequin.errors import InputError

AB_GRID = 10.0
ANNEAL_T = 0.38


def rgb_to_l_ab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB in [0, 1], (B, 3, H, W) -> L in [0, 100] (B, 1, H, W) and ab (B, 2, H, W)."""
    lab = kornia.color.rgb_to_lab(rgb.float().clamp(0, 1))
    return lab[:, :1], lab[:, 1:]


def l_as_rgb(lightness: torch.Tensor) -> torch.Tensor:
    """L in [0, 100] (B, 1, H, W) -> the grey 3-channel image ``L / 100`` the RGB encoder reads."""
    return (lightness / 100.0).clamp(0, 1).expand(-1, 3, -1, -1)


def colorize_input(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB frame -> (encoder input with L only, L, ab target)."""
    lightness, ab = rgb_to_l_ab(rgb)
    return l_as_rgb(lightness), lightness, ab


def lab_to_rgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L (B, 1, H, W) and ab (B, 2, H, W) -> RGB in [0, 1]."""
    return kornia.color.lab_to_rgb(torch.cat([lightness, ab], dim=1), clip=True)


def ab_cells(ab: torch.Tensor, grid: float = AB_GRID) -> torch.Tensor:
    """(..., 2, H, W) ab -> (N, 2) integer grid cells (nearest centre ``grid * cell``) of every pixel."""
    return torch.round(ab.movedim(-3, -1).reshape(-1, 2) / grid).long()


@dataclass(frozen=True)
class AbBins:
    """The occupied ab cells: ``centres`` (Q, 2) in ab units and their pixel ``counts`` (Q,)."""

    centres: torch.Tensor
    counts: torch.Tensor
    grid: float = AB_GRID

    @property
    def size(self) -> int:
        return len(self.centres)

    @property
    def frequency(self) -> torch.Tensor:
        return self.counts.double() / self.counts.sum()


def build_ab_bins(
    images: Iterable[torch.Tensor], grid: float = AB_GRID, source: str | Path | None = "colorize"
) -> AbBins:
    """Count the ab cells that the pixels of ``images`` (each (B, 3, H, W) or (3, H, W), RGB in [0, 1]) fall in.

    Frames without colour (every pixel in the single achromatic cell) leave nothing to learn:
    that is a one-line :class:`InputError` naming ``source``.
    """
    counts: dict[tuple[int, int], int] = {}
    pixels = 0
    for image in images:
        image = image if image.dim() == 4 else image.unsqueeze(0)
        cells, n = ab_cells(rgb_to_l_ab(image)[1], grid).unique(dim=0, return_counts=True)
        for (a, b), c in zip(cells.tolist(), n.tolist()):
            counts[(a, b)] = counts.get((a, b), 0) + c
        pixels += int(n.sum())
    if len(counts) < 2:
        what = "no frames" if pixels == 0 else f"all {pixels} pixels are grey (one ab bin)"
        raise InputError(source, f"colorize needs colour frames: {what}, nothing to learn", "no_colour")
    keys = sorted(counts)
    centres = torch.tensor(keys, dtype=torch.float32) * grid
    return AbBins(centres, torch.tensor([counts[k] for k in keys], dtype=torch.float64), grid)


def nearest_bin(ab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W) ab -> (B, H, W) index of the nearest bin centre."""
    return _sq_dist(ab, centres).argmin(dim=1)


def _sq_dist(ab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W), (Q, 2) -> (B, Q, H, W) squared ab distances."""
    c = centres.to(ab).view(1, -1, 2, 1, 1)
    return ((ab.unsqueeze(1) - c) ** 2).sum(dim=2)


def soft_encode(ab: torch.Tensor, centres: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """(B, 2, H, W) ab -> (B, Q, H, W) targets: Gaussian weights on the ``k`` nearest centres, summing to 1."""
    d2 = _sq_dist(ab.float(), centres)
    k = min(k, d2.shape[1])
    near, idx = d2.topk(k, dim=1, largest=False)
    weights = torch.softmax(-near / (2 * sigma**2), dim=1)
    return torch.zeros_like(d2).scatter_(1, idx, weights)


def rebalancing_weights(bins: AbBins, lam: float = 0.5, sigma: float = 5.0) -> torch.Tensor:
    """(Q,) weights ``∝ ((1 - lam) p̃ + lam / Q)^-1``, ``p̃`` the frequency smoothed in ab; ``E_p[w] = 1``."""
    p = bins.frequency
    c = bins.centres.double()
    kernel = torch.exp(-(torch.cdist(c, c) ** 2) / (2 * sigma**2))
    smooth = kernel @ p
    smooth = smooth / smooth.sum()
    w = 1.0 / ((1 - lam) * smooth + lam / bins.size)
    return (w / (p * w).sum()).float()


def rebalanced_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over pixels of ``w(argmax target) * CE(target, softmax(logits))``; ``valid`` (B, H, W) masks pixels."""
    ce = -(target * F.log_softmax(logits.float(), dim=1)).sum(dim=1)
    w = weights.to(ce)[target.argmax(dim=1)]
    if valid is not None:
        w = w * valid.to(w)
        n = valid.to(w).sum()
        return (w * ce).sum() / n if n > 0 else logits.sum() * 0.0
    return (w * ce).mean()


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float = ANNEAL_T) -> torch.Tensor:
    """(B, Q, H, W) logits -> (B, 2, H, W) ab: mean of the centres under ``softmax(logits / T)``."""
    p = torch.softmax(logits.float() / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", p, centres.to(p))


class ColorizeHead(nn.Module):
    """Backbone features (B, C, h, w) -> ab-bin logits (B, Q, h, w), with the loss and the decode it implies.

    The bin centres and rebalancing weights are buffers, saved with the head.
    """

    def __init__(self, in_channels: int, bins: AbBins, lam: float = 0.5, sigma: float = 5.0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 3, padding=1), nn.SiLU(), nn.Conv2d(in_channels, bins.size, 1)
        )
        self.register_buffer("centres", bins.centres.float().clone())
        self.register_buffer("weights", rebalancing_weights(bins, lam, sigma))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.net(feats)

    def loss(self, logits: torch.Tensor, ab: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
        """Rebalanced CE against ``ab`` (B, 2, H, W), area-resized to the logits' resolution."""
        ab = F.interpolate(ab.float(), size=logits.shape[-2:], mode="area")
        return rebalanced_cross_entropy(logits, soft_encode(ab, self.centres, k, sigma), self.weights)

    def colourise(self, logits: torch.Tensor, lightness: torch.Tensor, temperature: float = ANNEAL_T) -> torch.Tensor:
        """The annealed-mean colourisation as RGB at the resolution of ``lightness``."""
        ab = F.interpolate(annealed_mean(logits, self.centres, temperature), size=lightness.shape[-2:], mode="bilinear")
        return lab_to_rgb(lightness, ab)

    def panel(self, logits: torch.Tensor, rgb: torch.Tensor, temperature: float = ANNEAL_T) -> torch.Tensor:
        """(3, H, 3W) image for TensorBoard, first frame of the batch: the L input, the colourisation, the truth."""
        x, lightness, _ = colorize_input(rgb[:1])
        guess = self.colourise(logits[:1].detach(), lightness, temperature)
        return torch.cat([x[0], guess[0], rgb[0].float().clamp(0, 1)], dim=-1)

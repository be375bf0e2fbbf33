"""Selfie (Trinh et al. 2019): fill a masked patch by *choosing* the true patch among distractors.

The image is cut into a grid of ``patch`` x ``patch`` cells; ``k`` cells per image are hidden.
The shared backbone encodes the image with those cells filled; for every hidden cell the head
builds a query from the backbone features (pooled over the image and sampled at the cell) plus
an embedding of the cell's position, and scores the ``k`` hidden patches of the same image,
each encoded by the head's own patch network. Cross-entropy picks the true one: every hidden
patch is the answer at its own position and a distractor at the others.

Shortcuts closed:

- **Fill value.** Every hidden cell gets the same fill (the image's per-channel mean) or noise
  drawn from the image's per-channel mean and spread, independently of what it hides, so the
  fill says nothing about which candidate belongs where.
- **Borders.** The whole cell is hidden but the candidate is its interior, ``margin`` pixels in
  from every side (the gap of Doersch et al. 2015), so texture and edges finer than the margin
  cannot be continued across the border. All candidates are cut with one geometry (one size,
  one offset in their cell), so crop size or position gives nothing away.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mannequin.errors import InputError

FILLS = ("mean", "noise")


def cell_grid(height: int, width: int, patch: int) -> tuple[int, int]:
    """Rows and columns of whole ``patch`` cells in an image (the remainder at the bottom/right is unused)."""
    gh, gw = height // patch, width // patch
    if gh * gw < 2:
        raise InputError(
            "selfie.patch", f"needs at least 2 cells of {patch}px in a {width}x{height} image", "bad_param"
        )
    return gh, gw


def sample_cells(
    batch: int, n_cells: int, k: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """(B, k) distinct cell indices per image, uniformly at random."""
    if not 2 <= k <= n_cells:
        raise InputError("selfie.k", f"needs 2 <= k <= cells, got k={k} for {n_cells} cells", "bad_param")
    return torch.rand(batch, n_cells, generator=generator).argsort(dim=1)[:, :k].to(device)


def cells_of(image: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, gh*gw, C, patch, patch), the cells in row-major order."""
    b, c, h, w = image.shape
    gh, gw = cell_grid(h, w, patch)
    x = image[:, :, : gh * patch, : gw * patch].reshape(b, c, gh, patch, gw, patch)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(b, gh * gw, c, patch, patch)


def crop_candidates(image: torch.Tensor, idx: torch.Tensor, patch: int, margin: int) -> torch.Tensor:
    """(B, K, C, s, s) interiors of the chosen cells, ``s = patch - 2 * margin``, all cut identically."""
    if not 0 <= 2 * margin < patch:
        raise InputError("selfie.margin", f"{margin} leaves no interior in a {patch}px cell", "bad_param")
    cells = cells_of(image, patch)
    picked = torch.gather(cells, 1, idx.view(*idx.shape, 1, 1, 1).expand(-1, -1, *cells.shape[2:]))
    return picked[..., margin : patch - margin, margin : patch - margin]


def cell_mask(idx: torch.Tensor, height: int, width: int, patch: int) -> torch.Tensor:
    """(B, 1, H, W) float mask, 1 over the whole chosen cells."""
    gh, gw = cell_grid(height, width, patch)
    grid = torch.zeros(idx.shape[0], gh * gw, device=idx.device).scatter_(1, idx, 1.0).view(-1, 1, gh, gw)
    mask = grid.repeat_interleave(patch, dim=2).repeat_interleave(patch, dim=3)
    return F.pad(mask, (0, width - gw * patch, 0, height - gh * patch))


def fill_cells(
    image: torch.Tensor, mask: torch.Tensor, fill: str = "mean", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Replace the masked pixels by the image's per-channel mean, or by noise with its mean and spread."""
    if fill not in FILLS:
        raise InputError("selfie.fill", f"unknown fill {fill!r} (known: {', '.join(FILLS)})", "bad_param")
    mean = image.mean(dim=(2, 3), keepdim=True)
    value = mean.expand_as(image)
    if fill == "noise":
        noise = torch.randn(image.shape, generator=generator).to(image)
        value = (mean + image.std(dim=(2, 3), keepdim=True) * noise).clamp(0, 1)
    return torch.where(mask > 0, value, image)


def cell_positions(idx: torch.Tensor, height: int, width: int, patch: int) -> torch.Tensor:
    """(B, K, 2) cell centres as (x, y) in [-1, 1] (``grid_sample``'s convention, ``align_corners=False``)."""
    gw = cell_grid(height, width, patch)[1]
    row, col = idx // gw, idx % gw
    x = ((col.float() + 0.5) * patch) / width * 2 - 1
    y = ((row.float() + 0.5) * patch) / height * 2 - 1
    return torch.stack([x, y], dim=-1)


def selfie_batch(
    image: torch.Tensor,
    patch: int = 16,
    k: int = 8,
    margin: int = 2,
    fill: str = "mean",
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """One Selfie problem per image: the ``masked`` input, the ``mask``, ``positions`` (B, K, 2) and
    ``candidates`` (B, K, C, s, s); candidate ``i`` is the answer at position ``i``."""
    b, _, h, w = image.shape
    gh, gw = cell_grid(h, w, patch)
    idx = sample_cells(b, gh * gw, k, generator, image.device)
    mask = cell_mask(idx, h, w, patch)
    return {
        "masked": fill_cells(image, mask, fill, generator),
        "mask": mask,
        "positions": cell_positions(idx, h, w, patch),
        "candidates": crop_candidates(image, idx, patch, margin),
        "cells": idx,
    }


def selfie_logits(query: torch.Tensor, keys: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """(B, K, D) queries and (B, K, D) candidate codes -> (B, K, K) cosine logits / ``temperature``."""
    return F.normalize(query, dim=-1) @ F.normalize(keys, dim=-1).transpose(1, 2) / temperature


def selfie_loss(logits: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with the diagonal as the answer: query ``i`` belongs with candidate ``i``."""
    b, k, _ = logits.shape
    target = torch.arange(k, device=logits.device).repeat(b)
    return F.cross_entropy(logits.reshape(b * k, k).float(), target)


def selfie_accuracy(logits: torch.Tensor) -> torch.Tensor:
    """Share of queries whose best-scoring candidate is the true one."""
    k = logits.shape[-1]
    return (logits.argmax(dim=-1) == torch.arange(k, device=logits.device)).float().mean()


def fourier_features(positions: torch.Tensor, n_freqs: int) -> torch.Tensor:
    """(..., 2) positions in [-1, 1] -> (..., 4 * n_freqs) sines and cosines at octave frequencies."""
    freqs = math.pi * 2.0 ** torch.arange(n_freqs, device=positions.device, dtype=positions.dtype)
    angles = (positions.unsqueeze(-1) * freqs).flatten(-2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class PatchEncoder(nn.Module):
    """A small convnet: a (N, C, s, s) patch -> (N, dim) code. It sees the candidate alone."""

    def __init__(self, in_channels: int = 3, dim: int = 64) -> None:
        super().__init__()
        half = max(dim // 2, 8)
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, half, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(half, dim, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(dim, dim),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.net(patches)


class SelfieHead(nn.Module):
    """Selfie's own head: patch network, position embedding and the query built from backbone features.

    ``forward(feats, positions, candidates)`` -> (B, K, K) logits; ``feats`` (B, C, h, w) is the
    backbone's encoding of the masked image, ``positions`` (B, K, 2) the hidden cells' centres.
    """

    def __init__(
        self, feat_channels: int, in_channels: int = 3, dim: int = 64, n_freqs: int = 4, temperature: float = 0.1
    ) -> None:
        super().__init__()
        self.n_freqs = n_freqs
        self.temperature = temperature
        self.patches = PatchEncoder(in_channels, dim)
        self.position = nn.Sequential(nn.Linear(4 * n_freqs, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.context = nn.Linear(2 * feat_channels, dim)
        self.query = nn.Sequential(nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, feats: torch.Tensor, positions: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        b, k = positions.shape[:2]
        pooled = feats.mean(dim=(2, 3)).unsqueeze(1).expand(-1, k, -1)
        local = F.grid_sample(feats, positions.unsqueeze(2), align_corners=False).squeeze(-1).transpose(1, 2)
        query = self.context(torch.cat([pooled, local], dim=-1))
        query = self.query(query + self.position(fourier_features(positions, self.n_freqs)))
        keys = self.patches(candidates.flatten(0, 1)).view(b, k, -1)
        return selfie_logits(query, keys, self.temperature)

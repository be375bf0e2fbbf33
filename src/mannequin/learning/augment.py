"""Batch augmentation that keeps geometry honest.

- A horizontal flip is applied to the image **and** its depth and confidence (and to the
  second view independently), so targets stay aligned with pixels.
- Colour jitter (kornia) changes only the images; depth and confidence are never touched.
"""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import nn

TARGET_KEYS = ("depth", "confidence")


def flip_where(x: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Flip the rows of ``x`` (B, C, H, W) left-right where ``flip`` (B,) is true."""
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)


class GeometryHonestAugment(nn.Module):
    """Random horizontal flip of image+targets, then colour jitter of the images only."""

    def __init__(self, flip_p: float = 0.5, jitter: float = 0.2, jitter_p: float = 0.8) -> None:
        super().__init__()
        self.flip_p = flip_p
        # brightness, contrast, saturation; no hue shift (its HSV round trip costs 4x the rest on CPU)
        self.jitter = K.ColorJiggle(jitter, jitter, jitter, 0.0, p=jitter_p) if jitter > 0 else None

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = dict(batch)
        image = out["image"]
        flip = torch.rand(image.shape[0], device=image.device) < self.flip_p
        out["image"] = flip_where(image, flip)
        for key in TARGET_KEYS:
            if key in out:
                out[key] = flip_where(out[key], flip)
        if "image2" in out:
            flip2 = torch.rand(image.shape[0], device=image.device) < self.flip_p
            out["image2"] = flip_where(out["image2"], flip2)
        if self.jitter is not None:
            for key in ("image", "image2"):
                if key in out:
                    out[key] = self.jitter(out[key]).clamp(0, 1)
        return out

"""Depth prediction with a trained model folder (the contract the evaluation stage codes against)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mannequin.learning.export import load_net
from mannequin.learning.nets import DepthNet


class DepthPredictor:
    """Predicts depth (``exp`` of the network's log-depth) at the input resolution, in batches."""

    def __init__(
        self, net: DepthNet, meta: dict[str, Any], device: str | torch.device = "cpu", batch_size: int = 16
    ) -> None:
        self.net = net.to(device).eval()
        self.meta = meta
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.image_size = tuple(meta.get("image_size", (128, 96)))

    @classmethod
    def load(cls, model_dir: str | Path, device: str | torch.device = "cpu", batch_size: int = 16) -> DepthPredictor:
        """Load ``model.pt`` and ``model.json`` from a model folder (weights-only)."""
        net, meta = load_net(model_dir)
        return cls(net, meta, device, batch_size)

    @property
    def has_spread(self) -> bool:
        return getattr(self.net, "head", "value") == "bins"

    def predict_spread(self, images: np.ndarray) -> np.ndarray | None:
        """(N, H, W, 3) uint8 RGB -> (N, H, W) float32 log-depth standard deviation (``bins`` models), else None."""
        return self.predict(images, spread=True) if self.has_spread else None

    @torch.no_grad()
    def predict(self, images: np.ndarray, spread: bool = False) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (N, H, W) float32 depth at the input resolution (its spread with ``spread``)."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"expected (N, H, W, 3) uint8 images, got shape {images.shape}")
        n, h, w, _ = images.shape
        out = np.empty((n, h, w), np.float32)
        tw, th = self.image_size
        for i in range(0, n, self.batch_size):
            x = torch.from_numpy(np.ascontiguousarray(images[i : i + self.batch_size])).to(self.device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            if (h, w) != (th, tw):
                if h >= th and w >= tw:
                    x = F.interpolate(x, size=(th, tw), mode="area")
                else:
                    x = F.interpolate(x, size=(th, tw), mode="bilinear", align_corners=False)
            raw = self.net.decode(x)
            value = self.net.spread(raw) if spread else self.net.log_depth(raw)
            if (h, w) != (th, tw):
                value = F.interpolate(value, size=(h, w), mode="bilinear", align_corners=False)
            value = value[:, 0].float()
            out[i : i + len(x)] = (value if spread else value.exp()).cpu().numpy()
        return out

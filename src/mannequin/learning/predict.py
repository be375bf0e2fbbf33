"""Depth prediction with a trained model folder (the contract the evaluation stage codes against)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mannequin.learning.export import load_net, model_inputs
from mannequin.learning.nets import DepthNet


class DepthPredictor:
    """Predicts depth (``exp`` of the network's log-depth) at the input resolution, in batches.

    What comes out is in the model's units:

    - fine-tuned models (``kind: finetune``), ``rgb`` or ``rgb+parallax``: metric depth (metres), as the sensor depth
      they were fine-tuned on;
    - pretrained models, ``rgb`` or ``rgb+parallax``: depth up to an unknown per-image scale (both pretrain with
      the scale-invariant ``mvs`` loss; evaluation median-aligns them). The parallax input a ``rgb+parallax`` net
      reads is itself scale-free (log depth minus its ``shift``), so no pose scale leaks into the output.
    """

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
    def inputs(self) -> str:
        """``rgb`` or ``rgb+parallax`` (``model.json``'s ``inputs``; ``rgb`` for models from before it)."""
        return model_inputs(self.meta)

    @property
    def needs_parallax(self) -> bool:
        return self.inputs == "rgb+parallax"

    @property
    def has_spread(self) -> bool:
        return getattr(self.net, "head", "value") == "bins"

    def predict_spread(self, images: np.ndarray, parallax: np.ndarray | None = None) -> np.ndarray | None:
        """(N, H, W, 3) uint8 RGB -> (N, H, W) float32 log-depth standard deviation (``bins`` models), else None."""
        return self.predict(images, spread=True, parallax=parallax) if self.has_spread else None

    def _check_parallax(self, parallax: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
        if not self.needs_parallax:
            if parallax is not None:
                raise ValueError("this model reads rgb only: do not pass a parallax input")
            return None
        if parallax is None:
            raise ValueError(
                "this model reads rgb+parallax: pass parallax=(N, H, W, 3) float32 channels "
                "(parallax, confidence, mask) at the images' resolution"
            )
        parallax = np.asarray(parallax, dtype=np.float32)
        if parallax.ndim == 3:
            parallax = parallax[None]
        if parallax.shape != (*shape[:3], 3):
            raise ValueError(f"parallax must be {(*shape[:3], 3)} like the images, got shape {parallax.shape}")
        return parallax

    @torch.no_grad()
    def predict(self, images: np.ndarray, spread: bool = False, parallax: np.ndarray | None = None) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB -> (N, H, W) float32 depth at the input resolution (its spread with ``spread``).

        ``parallax`` (N, H, W, 3) float32 holds the channels of :data:`mannequin.curation.parallax.CHANNELS` at the
        images' resolution (``ParallaxInput.channels_last()``); required for an ``rgb+parallax`` model, refused for
        an ``rgb`` one. It is resized to the model's input size by nearest neighbour, as in training.
        """
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"expected (N, H, W, 3) uint8 images, got shape {images.shape}")
        extra = self._check_parallax(parallax, images.shape)
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
            if extra is not None:
                p = torch.from_numpy(np.ascontiguousarray(extra[i : i + self.batch_size])).to(self.device)
                p = p.permute(0, 3, 1, 2)
                if (h, w) != (th, tw):
                    p = F.interpolate(p, size=(th, tw), mode="nearest")
                x = torch.cat([x, p], dim=1)
            raw = self.net.decode(x)
            value = self.net.spread(raw) if spread else self.net.log_depth(raw)
            if (h, w) != (th, tw):
                value = F.interpolate(value, size=(h, w), mode="bilinear", align_corners=False)
            value = value[:, 0].float()
            out[i : i + len(x)] = (value if spread else value.exp()).cpu().numpy()
        return out

"""Depth as a distribution: a per-pixel softmax over bins of log depth relative to the image's median.

Bins. ``n_bins`` centres spread uniformly over ``[-log_range, +log_range]`` of ``log(d / median(d))``.
Dividing by each image's median keeps the treatment of MVS depth scale-invariant: an MVS clip's
arbitrary scale cancels, exactly as in the scale-invariant log loss. Depths outside the range
fall into the end bins.

Loss: cross-entropy on soft targets (a Gaussian over the bins neighbouring the true value, width
``sigma`` bin widths), weighted by the MVS confidence. Why not DORN's ordinal loss (K-1 binary
"deeper than t_k?" classifiers): its cumulative probabilities need not be monotone, so they are
not a distribution whose mean and spread can be read directly; the soft targets already give
credit to neighbouring bins, which is the ordinal structure DORN wants, and they keep one
normalised distribution per pixel, decoded by its expectation (no staircase from argmax) and
whose standard deviation is the per-pixel uncertainty.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mannequin.errors import InputError

HEAD_KINDS = ("value", "bins")


def check_bins(n_bins: int, source: str = "net.bins") -> int:
    """``n_bins`` if it is at least 2, else a one-line :class:`InputError` naming ``source``."""
    if int(n_bins) != n_bins or n_bins < 2:
        raise InputError(source, f"bins count must be an integer of at least 2, got {n_bins!r}", "bad_bins")
    return int(n_bins)


def bin_centres(n_bins: int, log_range: float = 2.0, source: str = "net.bins") -> torch.Tensor:
    """(n_bins,) centres of the relative log-depth bins, uniform over ``[-log_range, log_range]``."""
    check_bins(n_bins, source)
    return torch.linspace(-log_range, log_range, n_bins)


def valid_depth(depth: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean mask of pixels with a finite positive depth (and a positive weight, when given)."""
    valid = torch.isfinite(depth) & (depth > 0)
    if weight is not None:
        valid = valid & (weight.nan_to_num(0.0) > 0)
    return valid


def relative_log_depth(depth: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """``log(depth / median)`` per image of (B, 1, H, W); NaN where invalid (or the image has no valid pixel)."""
    depth = depth.float()
    valid = valid_depth(depth, weight)
    log_d = torch.where(valid, torch.log(torch.where(valid, depth, torch.ones_like(depth))), float("nan"))
    median = log_d.flatten(1).nanmedian(dim=1).values.view(-1, 1, 1, 1)
    return log_d - median


def soft_targets(rel_log: torch.Tensor, centres: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """(B, 1, H, W) relative log depth -> (B, K, H, W) Gaussian weights over the bins (zero where NaN).

    ``sigma`` is in bin widths; values beyond the range are clamped onto the end bins.
    """
    centres = centres.to(rel_log)
    width = (centres[-1] - centres[0]) / (len(centres) - 1)
    valid = torch.isfinite(rel_log)
    x = torch.where(valid, rel_log, 0.0).clamp(centres[0], centres[-1])
    logit = -0.5 * ((x - centres.view(1, -1, 1, 1)) / (sigma * width)) ** 2
    return torch.softmax(logit, dim=1) * valid


def depth_bins_loss(
    logits: torch.Tensor,
    depth: torch.Tensor,
    centres: torch.Tensor,
    weight: torch.Tensor | None = None,
    sigma: float = 1.0,
) -> torch.Tensor:
    """Weighted mean over valid pixels of the cross-entropy between soft targets and ``softmax(logits)``."""
    target = soft_targets(relative_log_depth(depth, weight), centres, sigma)
    w = valid_depth(depth, weight).float()
    if weight is not None:
        w = w * weight.float().nan_to_num(0.0).clamp_min(0)
    ce = -(target * F.log_softmax(logits.float(), dim=1)).sum(dim=1, keepdim=True)
    den = w.sum()
    if den <= 0:
        return logits.sum() * 0.0
    return (w * ce).sum() / den


def expected_log_depth(logits: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) logits -> (B, 1, H, W) expected relative log depth."""
    p = torch.softmax(logits.float(), dim=1)
    return (p * centres.to(p).view(1, -1, 1, 1)).sum(dim=1, keepdim=True)


def log_depth_spread(logits: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) logits -> (B, 1, H, W) standard deviation of log depth: the per-pixel uncertainty."""
    p = torch.softmax(logits.float(), dim=1)
    c = centres.to(p).view(1, -1, 1, 1)
    mean = (p * c).sum(dim=1, keepdim=True)
    return ((p * (c - mean) ** 2).sum(dim=1, keepdim=True)).clamp_min(0).sqrt()


def aligned_log_error(pred_log: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Per-pixel ``|pred - log depth - median residual|`` per image (scale-free); NaN where invalid."""
    valid = valid_depth(depth)
    resid = torch.where(valid, pred_log.float() - torch.log(torch.where(valid, depth, 1.0)), float("nan"))
    return (resid - resid.flatten(1).nanmedian(dim=1).values.view(-1, 1, 1, 1)).abs()


def confident_half_error(error: torch.Tensor, spread: torch.Tensor) -> dict[str, float]:
    """How well the spread ranks errors: mean error of the least-spread half of the pixels vs all pixels.

    ``error`` and ``spread`` have one shape; pixels where ``error`` is NaN are skipped. Returns
    ``error_all``, ``error_confident_half`` and their ``ratio`` (below 1 when the spread ranks well).
    """
    e, s = error.flatten().float(), spread.flatten().float()
    keep = torch.isfinite(e) & torch.isfinite(s)
    e, s = e[keep], s[keep]
    if e.numel() == 0:
        nan = float("nan")
        return {"error_all": nan, "error_confident_half": nan, "ratio": nan}
    half = e[s.argsort()[: max(1, e.numel() // 2)]]
    all_, conf = float(e.mean()), float(half.mean())
    return {"error_all": all_, "error_confident_half": conf, "ratio": conf / all_ if all_ > 0 else float("nan")}


class DepthHead(nn.Module):
    """Decoder features (B, C, H, W) -> depth: ``value`` (1 log-depth channel) or ``bins`` (K logits).

    ``log_depth`` decodes either to (B, 1, H, W) log depth (for ``bins``: relative to the median,
    i.e. scale-free like the ``value`` head under the scale-invariant loss); ``spread`` is the
    per-pixel uncertainty (``bins`` only).
    """

    def __init__(self, in_channels: int, kind: str = "value", n_bins: int = 32, log_range: float = 2.0) -> None:
        super().__init__()
        if kind not in HEAD_KINDS:
            raise InputError("net.head", f"unknown head {kind!r} (known: {', '.join(HEAD_KINDS)})", "bad_head")
        self.kind = kind
        out = 1 if kind == "value" else check_bins(n_bins)
        self.out = nn.Conv2d(in_channels, out, 3, padding=1)
        centres = bin_centres(n_bins, log_range) if kind == "bins" else torch.zeros(0)
        self.register_buffer("centres", centres, persistent=False)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.out(feats)

    def log_depth(self, out: torch.Tensor) -> torch.Tensor:
        return out if self.kind == "value" else expected_log_depth(out, self.centres)

    def spread(self, out: torch.Tensor) -> torch.Tensor:
        if self.kind == "value":
            raise ValueError("a value head has no spread; use net.head: bins")
        return log_depth_spread(out, self.centres)


def bin_width(centres: torch.Tensor) -> float:
    """Distance between neighbouring centres."""
    return float(centres[-1] - centres[0]) / (len(centres) - 1)


__all__ = [
    "HEAD_KINDS",
    "DepthHead",
    "aligned_log_error",
    "bin_centres",
    "bin_width",
    "check_bins",
    "confident_half_error",
    "depth_bins_loss",
    "expected_log_depth",
    "log_depth_spread",
    "relative_log_depth",
    "soft_targets",
]

"""Pure loss functions on tensors; no modules, no state.

Depth targets are (B, 1, H, W) with NaN (or <= 0) where invalid; predictions are log-depth.
Weights (e.g. MVS confidence) multiply each pixel's contribution; invalid pixels weigh 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def log_residual(
    pred_log: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual ``pred_log - log(target)`` (0 where invalid) and the per-pixel weight (0 where invalid)."""
    pred_log = pred_log.float()
    target = target.float()
    valid = torch.isfinite(target) & (target > 0) & torch.isfinite(pred_log)
    w = valid.float() if weight is None else torch.where(valid, weight.float().nan_to_num(0.0).clamp_min(0), 0.0)
    safe = torch.where(valid, target, torch.ones_like(target))
    resid = torch.where(valid, pred_log - torch.log(safe), torch.zeros_like(pred_log))
    return resid, w


def _per_image_sum(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).sum(dim=1)


def scale_invariant_loss(
    pred_log: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted variance of the log residual per image (Eigen et al.; Li et al. 2019), averaged over images.

    Multiplying the prediction by any positive factor leaves it unchanged. Images without a
    valid pixel contribute nothing.
    """
    resid, w = log_residual(pred_log, target, weight)
    wsum = _per_image_sum(w)
    has = wsum > 0
    wsum = wsum.clamp_min(1e-12)
    mean = _per_image_sum(w * resid) / wsum
    var = _per_image_sum(w * resid**2) / wsum - mean**2
    if not has.any():
        return pred_log.sum() * 0.0
    return var.clamp_min(0)[has].mean()


def gradient_matching_loss(
    pred_log: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, scales: int = 4
) -> torch.Tensor:
    """Multi-scale gradient matching of the log residual (Li et al. 2019, after MegaDepth).

    At scales 1, 2, 4, ... the horizontal and vertical differences of ``log pred - log target``
    are penalised (L1) where both pixels are valid, weighted by the smaller confidence. A
    prediction that is a scaled copy of the target has a constant residual, hence zero loss.
    """
    resid, w = log_residual(pred_log, target, weight)
    total = pred_log.sum() * 0.0
    for s in range(scales):
        step = 2**s
        r = resid[..., ::step, ::step]
        ws = w[..., ::step, ::step]
        terms = []
        for dim in (-1, -2):
            n = r.shape[dim]
            if n < 2:
                continue
            dr = (r.narrow(dim, 1, n - 1) - r.narrow(dim, 0, n - 1)).abs()
            dw = torch.minimum(ws.narrow(dim, 1, n - 1), ws.narrow(dim, 0, n - 1))
            terms.append((dw * dr, dw))
        if not terms:
            break
        num = sum(t[0].sum() for t in terms)
        den = sum(t[1].sum() for t in terms)
        if den > 0:
            total = total + num / den
    return total


def metric_log_l1_loss(
    pred_log: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted mean absolute log error: metric, so the scale of the prediction matters."""
    resid, w = log_residual(pred_log, target, weight)
    den = w.sum()
    if den <= 0:
        return pred_log.sum() * 0.0
    return (w * resid.abs()).sum() / den


def masked_reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """Mean squared error over hidden pixels only; ``hidden`` is (B, 1, H, W) with 1 where hidden."""
    hidden = hidden.float()
    den = hidden.sum() * pred.shape[1]
    if den <= 0:
        return pred.sum() * 0.0
    return (hidden * (pred.float() - target.float()) ** 2).sum() / den


def info_nce_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    labels_a: torch.Tensor,
    labels_b: torch.Tensor,
    temperature: float = 0.1,
) -> torch.Tensor:
    """InfoNCE with several positives: row ``i`` of ``z_a`` should match the rows of ``z_b`` with its label.

    ``z_a`` (N, D) and ``z_b`` (M, D) are L2-normalised inside. Every pair with equal labels is
    a positive, every other pair a negative; the loss is
    ``-log(sum_pos exp(s/t) / sum_all exp(s/t))`` averaged over the rows of ``z_a``.
    """
    z_a = F.normalize(z_a.float(), dim=1)
    z_b = F.normalize(z_b.float(), dim=1)
    logits = z_a @ z_b.T / temperature
    positive = labels_a[:, None] == labels_b[None, :]
    has_pos = positive.any(dim=1)
    pos_logits = logits.masked_fill(~positive, float("-inf"))
    loss = torch.logsumexp(logits, dim=1) - torch.logsumexp(pos_logits, dim=1)
    if not has_pos.any():
        return logits.sum() * 0.0
    return loss[has_pos].mean()


def random_patch_mask(
    batch: int,
    height: int,
    width: int,
    patch: int,
    ratio: float,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """A (B, 1, H, W) float mask with 1 on a random ``ratio`` of ``patch``-sized squares."""
    gh, gw = -(-height // patch), -(-width // patch)
    scores = torch.rand(batch, gh * gw, generator=generator)
    k = max(1, round(ratio * gh * gw))
    idx = scores.argsort(dim=1)[:, :k]
    grid = torch.zeros(batch, gh * gw)
    grid.scatter_(1, idx, 1.0)
    grid = grid.view(batch, 1, gh, gw)
    mask = grid.repeat_interleave(patch, dim=2).repeat_interleave(patch, dim=3)[..., :height, :width]
    return mask.to(device)


def edge_aware_smoothness_loss(
    pred_log: torch.Tensor, image: torch.Tensor, weight: torch.Tensor | None = None, edge_gamma: float = 10.0
) -> torch.Tensor:
    """First-order smoothness of log depth that gives way at the image's own edges (monodepth's edge-aware term).

    Each horizontal and vertical difference of ``pred_log`` (B, 1, H, W) costs ``|Δ log d| · exp(-edge_gamma ·
    |Δ I|)``, with ``|Δ I|`` the mean absolute difference of the image's channels (in [0, 1]); so a depth change is
    cheap where the image changes and dear where it does not, and a smeared depth edge across flat image costs more
    than a sharp one on the image edge. Log depth makes it scale-free. ``weight`` (B, 1, H, W), where the term
    applies (e.g. where no confident target speaks), multiplies each difference by the smaller of its two pixels.
    """
    pred_log = pred_log.float()
    image = image.float()
    total = pred_log.new_zeros(())
    den = pred_log.new_zeros(())
    for dim in (-1, -2):
        n = pred_log.shape[dim]
        if n < 2:
            continue
        dd = (pred_log.narrow(dim, 1, n - 1) - pred_log.narrow(dim, 0, n - 1)).abs()
        di = (image.narrow(dim, 1, n - 1) - image.narrow(dim, 0, n - 1)).abs().mean(dim=1, keepdim=True)
        w = torch.exp(-edge_gamma * di)
        if weight is not None:
            wt = weight.float().nan_to_num(0.0)
            w = w * torch.minimum(wt.narrow(dim, 1, n - 1), wt.narrow(dim, 0, n - 1))
            den = den + torch.minimum(wt.narrow(dim, 1, n - 1), wt.narrow(dim, 0, n - 1)).sum()
        else:
            den = den + dd.numel()
        total = total + (w * dd).sum()
    if den <= 0:
        return pred_log.sum() * 0.0
    return total / den

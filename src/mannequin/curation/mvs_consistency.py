"""Forward-backward geometric consistency between two frames' depth maps (as in COLMAP's fusion).

A reference pixel p with depth z is lifted to 3D, projected into the neighbour (pixel q, rounded),
lifted again with the neighbour's depth at q and projected back into the reference (pixel p', depth z').
The pixel is consistent when |p - p'| and |z - z'| / z are both small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ConsistencyCheck:
    """Per-pixel outcome against one neighbour: ``checked`` (a neighbour depth exists at q) and ``consistent``."""

    checked: torch.Tensor
    consistent: torch.Tensor


def pixel_grid(height: int, width: int, device: torch.device) -> torch.Tensor:
    """Homogeneous pixel coordinates (3, H*W), row-major, float64."""
    v, u = torch.meshgrid(
        torch.arange(height, dtype=torch.float64, device=device),
        torch.arange(width, dtype=torch.float64, device=device),
        indexing="ij",
    )
    return torch.stack([u.reshape(-1), v.reshape(-1), torch.ones(height * width, dtype=torch.float64, device=device)])


def forward_backward(
    depth_ref: torch.Tensor,
    K_ref: np.ndarray,
    depth_nb: torch.Tensor,
    K_nb: np.ndarray,
    R_rel: np.ndarray,
    t_rel: np.ndarray,
    max_reproj_px: float,
    max_rel_depth: float,
) -> ConsistencyCheck:
    """Check ``depth_ref`` (H,W; NaN = none) against ``depth_nb``; ``R_rel``, ``t_rel`` map ref to neighbour coords."""
    device = depth_ref.device
    H, W = depth_ref.shape
    pix = pixel_grid(H, W, device)
    f64 = {"dtype": torch.float64, "device": device}
    Kr, Kn = torch.as_tensor(K_ref, **f64), torch.as_tensor(K_nb, **f64)
    R, t = torch.as_tensor(R_rel, **f64), torch.as_tensor(t_rel, **f64)
    z = depth_ref.reshape(-1).to(torch.float64)
    X = torch.linalg.solve(Kr, pix) * z  # (3, HW) in the reference camera
    Xn = R @ X + t[:, None]
    proj = Kn @ Xn
    zn = proj[2]
    with torch.no_grad():
        qu = torch.round(proj[0] / zn)
        qv = torch.round(proj[1] / zn)
    inside = torch.isfinite(z) & (zn > 0) & (qu >= 0) & (qu <= W - 1) & (qv >= 0) & (qv <= H - 1)
    qu = torch.where(inside, qu, torch.zeros_like(qu))
    qv = torch.where(inside, qv, torch.zeros_like(qv))
    d_nb = depth_nb.reshape(-1).to(torch.float64)[(qv * W + qu).long()]
    checked = inside & torch.isfinite(d_nb)
    Xb = torch.linalg.solve(Kn, torch.stack([qu, qv, torch.ones_like(qu)])) * d_nb
    Xr = R.T @ (Xb - t[:, None])
    back = Kr @ Xr
    reproj = torch.hypot(back[0] / back[2] - pix[0], back[1] / back[2] - pix[1])
    rel = (Xr[2] - z).abs() / z
    consistent = checked & (reproj < max_reproj_px) & (rel < max_rel_depth)
    return ConsistencyCheck(checked.view(H, W), consistent.view(H, W))

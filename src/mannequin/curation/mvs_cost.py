"""The plane sweep: ZNCC matching scores of fronto-parallel planes, best-k over views, winner-take-all.

Everything is batched torch on the given device: planes are warped with plane-induced homographies
(one ``grid_sample`` per chunk of planes and view), window statistics are box filters (``avg_pool2d``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

INVALID = -2.0
#: Elements (planes x pixels) per chunk of the sweep; bounds peak memory at high resolution.
CHUNK_ELEMENTS = 1_000_000
#: ZNCC score mapped to zero / full value confidence.
SCORE_LOW, SCORE_HIGH = 0.5, 0.85
#: Gap between the best score and the best score away from the peak that gives full confidence.
MARGIN_FULL = 0.15
#: Planes on each side of the winner that cannot hold a competing peak.
PEAK_HALF_WIDTH = 1


def to_gray(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """RGB uint8 (N,H,W,3) to luminance float32 (N,H,W) in [0,1] on ``device``."""
    rgb = torch.from_numpy(np.ascontiguousarray(images)).to(device=device, dtype=torch.float32)
    weights = torch.tensor([0.299, 0.587, 0.114], device=device)
    return (rgb @ weights) / 255.0


def _window_sum(x: torch.Tensor, window: int) -> torch.Tensor:
    """Sum over a ``window`` x ``window`` neighbourhood of (..., H, W), zero outside (in-place shifted adds)."""
    r = window // 2
    H, W = x.shape[-2:]
    padded = F.pad(x, (r, r, r, r))
    rows = padded[..., 0:W].clone()
    for dx in range(1, window):
        rows.add_(padded[..., dx : dx + W])
    out = rows[..., 0:H, :].clone()
    for dy in range(1, window):
        out.add_(rows[..., dy : dy + H, :])
    return out


def box(x: torch.Tensor, window: int) -> torch.Tensor:
    """Mean over a ``window`` x ``window`` neighbourhood of (..., H, W), over the pixels inside the image."""
    H, W = x.shape[-2:]
    count = _window_sum(torch.ones((H, W), dtype=x.dtype, device=x.device), window)
    return _window_sum(x, window) / count


def local_std(gray: torch.Tensor, window: int) -> torch.Tensor:
    """Standard deviation of the intensity over each window of an (H,W) image."""
    stats = box(torch.stack([gray, gray * gray]), window)
    return (stats[1] - stats[0] ** 2).clamp_min(0).sqrt()


def _pixel_rays(K: torch.Tensor, height: int, width: int) -> torch.Tensor:
    v, u = torch.meshgrid(
        torch.arange(height, dtype=K.dtype, device=K.device),
        torch.arange(width, dtype=K.dtype, device=K.device),
        indexing="ij",
    )
    pix = torch.stack([u.reshape(-1), v.reshape(-1), torch.ones_like(u).reshape(-1)])
    return torch.linalg.solve(K, pix)  # (3, HW), z = 1


@dataclass(frozen=True)
class SweepGeometry:
    """Where each reference pixel's ray lands in each source, in grid_sample's normalised coordinates.

    The point at inverse depth s on pixel i's ray maps to ``A[v, i] + s * q[v]`` (homogeneous) in source v;
    it is seen where z > 0 and both coordinates are within ``bound`` (half a pixel beyond the border centres).
    """

    A: torch.Tensor  # (V, H*W, 3) float32
    q: torch.Tensor  # (V, 3) float32
    bound: tuple[float, float]


def sweep_geometry(
    K_ref: np.ndarray, K_src: np.ndarray, R_rel: np.ndarray, t_rel: np.ndarray, height: int, width: int, device
) -> SweepGeometry:
    """The plane-sweep geometry of V sources (``K_src``, ``R_rel``, ``t_rel`` stacked, reference to source)."""
    H, W = height, width
    rays = _pixel_rays(torch.as_tensor(K_ref, dtype=torch.float64, device=device), H, W)
    # source pixels in grid_sample's normalised coordinates (align_corners: pixel 0 -> -1, pixel W-1 -> +1)
    to_grid = np.array([[2.0 / (W - 1), 0, -1.0], [0, 2.0 / (H - 1), -1.0], [0, 0, 1.0]])
    A, q = [], []
    for v in range(len(K_src)):
        KR = torch.as_tensor(to_grid @ K_src[v] @ R_rel[v], dtype=torch.float64, device=device)
        A.append((KR @ rays).T.contiguous().to(torch.float32))  # (HW, 3)
        q.append(torch.as_tensor(to_grid @ K_src[v] @ t_rel[v], dtype=torch.float32, device=device))
    return SweepGeometry(torch.stack(A), torch.stack(q), (1 + 1.0 / (W - 1), 1 + 1.0 / (H - 1)))


def sweep_scores(
    ref: torch.Tensor,
    sources: torch.Tensor,
    geometry: SweepGeometry,
    inv_depths: torch.Tensor,
    window: int,
    best_k: int,
    eps: float,
) -> torch.Tensor:
    """Matching score (D,H,W) of every plane: mean of the best-k per-view ZNCC (-1 where no view sees it).

    ``ref`` (H,W) and ``sources`` (V,1,H,W) are gray images; ``geometry`` maps reference pixels to each
    source (``sweep_geometry``); plane d is the set of points at depth 1/inv_depths[d].
    """
    device = ref.device
    H, W = ref.shape
    V, D = len(sources), len(inv_depths)
    k = min(best_k, V)
    ref_stats = box(torch.stack([ref, ref * ref]), window)
    mu_r, var_r = ref_stats[0], (ref_stats[1] - ref_stats[0] ** 2).clamp_min(0)
    A, q = geometry.A, geometry.q
    bound = torch.as_tensor(geometry.bound, dtype=torch.float32, device=device)
    chunk = max(1, CHUNK_ELEMENTS // (H * W * V))
    out = torch.empty((D, H, W), dtype=torch.float32, device=device)
    for start in range(0, D, chunk):
        inv = inv_depths[start : start + chunk].to(torch.float32)
        top = [torch.full((len(inv), H, W), INVALID, device=device) for _ in range(k)]
        for v in range(V):
            P = A[v][None] + q[v][None, None, :] * inv[:, None, None]  # (Dc, HW, 3)
            z = P[..., 2:3]
            grid = P[..., :2] / z  # (Dc, HW, 2)
            valid = (z[..., 0] > 0) & (grid.abs() <= bound).all(dim=-1)
            grid = grid.view(-1, H, W, 2)
            src = sources[v : v + 1].expand(len(inv), 1, H, W)
            warped = F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=True)[:, 0]
            channels = torch.empty((3, *warped.shape), dtype=warped.dtype, device=device)
            channels[0] = warped
            torch.mul(warped, warped, out=channels[1])
            torch.mul(warped, ref, out=channels[2])
            stats = box(channels, window)
            var_s = (stats[1] - stats[0] ** 2).clamp_min(0)
            zncc = (stats[2] - mu_r * stats[0]) / torch.sqrt((var_r + eps) * (var_s + eps))
            score = torch.where(valid.view(-1, H, W), zncc, torch.full_like(zncc, INVALID))
            for level in range(k):  # insert into the running best-k, kept sorted
                higher = torch.maximum(top[level], score)
                score = torch.minimum(top[level], score)
                top[level] = higher
        total = torch.zeros_like(top[0])
        count = torch.zeros_like(top[0])
        for level in range(k):
            seen = top[level] > INVALID / 2
            total += torch.where(seen, top[level], torch.zeros_like(total))
            count += seen.float()
        mean = total / count.clamp_min(1)
        out[start : start + len(inv)] = torch.where(count > 0, mean, torch.full_like(mean, -1.0))
    return out


def zncc_at_depth(
    ref: torch.Tensor,
    source: torch.Tensor,
    K_ref: np.ndarray,
    K_src: np.ndarray,
    R_rel: np.ndarray,
    t_rel: np.ndarray,
    depth: torch.Tensor,
    window: int,
    eps: float,
) -> torch.Tensor:
    """Windowed ZNCC (H,W) between ``ref`` and ``source`` warped by a per-pixel ``depth``; NaN where not seen."""
    device = ref.device
    H, W = ref.shape
    f64 = {"dtype": torch.float64, "device": device}
    rays = _pixel_rays(torch.as_tensor(K_ref, **f64), H, W)
    X = rays * depth.reshape(-1).to(torch.float64)
    p = torch.as_tensor(K_src, **f64) @ (torch.as_tensor(R_rel, **f64) @ X + torch.as_tensor(t_rel, **f64)[:, None])
    u, v = p[0] / p[2], p[1] / p[2]
    seen = torch.isfinite(u) & torch.isfinite(v) & (p[2] > 0) & (u >= -0.5) & (u <= W - 0.5) & (v >= -0.5)
    seen &= v <= H - 0.5
    grid = torch.stack([u * (2.0 / (W - 1)) - 1, v * (2.0 / (H - 1)) - 1], dim=-1).nan_to_num(-2.0)
    warped = F.grid_sample(
        source[None, None], grid.to(torch.float32).view(1, H, W, 2), padding_mode="border", align_corners=True
    )[0, 0]
    stats = box(torch.stack([ref, ref * ref, warped, warped * warped, warped * ref]), window)
    var_r = (stats[1] - stats[0] ** 2).clamp_min(0)
    var_s = (stats[3] - stats[2] ** 2).clamp_min(0)
    zncc = (stats[4] - stats[0] * stats[2]) / torch.sqrt((var_r + eps) * (var_s + eps))
    return torch.where(seen.view(H, W), zncc, torch.full_like(zncc, float("nan")))


def _path_costs(cost: torch.Tensor, p1: float, p2: float) -> torch.Tensor:
    """Semi-global path costs along dim 0 of ``cost`` (L, P, D, A): P path sets run together, forward."""
    out = torch.empty_like(cost)
    prev = cost[0]
    out[0] = prev
    big = torch.full_like(prev[:, :1], 1e6)
    for x in range(1, cost.shape[0]):
        low = prev.min(dim=1, keepdim=True).values
        neighbours = torch.minimum(torch.cat([prev[:, 1:], big], dim=1), torch.cat([big, prev[:, :-1]], dim=1))
        best = torch.minimum(torch.minimum(prev, neighbours.add_(p1)), low + p2)
        prev = best.sub_(low).add_(cost[x])
        out[x] = prev
    return out


def aggregate_paths(scores: torch.Tensor, p1: float, p2: float) -> torch.Tensor:
    """Semi-global aggregation (Hirschmüller's SGM over 4 paths) of a score volume (D,H,W) in [-1,1].

    The cost is (1 - score) / 2 in [0,1]; a step of one plane between neighbouring pixels costs ``p1``, a
    larger jump ``p2``. Returns the aggregated volume mapped back to a score: 1 - 2 * mean path cost.
    Opposite directions run in the same loop (stacked), so the loop makes H + W steps in all.
    """
    cost = (1 - scores) / 2
    total = torch.zeros_like(cost)
    for dims in ((2, 0, 1), (1, 0, 2)):  # paths along W (rows), then along H (columns)
        vol = cost.permute(*dims)  # (L, D, A)
        paths = _path_costs(torch.stack([vol, vol.flip(0)], dim=1), p1, p2)  # (L, 2, D, A)
        both = paths[:, 0] + paths[:, 1].flip(0)
        total += both.permute(*[dims.index(k) for k in range(3)])
    return 1 - 2 * total / 4


def winner_take_all(scores: torch.Tensor, inv_depths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Best plane per pixel refined by a parabola in inverse depth: (inv_depth, best score, cost-curve confidence)."""
    D = scores.shape[0]
    best, idx = scores.max(dim=0)
    lo = scores.gather(0, (idx - 1).clamp_min(0)[None])[0]
    hi = scores.gather(0, (idx + 1).clamp_max(D - 1)[None])[0]
    curvature = lo - 2 * best + hi
    interior = (idx > 0) & (idx < D - 1)
    offset = torch.where(
        interior & (curvature < 0), 0.5 * (lo - hi) / curvature.clamp_max(-1e-12), torch.zeros_like(best)
    )
    offset = offset.clamp(-0.5, 0.5)
    step = (inv_depths[-1] - inv_depths[0]) / max(D - 1, 1)
    inv_depth = inv_depths[0] + (idx.to(torch.float32) + offset) * step
    # the competing peak: the best other local maximum of the score curve (not the shoulder of the winner)
    pad = torch.full_like(scores[:1], -3.0)
    below = torch.cat([pad, scores[:-1]])
    above = torch.cat([scores[1:], pad])
    planes = torch.arange(D, device=scores.device)[:, None, None]
    peak = (scores >= below) & (scores >= above) & ((planes - idx[None]).abs() > PEAK_HALF_WIDTH)
    second = torch.where(peak, scores, torch.full_like(scores, -1.0)).max(dim=0).values
    value = ((best - SCORE_LOW) / (SCORE_HIGH - SCORE_LOW)).clamp(0, 1)
    margin = ((best - second) / MARGIN_FULL).clamp(0, 1)
    confidence = torch.where(interior, value * margin, torch.zeros_like(best))
    return inv_depth, best, confidence

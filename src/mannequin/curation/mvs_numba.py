"""The CPU plane sweep in compiled code (numba): fused matching, semi-global matching, winner-take-all.

Same arithmetic as the torch reference in ``mvs_cost`` (which stays the CUDA path), laid out for a CPU:

- ``sweep_volume``: per plane and source view one pass that warps the source through the plane's
  homography (bilinear, border padding), forms the window sums of w, w*w and w*ref and the ZNCC, and
  inserts it into the running best-k; the reference's window statistics are computed once per frame.
- ``aggregate_paths``: Hirschmueller's SGM over 4 (rows, columns) or 8 (and diagonals) paths.
- ``winner_take_all``: best plane, parabolic sub-plane refinement and the cost-curve confidence.

Volumes are (H, W, D), planes contiguous. Every kernel releases the GIL (curation runs clips in threads)
and is compiled once into numba's on-disk cache (``cache=True``; ``NUMBA_CACHE_DIR`` moves it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mannequin.curation.mvs_cost import INVALID, MARGIN_FULL, PEAK_HALF_WIDTH, SCORE_HIGH, SCORE_LOW

_BIG = np.float32(1e6)
#: Rows per band of the sweep (each band's rows are warped with a halo of window // 2 rows on both sides).
BAND_ROWS = 16
_LOW, _SPAN, _MARGIN = np.float32(SCORE_LOW), np.float32(SCORE_HIGH - SCORE_LOW), np.float32(MARGIN_FULL)


@njit(cache=True, nogil=True, error_model="numpy")
def _window_sum(x: np.ndarray, r: int, pad: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """``out`` = sum of (H,W) ``x`` over each (2r+1)^2 window, zero outside; ``pad``, ``rows`` are scratch."""
    H, W = x.shape
    n = 2 * r + 1
    for y in range(H):
        for u in range(W):
            pad[y, u + r] = x[y, u]
    for y in range(H):
        for u in range(W):
            rows[y + r, u] = pad[y, u]
        for dx in range(1, n):
            for u in range(W):
                rows[y + r, u] += pad[y, u + dx]
    for y in range(H):
        for u in range(W):
            out[y, u] = rows[y, u]
        for dy in range(1, n):
            for u in range(W):
                out[y, u] += rows[y + dy, u]


@njit(cache=True, nogil=True, error_model="numpy")
def _sweep(
    ref: np.ndarray,
    sources: np.ndarray,
    A: np.ndarray,
    q: np.ndarray,
    inv: np.ndarray,
    r: int,
    best_k: int,
    eps: float,
    bound_u: float,
    bound_v: float,
    out: np.ndarray,
) -> None:
    """Scores (H,W,D) into ``out``; ``sources`` (V,H+1,W+1) padded by a replicated last row and column.

    Streams each plane and view a row at a time: warp the row, add it along x into a ring of 2r+1 row sums,
    and as soon as the rows of a window are in, sum them along y and form the ZNCC of the row r above.
    """
    H, W = ref.shape
    V = sources.shape[0]
    D = inv.shape[0]
    k = min(best_k, V)
    n = 2 * r + 1
    pad = np.zeros((H, W + 2 * r), np.float32)
    rows = np.zeros((H + 2 * r, W), np.float32)
    count = np.empty((H, W), np.float32)
    _window_sum(np.ones((H, W), np.float32), r, pad, rows, count)
    s1 = np.empty((H, W), np.float32)
    s2 = np.empty((H, W), np.float32)
    _window_sum(ref, r, pad, rows, s1)
    _window_sum(ref * ref, r, pad, rows, s2)
    mu_r = s1 / count
    den_r = np.maximum(s2 / count - mu_r * mu_r, np.float32(0)) + np.float32(eps)
    inv_count = np.float32(1) / count
    eps32 = np.float32(eps)
    half_w, half_h = np.float32((W - 1) / 2), np.float32((H - 1) / 2)
    w_last, h_last = np.float32(W - 1), np.float32(H - 1)
    stride = np.uint32(W + 1)  # of the padded source
    px = np.empty(W, np.float32)
    py = np.empty(W, np.float32)
    ok = np.empty((H, W), np.bool_)
    p_w = np.zeros(W + 2 * r, np.float32)  # one warped row and its products, padded in x
    p_ww = np.zeros(W + 2 * r, np.float32)
    p_wr = np.zeros(W + 2 * r, np.float32)
    ring = np.zeros((3, n, W), np.float32)  # the x-sums of the last n rows of w, w*w, w*ref
    a_w = np.empty(W, np.float32)
    a_ww = np.empty(W, np.float32)
    a_wr = np.empty(W, np.float32)
    top = np.empty((k, H, W), np.float32)
    for band0 in range(0, H, BAND_ROWS):  # bands of rows: a band's (W, D) output rows stay in cache over the planes
        band1 = min(band0 + BAND_ROWS, H)
        for d in range(D):
            top[:, band0:band1] = INVALID
            for v in range(V):
                src = sources[v].ravel()
                Av = A[v]
                qx, qy, qz = q[v, 0] * inv[d], q[v, 1] * inv[d], q[v, 2] * inv[d]
                for y_in in range(max(band0 - r, 0), band1 + r):
                    if y_in < H:  # warp the band and its halo
                        base = y_in * W
                        for u in range(W):  # the homography (vectorised): clamped source pixel and visibility
                            z = Av[base + u, 2] + qz
                            rz = np.float32(1) / z
                            gx = (Av[base + u, 0] + qx) * rz
                            gy = (Av[base + u, 1] + qy) * rz
                            ok[y_in, u] = (z > 0) & (abs(gx) <= bound_u) & (abs(gy) <= bound_v)
                            # grid_sample, align_corners=True, border padding; NaN (z = 0) goes to 0, an invalid pixel
                            cx = (gx + np.float32(1)) * half_w
                            cy = (gy + np.float32(1)) * half_h
                            cx = cx if cx > 0 else np.float32(0)
                            cy = cy if cy > 0 else np.float32(0)
                            px[u] = cx if cx < w_last else w_last
                            py[u] = cy if cy < h_last else h_last
                        for u in range(W):  # bilinear taps
                            x, yy = px[u], py[u]
                            x0, y0 = np.uint32(x), np.uint32(yy)
                            fx, fy = x - np.float32(x0), yy - np.float32(y0)
                            at = y0 * stride + x0
                            a, b, c, e = src[at], src[at + 1], src[at + stride], src[at + stride + 1]
                            top_row = a + fx * (b - a)
                            bottom_row = c + fx * (e - c)
                            w = top_row + fy * (bottom_row - top_row)
                            p_w[u + r] = w
                            p_ww[u + r] = w * w
                            p_wr[u + r] = w * ref[y_in, u]
                        slot = y_in % n
                        for u in range(W):  # sums along x
                            ring[0, slot, u] = p_w[u]
                            ring[1, slot, u] = p_ww[u]
                            ring[2, slot, u] = p_wr[u]
                        for dx in range(1, n):
                            for u in range(W):
                                ring[0, slot, u] += p_w[u + dx]
                                ring[1, slot, u] += p_ww[u + dx]
                                ring[2, slot, u] += p_wr[u + dx]
                    y = y_in - r
                    if y < band0 or y >= band1:
                        continue
                    first = max(y - r, 0)
                    slot = first % n
                    for u in range(W):  # sums along y of the window's rows inside the image, top to bottom
                        a_w[u] = ring[0, slot, u]
                        a_ww[u] = ring[1, slot, u]
                        a_wr[u] = ring[2, slot, u]
                    for row in range(first + 1, min(y + r, H - 1) + 1):
                        slot = row % n
                        for u in range(W):
                            a_w[u] += ring[0, slot, u]
                            a_ww[u] += ring[1, slot, u]
                            a_wr[u] += ring[2, slot, u]
                    for u in range(W):
                        c = inv_count[y, u]
                        mu_s = a_w[u] * c
                        var_s = max(a_ww[u] * c - mu_s * mu_s, np.float32(0))
                        score = (a_wr[u] * c - mu_r[y, u] * mu_s) / np.sqrt(den_r[y, u] * (var_s + eps32))
                        score = score if ok[y, u] else np.float32(INVALID)
                        for level in range(k):  # the running best-k, kept sorted
                            held = top[level, y, u]
                            top[level, y, u] = max(held, score)
                            score = min(held, score)
            for y in range(band0, band1):
                for u in range(W):
                    total = np.float32(0)
                    seen = 0
                    for level in range(k):
                        if top[level, y, u] > INVALID / 2:
                            total += top[level, y, u]
                            seen += 1
                    out[y, u, d] = total / seen if seen > 0 else np.float32(-1)


def sweep_volume(
    ref: np.ndarray,
    sources: np.ndarray,
    A: np.ndarray,
    q: np.ndarray,
    inv_depths: np.ndarray,
    window: int,
    best_k: int,
    eps: float,
    bound: tuple[float, float],
) -> np.ndarray:
    """Matching score (H,W,D) of every plane: mean of the best-k per-view ZNCC (-1 where no view sees it).

    ``ref`` (H,W) and ``sources`` (V,H,W) are float32 gray images; ``A`` (V,H*W,3) and ``q`` (V,3) give each
    source's grid coordinates of the point at inverse depth s on pixel i's ray as ``A[v,i] + s*q[v]``
    (homogeneous, grid_sample's normalised coordinates); ``bound`` is the visible extent in those coordinates.
    """
    H, W = ref.shape
    out = np.empty((H, W, len(inv_depths)), np.float32)
    _sweep(
        np.ascontiguousarray(ref, np.float32),
        np.pad(np.asarray(sources, np.float32), ((0, 0), (0, 1), (0, 1)), mode="edge"),
        np.ascontiguousarray(A, np.float32),
        np.ascontiguousarray(q, np.float32),
        np.ascontiguousarray(inv_depths, np.float32),
        window // 2,
        best_k,
        float(eps),
        float(bound[0]),
        float(bound[1]),
        out,
    )
    return out


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)  # min and add only: exact in any order
def _step(before: np.ndarray, has_prev: bool, score: np.ndarray, p1: np.float32, p2: np.float32, out: np.ndarray):
    """One SGM step: path costs ``out`` (D+2, padded) of a pixel from those ``before`` it and its scores."""
    D = score.shape[0]
    if not has_prev:
        for d in range(D):
            out[d + 1] = (np.float32(1) - score[d]) / np.float32(2)
        return
    low = before[1]
    for d in range(2, D + 1):
        low = min(low, before[d])
    jump = low + p2
    for d in range(D):
        best = min(min(before[d + 1], min(before[d + 2], before[d]) + p1), jump)
        out[d + 1] = best - low + (np.float32(1) - score[d]) / np.float32(2)


@njit(cache=True, nogil=True, error_model="numpy")
def _aggregate(
    scores: np.ndarray, p1: float, p2: float, eight: bool, select: bool, inv0: float, step: float, picks: np.ndarray
) -> np.ndarray:
    """Sum over the paths of the SGM path costs of (H,W,D) ``scores`` (cost (1 - score) / 2), mapped back to a
    score. Each pass streams the volume once: rows left-right then right-left, then top-down (down, and the two
    down diagonals) and bottom-up, each direction keeping its previous row. With ``select``, the bottom-up pass
    also takes each finished pixel's winner into ``picks`` (3,H,W: inverse depth, best score, confidence)."""
    H, W, D = scores.shape
    p1f, p2f = np.float32(p1), np.float32(p2)
    total = np.empty((H, W, D), np.float32)
    fwd = np.full((W, D + 2), _BIG, np.float32)
    bwd = np.full((W, D + 2), _BIG, np.float32)
    for y in range(H):  # rows: the pair (left-right, right-left) first, as the torch reference does
        for x in range(W):
            _step(fwd[x - 1], x > 0, scores[y, x], p1f, p2f, fwd[x])
        for x in range(W - 1, -1, -1):
            _step(bwd[x + 1 if x + 1 < W else x], x + 1 < W, scores[y, x], p1f, p2f, bwd[x])
        for x in range(W):
            for d in range(D):
                total[y, x, d] = fwd[x, d + 1] + bwd[x, d + 1]
    n_dirs = 3 if eight else 1
    n = np.float32(8 if eight else 4)
    curve = np.empty(D, np.float32)
    inv0f, stepf = np.float32(inv0), np.float32(step)
    shifts = np.array([0, 1, -1])  # dx of the vertical, then of the two diagonals
    for up in range(2):  # top-down, then bottom-up
        prev = np.full((n_dirs, W, D + 2), _BIG, np.float32)
        cur = np.full((n_dirs, W, D + 2), _BIG, np.float32)
        for step in range(H):
            y = step if up == 0 else H - 1 - step
            for x in range(W):
                for k in range(n_dirs):
                    px = x - shifts[k]
                    ok = step > 0 and 0 <= px < W
                    _step(prev[k, px if ok else x], ok, scores[y, x], p1f, p2f, cur[k, x])
                    for d in range(D):
                        total[y, x, d] += cur[k, x, d + 1]
                if up == 1 and select:
                    for d in range(D):
                        curve[d] = np.float32(1) - np.float32(2) * total[y, x, d] / n
                    picks[0, y, x], picks[1, y, x], picks[2, y, x] = _select(curve, inv0f, stepf)
            prev, cur = cur, prev
    if not select:
        for y in range(H):
            for x in range(W):
                for d in range(D):
                    total[y, x, d] = np.float32(1) - np.float32(2) * total[y, x, d] / n
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def _one_path(scores: np.ndarray, dy: int, dx: int, p1: float, p2: float, out: np.ndarray) -> None:
    H, W = scores.shape[:2]
    for step in range(H):
        y = step if dy >= 0 else H - 1 - step
        for xstep in range(W):
            x = xstep if dx >= 0 else W - 1 - xstep
            py, px = y - dy, x - dx
            ok = 0 <= py < H and 0 <= px < W
            _step(out[py if ok else y, px if ok else x], ok, scores[y, x], np.float32(p1), np.float32(p2), out[y, x])


def path_costs(scores: np.ndarray, dy: int, dx: int, p1: float, p2: float) -> np.ndarray:
    """SGM path costs (H,W,D) of one direction (dy, dx) of a score volume (H,W,D): cost (1 - score) / 2."""
    H, W, D = scores.shape
    out = np.full((H, W, D + 2), _BIG, np.float32)
    _one_path(np.ascontiguousarray(scores, np.float32), dy, dx, float(p1), float(p2), out)
    return out[:, :, 1:-1]


def aggregate_paths(scores: np.ndarray, p1: float, p2: float, paths: int = 4) -> np.ndarray:
    """Semi-global aggregation of a score volume (H,W,D) in [-1,1] over 4 or 8 paths.

    As ``mvs_cost.aggregate_paths``: cost (1 - score) / 2, penalties ``p1`` (one-plane step) and ``p2``
    (larger jump); returns 1 - 2 * mean path cost.
    """
    if paths not in (4, 8):
        raise ValueError(f"SGM paths must be 4 or 8, got {paths}")
    return _aggregate(_f32(scores), float(p1), float(p2), paths == 8, False, 0.0, 0.0, np.empty((3, 1, 1), np.float32))


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, np.float32)


def _plane_step(inv_depths: np.ndarray) -> tuple[float, float]:
    inv = np.asarray(inv_depths, np.float32)
    return float(inv[0]), float((inv[-1] - inv[0]) / np.float32(max(len(inv) - 1, 1)))


def aggregate_and_select(
    scores: np.ndarray, inv_depths: np.ndarray, p1: float, p2: float, paths: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``winner_take_all(aggregate_paths(scores, ...))`` in one pass less: each pixel is decided as soon as its
    last path is in (the aggregated volume is never written back as scores)."""
    if paths not in (4, 8):
        raise ValueError(f"SGM paths must be 4 or 8, got {paths}")
    H, W = scores.shape[:2]
    picks = np.empty((3, H, W), np.float32)
    _aggregate(_f32(scores), float(p1), float(p2), paths == 8, True, *_plane_step(inv_depths), picks)
    return picks[0], picks[1], picks[2]


@njit(cache=True, nogil=True, error_model="numpy")
def _select(s: np.ndarray, inv0: np.float32, step: np.float32) -> tuple[np.float32, np.float32, np.float32]:
    """Winner-take-all of one pixel's score curve ``s``: (inverse depth, best score, confidence)."""
    D = s.shape[0]
    idx = 0
    best = s[0]
    for d in range(1, D):
        if s[d] > best:
            best, idx = s[d], d
    lo = s[max(idx - 1, 0)]
    hi = s[min(idx + 1, D - 1)]
    curvature = lo - np.float32(2) * best + hi
    interior = 0 < idx < D - 1
    offset = np.float32(0)
    if interior and curvature < 0:
        offset = np.float32(0.5) * (lo - hi) / min(curvature, np.float32(-1e-12))
        offset = min(max(offset, np.float32(-0.5)), np.float32(0.5))
    second = np.float32(-1)  # the best other local maximum (not the shoulder of the winner)
    for d in range(D):
        below = s[d - 1] if d > 0 else np.float32(-3)
        above = s[d + 1] if d + 1 < D else np.float32(-3)
        if s[d] >= below and s[d] >= above and abs(d - idx) > PEAK_HALF_WIDTH:
            second = max(second, s[d])
    value = min(max((best - _LOW) / _SPAN, np.float32(0)), np.float32(1))
    margin = min(max((best - second) / _MARGIN, np.float32(0)), np.float32(1))
    return inv0 + (np.float32(idx) + offset) * step, best, value * margin if interior else np.float32(0)


@njit(cache=True, nogil=True, error_model="numpy")
def _wta(scores: np.ndarray, inv0: float, step: float, inv_depth: np.ndarray, best_out: np.ndarray, conf: np.ndarray):
    H, W = scores.shape[:2]
    for y in range(H):
        for x in range(W):
            inv_depth[y, x], best_out[y, x], conf[y, x] = _select(scores[y, x], np.float32(inv0), np.float32(step))


def winner_take_all(scores: np.ndarray, inv_depths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best plane per pixel of (H,W,D) ``scores``, refined by a parabola: (inv_depth, best score, confidence)."""
    H, W = scores.shape[:2]
    out = [np.empty((H, W), np.float32) for _ in range(3)]
    _wta(_f32(scores), *_plane_step(inv_depths), *out)
    return out[0], out[1], out[2]


@njit(cache=True, nogil=True, error_model="numpy")
def _zncc_at_depth(ref, src, M, m, depth, r, eps, out):
    H, W = ref.shape
    stride = W + 1
    warped = np.empty((H, W), np.float32)
    seen = np.empty((H, W), np.bool_)
    for y in range(H):
        for x in range(W):
            z = np.float64(depth[y, x])
            pz = (M[2, 0] * x + M[2, 1] * y + M[2, 2]) * z + m[2]
            pu = ((M[0, 0] * x + M[0, 1] * y + M[0, 2]) * z + m[0]) / pz
            pv = ((M[1, 0] * x + M[1, 1] * y + M[1, 2]) * z + m[1]) / pz
            seen[y, x] = (pz > 0) and (-0.5 <= pu <= W - 0.5) and (-0.5 <= pv <= H - 0.5)
            cu = min(pu, W - 1.0) if pu > 0 else 0.0  # border padding; NaN goes to 0 (not seen)
            cv = min(pv, H - 1.0) if pv > 0 else 0.0
            cu32, cv32 = np.float32(cu), np.float32(cv)
            x0, y0 = np.uint32(cu32), np.uint32(cv32)
            fx, fy = cu32 - np.float32(x0), cv32 - np.float32(y0)
            at = y0 * stride + x0
            a, b, c, e = src[at], src[at + 1], src[at + stride], src[at + stride + 1]
            top_row = a + fx * (b - a)
            warped[y, x] = top_row + fy * (c + fx * (e - c) - top_row)
    pad = np.zeros((H, W + 2 * r), np.float32)
    rows = np.zeros((H + 2 * r, W), np.float32)
    sums = np.empty((6, H, W), np.float32)
    _window_sum(np.ones((H, W), np.float32), r, pad, rows, sums[0])
    _window_sum(ref, r, pad, rows, sums[1])
    _window_sum(ref * ref, r, pad, rows, sums[2])
    _window_sum(warped, r, pad, rows, sums[3])
    _window_sum(warped * warped, r, pad, rows, sums[4])
    _window_sum(warped * ref, r, pad, rows, sums[5])
    eps32 = np.float32(eps)
    for y in range(H):
        for x in range(W):
            c = sums[0, y, x]
            mu_r, mu_s = sums[1, y, x] / c, sums[3, y, x] / c
            var_r = max(sums[2, y, x] / c - mu_r * mu_r, np.float32(0))
            var_s = max(sums[4, y, x] / c - mu_s * mu_s, np.float32(0))
            zncc = (sums[5, y, x] / c - mu_r * mu_s) / np.sqrt((var_r + eps32) * (var_s + eps32))
            out[y, x] = zncc if seen[y, x] else np.float32(np.nan)


def zncc_at_depth(
    ref: np.ndarray,
    source: np.ndarray,
    K_ref: np.ndarray,
    K_src: np.ndarray,
    R_rel: np.ndarray,
    t_rel: np.ndarray,
    depth: np.ndarray,
    window: int,
    eps: float,
) -> np.ndarray:
    """Windowed ZNCC (H,W) between ``ref`` and ``source`` warped by a per-pixel ``depth``; NaN where not seen.

    As ``mvs_cost.zncc_at_depth``: a NaN depth is never seen.
    """
    M = K_src @ R_rel @ np.linalg.inv(K_ref)
    out = np.empty(ref.shape, np.float32)
    src = np.pad(np.asarray(source, np.float32), ((0, 1), (0, 1)), mode="edge").ravel()
    _zncc_at_depth(
        np.ascontiguousarray(ref, np.float32), src, M, K_src @ t_rel, np.asarray(depth, np.float32), window // 2,
        float(eps), out,
    )  # fmt: skip
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_backward(depth_ref, Kr_inv, Kr, depth_nb, Kn_inv, Kn, R, t, max_reproj, max_rel, checked, consistent):
    H, W = depth_ref.shape
    for y in range(H):
        for x in range(W):
            checked[y, x] = False
            consistent[y, x] = False
            z = np.float64(depth_ref[y, x])
            if not np.isfinite(z):
                continue
            X0 = (Kr_inv[0, 0] * x + Kr_inv[0, 1] * y + Kr_inv[0, 2]) * z
            X1 = (Kr_inv[1, 0] * x + Kr_inv[1, 1] * y + Kr_inv[1, 2]) * z
            X2 = (Kr_inv[2, 0] * x + Kr_inv[2, 1] * y + Kr_inv[2, 2]) * z
            n0 = R[0, 0] * X0 + R[0, 1] * X1 + R[0, 2] * X2 + t[0]
            n1 = R[1, 0] * X0 + R[1, 1] * X1 + R[1, 2] * X2 + t[1]
            n2 = R[2, 0] * X0 + R[2, 1] * X1 + R[2, 2] * X2 + t[2]
            zn = Kn[2, 0] * n0 + Kn[2, 1] * n1 + Kn[2, 2] * n2
            qu = np.rint((Kn[0, 0] * n0 + Kn[0, 1] * n1 + Kn[0, 2] * n2) / zn)
            qv = np.rint((Kn[1, 0] * n0 + Kn[1, 1] * n1 + Kn[1, 2] * n2) / zn)
            if not (zn > 0 and 0 <= qu <= W - 1 and 0 <= qv <= H - 1):
                continue
            d_nb = np.float64(depth_nb[int(qv), int(qu)])
            if not np.isfinite(d_nb):
                continue
            checked[y, x] = True
            b0 = (Kn_inv[0, 0] * qu + Kn_inv[0, 1] * qv + Kn_inv[0, 2]) * d_nb - t[0]
            b1 = (Kn_inv[1, 0] * qu + Kn_inv[1, 1] * qv + Kn_inv[1, 2]) * d_nb - t[1]
            b2 = (Kn_inv[2, 0] * qu + Kn_inv[2, 1] * qv + Kn_inv[2, 2]) * d_nb - t[2]
            r0 = R[0, 0] * b0 + R[1, 0] * b1 + R[2, 0] * b2
            r1 = R[0, 1] * b0 + R[1, 1] * b1 + R[2, 1] * b2
            r2 = R[0, 2] * b0 + R[1, 2] * b1 + R[2, 2] * b2
            b0 = Kr[0, 0] * r0 + Kr[0, 1] * r1 + Kr[0, 2] * r2
            b1 = Kr[1, 0] * r0 + Kr[1, 1] * r1 + Kr[1, 2] * r2
            b2 = Kr[2, 0] * r0 + Kr[2, 1] * r1 + Kr[2, 2] * r2
            reproj = np.hypot(b0 / b2 - x, b1 / b2 - y)
            rel = abs(r2 - z) / z
            consistent[y, x] = reproj < max_reproj and rel < max_rel


def forward_backward(
    depth_ref: np.ndarray,
    K_ref: np.ndarray,
    depth_nb: np.ndarray,
    K_nb: np.ndarray,
    R_rel: np.ndarray,
    t_rel: np.ndarray,
    max_reproj_px: float,
    max_rel_depth: float,
) -> tuple[np.ndarray, np.ndarray]:
    """As ``mvs_consistency.forward_backward``, on numpy arrays: per-pixel (checked, consistent)."""
    checked = np.empty(depth_ref.shape, np.bool_)
    consistent = np.empty(depth_ref.shape, np.bool_)
    K_ref, K_nb = np.asarray(K_ref, np.float64), np.asarray(K_nb, np.float64)
    _forward_backward(
        np.ascontiguousarray(depth_ref, np.float32), np.linalg.inv(K_ref), K_ref,
        np.ascontiguousarray(depth_nb, np.float32), np.linalg.inv(K_nb), K_nb,
        np.asarray(R_rel, np.float64), np.asarray(t_rel, np.float64), float(max_reproj_px), float(max_rel_depth),
        checked, consistent,
    )  # fmt: skip
    return checked, consistent


@njit(cache=True, nogil=True, error_model="numpy")
def _largest_angles(depth: np.ndarray, K_inv: np.ndarray, centers: np.ndarray) -> np.ndarray:
    H, W = depth.shape
    out = np.empty(H * W)
    n = 0
    for y in range(H):
        for x in range(W):
            z = np.float64(depth[y, x])
            if not np.isfinite(z):
                continue
            X0 = (K_inv[0, 0] * x + K_inv[0, 1] * y + K_inv[0, 2]) * z
            X1 = (K_inv[1, 0] * x + K_inv[1, 1] * y + K_inv[1, 2]) * z
            X2 = (K_inv[2, 0] * x + K_inv[2, 1] * y + K_inv[2, 2]) * z
            best = 0.0
            for s in range(centers.shape[0]):
                b0, b1, b2 = centers[s, 0] - X0, centers[s, 1] - X1, centers[s, 2] - X2
                dot = -X0 * b0 - X1 * b1 - X2 * b2
                norms = max(np.sqrt(X0 * X0 + X1 * X1 + X2 * X2) * np.sqrt(b0 * b0 + b1 * b1 + b2 * b2), 1e-300)
                best = max(best, np.degrees(np.arccos(min(max(dot / norms, -1.0), 1.0))))
            out[n] = best
            n += 1
    return out[:n]


def median_angle_deg(depth: np.ndarray, K_ref: np.ndarray, centers: np.ndarray) -> float:
    """Median over finite-depth pixels of the largest angle at the point between the rays to the reference
    camera (the origin) and to each source centre (S,3, reference coordinates); the lower median, as torch's."""
    angles = _largest_angles(np.ascontiguousarray(depth, np.float32), np.linalg.inv(K_ref), np.asarray(centers, float))
    if len(angles) == 0:
        return 0.0
    mid = (len(angles) - 1) // 2
    return float(np.partition(angles, mid)[mid])

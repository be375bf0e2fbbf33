"""The CPU plane sweep in compiled code (numba): fused matching, semi-global matching, winner-take-all.

Same arithmetic as the torch reference in ``mvs_cost`` (which stays the CUDA path), laid out for a CPU:

- ``sweep_planes``: per plane and source view one pass over each row that warps the source through the
  plane's homography (bilinear, border padding), forms the window sums of w, w*w and w*ref and the ZNCC, and
  inserts it into the running best-k; the reference's window statistics are computed once per frame. Bands
  of rows are independent: from the main thread they run on every core (``numba.prange``).
- ``sgm_select_planes``: Hirschmueller's SGM over 4 (rows, columns) or 8 (and diagonals) paths, each pixel
  decided (best plane, parabolic sub-plane refinement, cost-curve confidence) as soon as its last path is in.

The volume is (H, D, W): one (D, W) block per image row, so that the sweep writes whole rows, the vertical
and diagonal SGM paths run over whole rows (vectorised along x) and the horizontal ones over a row's
transpose (vectorised along D). ``sweep_volume``, ``aggregate_paths``, ``aggregate_and_select`` and
``winner_take_all`` take and give (H, W, D), as the tests compare them with the reference.

Every kernel releases the GIL (curation runs clips in threads) and is compiled once into numba's on-disk
cache (``cache=True``; ``NUMBA_CACHE_DIR`` moves it).
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np
from numba import njit, prange

from mannequin.curation.mvs_cost import INVALID, MARGIN_FULL, PEAK_HALF_WIDTH, SCORE_HIGH, SCORE_LOW

if "NUMBA_THREADING_LAYER" not in os.environ:
    # fork-safe, and only ever launched from one thread at a time (``_parallel``)
    numba.config.THREADING_LAYER = "workqueue"

_BIG = np.float32(1e6)
#: Rows per band of the sweep (each band's rows are warped with a halo of window // 2 rows on both sides).
BAND_ROWS = 32
_LOW, _SPAN, _MARGIN = np.float32(SCORE_LOW), np.float32(SCORE_HIGH - SCORE_LOW), np.float32(MARGIN_FULL)
_INVALID = np.float32(INVALID)
#: SGM's min and add only: no NaN and no signed zero, which lets min-reductions vectorise; rounding unchanged.
_SGM_MATH = {"nnan", "nsz"}
_launch = threading.Lock()
_workspace = threading.local()
#: Columns per tile of a row's transpose in SGM, and independent running minima of a pixel's path costs.
_TILE = _LANES = 16


def _parallel() -> bool:
    """Run on every core only from the main thread, and one launch at a time: worker threads (curation's
    clips) already keep the cores busy, and numba's workqueue layer takes one launching thread at a time."""
    return threading.current_thread() is threading.main_thread() and not _launch.locked()


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
def _reference_stats(ref: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's window mean, variance + eps and 1 / pixel count, once per frame."""
    H, W = ref.shape
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
    return mu_r, den_r, np.float32(1) / count


@njit(cache=True, nogil=True, error_model="numpy")
def _sweep_band(ref, sources, ax, ay, az, q, inv, r, best_k, eps, bound_u, bound_v, stats, band0, band1, out):
    """Scores of rows ``band0:band1`` of every plane into ``out`` (H,D,W); ``sources`` (V,H+1,W+1) padded by a
    replicated last row and column, ``ax``, ``ay``, ``az`` (V,H*W) the homogeneous grid coordinates at s = 0.

    Streams each plane and view a row at a time: warp the row, add it along x into a ring of 2r+1 row sums,
    and as soon as the rows of a window are in, sum them along y and form the ZNCC of the row r above.
    Indices are slices or unsigned so that no loop pays for negative-index wraparound (it would not vectorise).
    """
    H, W = ref.shape
    V = sources.shape[0]
    D = inv.shape[0]
    k = min(best_k, V)
    n = 2 * r + 1
    mu_r, den_r, inv_count = stats
    zero, one, eps32 = np.float32(0), np.float32(1), np.float32(eps)
    bu, bv = np.float32(bound_u), np.float32(bound_v)
    half_w, half_h = np.float32((W - 1) / 2), np.float32((H - 1) / 2)
    w_last, h_last = np.float32(W - 1), np.float32(H - 1)
    stride, one_u = np.uint32(W + 1), np.uint32(1)  # of the padded source
    lo_in, hi_in = max(band0 - r, 0), band1 + r
    px = np.empty(W, np.float32)
    py = np.empty(W, np.float32)
    taps = np.empty(W, np.uint32)
    ok = np.empty((hi_in - lo_in, W), np.bool_)
    p_w = np.zeros(W + 2 * r, np.float32)  # one warped row and its products, padded in x
    p_ww = np.zeros(W + 2 * r, np.float32)
    p_wr = np.zeros(W + 2 * r, np.float32)
    c_w, c_ww, c_wr = p_w[r : r + W], p_ww[r : r + W], p_wr[r : r + W]
    ring = np.zeros((3, n, W), np.float32)  # the x-sums of the last n rows of w, w*w, w*ref
    a_w = np.empty(W, np.float32)
    a_ww = np.empty(W, np.float32)
    a_wr = np.empty(W, np.float32)
    score = np.empty(W, np.float32)
    total = np.empty(W, np.float32)
    seen = np.empty(W, np.float32)
    top = np.empty((k, band1 - band0, W), np.float32)
    for d in range(D):
        top[:] = _INVALID
        for v in range(V):
            src = sources[v].ravel()
            qx, qy, qz = q[v, 0] * inv[d], q[v, 1] * inv[d], q[v, 2] * inv[d]
            for y_in in range(lo_in, hi_in):
                if y_in < H:  # warp the band and its halo
                    at0 = y_in * W
                    rx, ry, rz_ = ax[v, at0 : at0 + W], ay[v, at0 : at0 + W], az[v, at0 : at0 + W]
                    ok_row, ref_row = ok[y_in - lo_in], ref[y_in]
                    for u in range(W):  # the homography: clamped source pixel and visibility
                        z = rz_[u] + qz
                        rz = one / z
                        gx = (rx[u] + qx) * rz
                        gy = (ry[u] + qy) * rz
                        ok_row[u] = (z > zero) & (abs(gx) <= bu) & (abs(gy) <= bv)
                        # grid_sample, align_corners=True, border padding; NaN (z = 0) goes to 0, an invalid pixel
                        cx = (gx + one) * half_w
                        cy = (gy + one) * half_h
                        cx = cx if cx > zero else zero
                        cy = cy if cy > zero else zero
                        px[u] = cx if cx < w_last else w_last
                        py[u] = cy if cy < h_last else h_last
                    for u in range(W):  # bilinear taps: where, and the weights (px, py become them)
                        x0, y0 = np.uint32(px[u]), np.uint32(py[u])
                        taps[u] = y0 * stride + x0
                        px[u] -= np.float32(x0)
                        py[u] -= np.float32(y0)
                    for u in range(W):
                        at, fx, fy = taps[u], px[u], py[u]
                        a, b, c, e = src[at], src[at + one_u], src[at + stride], src[at + stride + one_u]
                        top_row = a + fx * (b - a)
                        bottom_row = c + fx * (e - c)
                        w = top_row + fy * (bottom_row - top_row)
                        c_w[u] = w
                        c_ww[u] = w * w
                        c_wr[u] = w * ref_row[u]
                    slot = y_in % n
                    s_w, s_ww, s_wr = ring[0, slot], ring[1, slot], ring[2, slot]
                    for u in range(W):  # sums along x
                        s_w[u] = p_w[u]
                        s_ww[u] = p_ww[u]
                        s_wr[u] = p_wr[u]
                    for dx in range(1, n):
                        t_w, t_ww, t_wr = p_w[dx : dx + W], p_ww[dx : dx + W], p_wr[dx : dx + W]
                        for u in range(W):
                            s_w[u] += t_w[u]
                            s_ww[u] += t_ww[u]
                            s_wr[u] += t_wr[u]
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
                    s_w, s_ww, s_wr = ring[0, slot], ring[1, slot], ring[2, slot]
                    for u in range(W):
                        a_w[u] += s_w[u]
                        a_ww[u] += s_ww[u]
                        a_wr[u] += s_wr[u]
                ok_row, c_row, m_row, d_row = ok[y - lo_in], inv_count[y], mu_r[y], den_r[y]
                for u in range(W):
                    c = c_row[u]
                    mu_s = a_w[u] * c
                    var_s = a_ww[u] * c - mu_s * mu_s
                    var_s = var_s if var_s > zero else zero
                    zncc = (a_wr[u] * c - m_row[u] * mu_s) / np.sqrt(d_row[u] * (var_s + eps32))
                    score[u] = zncc if ok_row[u] else _INVALID
                for level in range(k):  # the running best-k, kept sorted
                    held_row = top[level, y - band0]
                    for u in range(W):
                        held, s = held_row[u], score[u]
                        held_row[u] = held if held > s else s
                        score[u] = s if held > s else held
        for t in range(band1 - band0):  # the mean of the best k that see the pixel, -1 where none does
            for u in range(W):
                total[u] = zero
                seen[u] = zero
            for level in range(k):
                held_row = top[level, t]
                for u in range(W):
                    good = held_row[u] > _INVALID / 2
                    total[u] += held_row[u] if good else zero
                    seen[u] += one if good else zero
            out_row = out[band0 + t, d]
            for u in range(W):
                out_row[u] = total[u] / seen[u] if seen[u] > zero else -one


@njit(cache=True, nogil=True, error_model="numpy")
def _sweep_serial(ref, sources, ax, ay, az, q, inv, r, best_k, eps, bound_u, bound_v, out):
    stats = _reference_stats(ref, r, eps)
    H = ref.shape[0]
    for band in range((H + BAND_ROWS - 1) // BAND_ROWS):
        b0 = band * BAND_ROWS
        _sweep_band(ref, sources, ax, ay, az, q, inv, r, best_k, eps, bound_u, bound_v, stats, b0,
                    min(b0 + BAND_ROWS, H), out)  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def _sweep_parallel(ref, sources, ax, ay, az, q, inv, r, best_k, eps, bound_u, bound_v, out):
    stats = _reference_stats(ref, r, eps)
    H = ref.shape[0]
    for band in prange((H + BAND_ROWS - 1) // BAND_ROWS):
        b0 = band * BAND_ROWS
        _sweep_band(ref, sources, ax, ay, az, q, inv, r, best_k, eps, bound_u, bound_v, stats, b0,
                    min(b0 + BAND_ROWS, H), out)  # fmt: skip


def sweep_planes(
    ref: np.ndarray,
    sources: np.ndarray,
    A: np.ndarray,
    q: np.ndarray,
    inv_depths: np.ndarray,
    window: int,
    best_k: int,
    eps: float,
    bound: tuple[float, float],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Matching score (H,D,W) of every plane: mean of the best-k per-view ZNCC (-1 where no view sees it).

    ``ref`` (H,W) and ``sources`` (V,H,W) are float32 gray images; ``A`` (V,H*W,3) and ``q`` (V,3) give each
    source's grid coordinates of the point at inverse depth s on pixel i's ray as ``A[v,i] + s*q[v]``
    (homogeneous, grid_sample's normalised coordinates); ``bound`` is the visible extent in those coordinates.
    Written into ``out`` (H,D,W float32) when given.
    """
    H, W = ref.shape
    A = np.asarray(A, np.float32)
    if out is None:
        out = np.empty((H, len(inv_depths), W), np.float32)
    args = (
        np.ascontiguousarray(ref, np.float32),
        np.pad(np.asarray(sources, np.float32), ((0, 0), (0, 1), (0, 1)), mode="edge"),
        *(np.ascontiguousarray(A[..., i]) for i in range(3)),
        np.ascontiguousarray(q, np.float32),
        np.ascontiguousarray(inv_depths, np.float32),
        window // 2,
        best_k,
        float(eps),
        float(bound[0]),
        float(bound[1]),
        out,
    )
    if _parallel():
        with _launch:
            _sweep_parallel(*args)
    else:
        _sweep_serial(*args)
    return out


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_SGM_MATH)
def _row_horizontal(cost, ct, sums, prev, cur, lanes, p1, p2, acc):
    """``acc`` (D,W) = left-right + right-left path costs of a row of costs (D,W), stepped along its transpose
    ``ct`` (W,D) so that each step is vectorised along D. ``sums`` (W,D), ``prev`` (D+2: the previous pixel's
    path costs, BIG at both ends), ``cur`` (D) and ``lanes`` (_LANES) are scratch. No array view is made
    per pixel (each would cost a reference count), the transposes go in tiles of ``_TILE`` columns (L1-sized),
    and the minimum of the previous path costs is kept in ``_LANES`` running minima (a plain min-loop stays
    scalar)."""
    D, W = cost.shape
    m = D // _LANES * _LANES
    for x0 in range(0, W, _TILE):
        for d in range(D):
            for x in range(x0, min(x0 + _TILE, W)):
                ct[x, d] = cost[d, x]
    for backward in range(2):
        for i in range(W):
            x = W - 1 - i if backward else i
            if i == 0:
                for d in range(D):
                    cur[d] = ct[x, d]
            else:  # prev holds the previous pixel's path costs, padded with BIG
                low = prev[1]
                if m > 0:
                    for j in range(_LANES):
                        lanes[j] = prev[1 + j]
                    for d0 in range(_LANES, m, _LANES):
                        for j in range(_LANES):
                            v = prev[1 + d0 + j]
                            lanes[j] = v if v < lanes[j] else lanes[j]
                    low = lanes[0]
                    for j in range(1, _LANES):
                        low = lanes[j] if lanes[j] < low else low
                for d in range(m + 1, D + 1):
                    v = prev[d]
                    low = v if v < low else low
                jump = low + p2
                for d in range(D):
                    lo, hi = prev[d], prev[d + 2]
                    step = lo if lo < hi else hi
                    step = step + p1
                    here = prev[d + 1]
                    best = here if here < step else step
                    best = jump if jump < best else best
                    cur[d] = best - low + ct[x, d]
            for d in range(D):
                prev[d + 1] = cur[d]
            if backward:
                for d in range(D):
                    sums[x, d] += cur[d]
            else:
                for d in range(D):
                    sums[x, d] = cur[d]
    for x0 in range(0, W, _TILE):
        for d in range(D):
            for x in range(x0, min(x0 + _TILE, W)):
                acc[d, x] = sums[x, d]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=_SGM_MATH)
def _row_vertical(cost, prev, cur, fresh, shift, p1, p2, low, acc):
    """One row of a path from the row before: ``cur`` (D+2,W) from ``prev`` at x - ``shift`` (0: vertical, +-1:
    diagonal), each step vectorised along x; rows 0 and D+1 of both are BIG; ``acc`` (D,W) += the path costs.
    ``fresh`` (the first row) and a diagonal's border column, which has no pixel before it, start afresh."""
    D, W = cost.shape
    if fresh:
        for d in range(D):
            for x in range(W):
                cur[d + 1, x] = cost[d, x]
    else:
        x0 = 1 if shift == 1 else 0
        m = W - abs(shift)
        p0 = x0 - shift
        for x in range(m):
            low[x] = prev[1, p0 + x]
        for d in range(2, D + 1):
            row = prev[d, p0 : p0 + m]
            for x in range(m):
                low[x] = row[x] if row[x] < low[x] else low[x]
        for d in range(D):
            below, here, above = prev[d, p0 : p0 + m], prev[d + 1, p0 : p0 + m], prev[d + 2, p0 : p0 + m]
            c, out = cost[d, x0 : x0 + m], cur[d + 1, x0 : x0 + m]
            for x in range(m):
                step = below[x] if below[x] < above[x] else above[x]
                step = step + p1
                best = here[x] if here[x] < step else step
                jump = low[x] + p2
                best = jump if jump < best else best
                out[x] = best - low[x] + c[x]
        if shift != 0:
            edge = 0 if shift == 1 else W - 1
            for d in range(D):
                cur[d + 1, edge] = cost[d, edge]
    for d in range(D):
        for x in range(W):
            acc[d, x] += cur[d + 1, x]


@njit(cache=True, nogil=True, error_model="numpy")
def _select_row(s, inv0, step, inv_depth, best, confidence, idx, second):
    """Winner-take-all of a row of score curves ``s`` (D,W), vectorised along x: per column the inverse depth
    (parabolic sub-plane refinement), the best score and the cost-curve confidence; ``idx``, ``second`` scratch."""
    D, W = s.shape
    for x in range(W):
        best[x] = s[0, x]
        idx[x] = 0
    for d in range(1, D):  # the first best plane
        for x in range(W):
            better = s[d, x] > best[x]
            best[x] = s[d, x] if better else best[x]
            idx[x] = d if better else idx[x]
    for x in range(W):
        second[x] = np.float32(-1)
    for d in range(D):  # the best other local maximum (not the shoulder of the winner)
        below = s[d - 1] if d > 0 else s[d]
        above = s[d + 1] if d + 1 < D else s[d]
        for x in range(W):
            v = s[d, x]
            peak = (d == 0 or v >= below[x]) & (d + 1 == D or v >= above[x]) & (abs(d - idx[x]) > PEAK_HALF_WIDTH)
            second[x] = max(second[x], v) if peak else second[x]
    for x in range(W):
        i, top = idx[x], best[x]
        lo = s[max(i - 1, 0), x]
        hi = s[min(i + 1, D - 1), x]
        curvature = lo - np.float32(2) * top + hi
        interior = 0 < i < D - 1
        offset = np.float32(0)
        if interior and curvature < 0:
            offset = np.float32(0.5) * (lo - hi) / min(curvature, np.float32(-1e-12))
            offset = min(max(offset, np.float32(-0.5)), np.float32(0.5))
        value = min(max((top - _LOW) / _SPAN, np.float32(0)), np.float32(1))
        margin = min(max((top - second[x]) / _MARGIN, np.float32(0)), np.float32(1))
        inv_depth[x] = inv0 + (np.float32(i) + offset) * step
        confidence[x] = value * margin if interior else np.float32(0)


@njit(cache=True, nogil=True, error_model="numpy")
def _sgm(scores, p1, p2, eight, select, inv0, step, picks, total):
    """SGM of ``scores`` (H,D,W) over 4 or 8 paths (cost (1 - score) / 2). Top-down, each row takes its
    left-right and right-left paths and the paths from the row above into ``total`` (H,D,W); bottom-up,
    each row adds the paths from the row below and is finished: mapped back to a score in ``total``, or,
    with ``select``, decided into ``picks`` (3,H,W: inverse depth, best score, confidence)."""
    H, D, W = scores.shape
    p1f, p2f, half = np.float32(p1), np.float32(p2), np.float32(0.5)
    n_dirs = 3 if eight else 1
    n = np.float32(8 if eight else 4)
    cost = np.empty((D, W), np.float32)
    ct = np.empty((W, D), np.float32)
    sums = np.empty((W, D), np.float32)
    lanes = np.empty(_LANES, np.float32)
    path = np.full(D + 2, _BIG, np.float32)
    path_now = np.empty(D, np.float32)
    prev = np.full((n_dirs, D + 2, W), _BIG, np.float32)
    cur = np.full((n_dirs, D + 2, W), _BIG, np.float32)
    low = np.empty(W, np.float32)
    curve = np.empty((D, W), np.float32)
    idx = np.empty(W, np.int64)
    second = np.empty(W, np.float32)
    inv0f, stepf = np.float32(inv0), np.float32(step)
    for up in range(2):
        for i in range(H):
            y = H - 1 - i if up else i
            for d in range(D):
                for x in range(W):
                    cost[d, x] = (np.float32(1) - scores[y, d, x]) * half
            acc = total[y]
            if not up:
                _row_horizontal(cost, ct, sums, path, path_now, lanes, p1f, p2f, acc)
            for k in range(n_dirs):  # straight, then the diagonals from x - 1 and x + 1
                _row_vertical(cost, prev[k], cur[k], i == 0, (0, 1, -1)[k], p1f, p2f, low, acc)
            prev, cur = cur, prev
            if up:
                done = curve if select else acc
                for d in range(D):
                    for x in range(W):
                        done[d, x] = np.float32(1) - np.float32(2) * acc[d, x] / n
                if select:
                    _select_row(curve, inv0f, stepf, picks[0, y], picks[1, y], picks[2, y], idx, second)


@njit(cache=True, nogil=True, error_model="numpy")
def _select_rows(scores, inv0, step, picks):
    H, W = scores.shape[0], scores.shape[2]
    idx = np.empty(W, np.int64)
    second = np.empty(W, np.float32)
    for y in range(H):
        _select_row(scores[y], np.float32(inv0), np.float32(step), picks[0, y], picks[1, y], picks[2, y], idx,
                    second)  # fmt: skip


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, np.float32)


def _plane_step(inv_depths: np.ndarray) -> tuple[float, float]:
    inv = np.asarray(inv_depths, np.float32)
    return float(inv[0]), float((inv[-1] - inv[0]) / np.float32(max(len(inv) - 1, 1)))


def _check_paths(paths: int) -> None:
    if paths not in (4, 8):
        raise ValueError(f"SGM paths must be 4 or 8, got {paths}")


def sgm_select_planes(
    scores: np.ndarray,
    inv_depths: np.ndarray,
    p1: float,
    p2: float,
    paths: int = 4,
    total: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SGM of a score volume (H,D,W) in [-1,1] and winner-take-all: (inv_depth, best score, confidence).

    ``total`` (H,D,W float32), when given, is the scratch for the path sums."""
    _check_paths(paths)
    H, D, W = scores.shape
    picks = np.empty((3, H, W), np.float32)
    if total is None:
        total = np.empty((H, D, W), np.float32)
    _sgm(_f32(scores), float(p1), float(p2), paths == 8, True, *_plane_step(inv_depths), picks, total)
    return picks[0], picks[1], picks[2]


def select_planes(scores: np.ndarray, inv_depths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Winner-take-all of a score volume (H,D,W): (inv_depth, best score, confidence)."""
    H, W = scores.shape[0], scores.shape[2]
    picks = np.empty((3, H, W), np.float32)
    _select_rows(_f32(scores), *_plane_step(inv_depths), picks)
    return picks[0], picks[1], picks[2]


def _scratch(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of ``shape`` kept by the calling thread and handed out again on its next call: a fresh
    volume costs its page faults on every frame (about 10 ms per 35 MB here), a kept one only once. The largest
    asked for stays (two volumes: 7 MB at 160x120 with 48 planes, 118 MB at 640x480)."""
    size = int(np.prod(shape))
    held = getattr(_workspace, name, None)
    if held is None or held.size < size:
        held = np.empty(size, np.float32)
        setattr(_workspace, name, held)
    return held[:size].reshape(shape)


def sweep_and_select(
    ref: np.ndarray,
    sources: np.ndarray,
    A: np.ndarray,
    q: np.ndarray,
    inv_depths: np.ndarray,
    window: int,
    best_k: int,
    eps: float,
    bound: tuple[float, float],
    sgm_paths: int | None,
    p1: float = 0.0,
    p2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sweep_planes``, then ``sgm_select_planes`` (``sgm_paths`` 4 or 8) or, with ``sgm_paths`` None,
    ``select_planes``: (inv_depth, best score, confidence), the volumes in the thread's kept scratch."""
    H, W = ref.shape
    shape = (H, len(inv_depths), W)
    volume = sweep_planes(ref, sources, A, q, inv_depths, window, best_k, eps, bound, _scratch("volume", shape))
    if sgm_paths is None:
        return select_planes(volume, inv_depths)
    return sgm_select_planes(volume, inv_depths, p1, p2, sgm_paths, _scratch("total", shape))


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

"""Per reference frame: which source views to match against, and the depth range to sweep.

Both come from sparse SIFT points matched between the reference and a spread of probe frames
and triangulated with the known poses, so they need no knowledge of the pose scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mannequin.config.curate import MvsParams
from mannequin.curation.mvs_geometry import Rig, ray_angle_deg
from mannequin.curation.mvs_sparse import Features, depths_in, detect_features, triangulate_pair

MIN_SPARSE_POINTS = 12
PROBE_FRAMES = 8
MIN_RANGE_RATIO = 1.5
#: Fallback scene depth when too few sparse points: the depth at which the median baseline to
#: the other frames subtends this angle. Only used for blank or featureless frames.
FALLBACK_ANGLE_DEG = 5.0


@dataclass(frozen=True)
class FramePlan:
    """Sources and sweep range of one reference frame (depths in normalised pose units)."""

    index: int
    sources: tuple[int, ...]
    near: float
    far: float
    sparse_points: int
    range_from_sparse: bool


@dataclass
class SparseCache:
    """SIFT features per frame and triangulated points per frame pair, computed on demand."""

    images: np.ndarray
    rig: Rig
    max_features: int
    _features: dict[int, Features] = field(default_factory=dict)
    _pairs: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def features(self, i: int) -> Features:
        if i not in self._features:
            self._features[i] = detect_features(self.images[i], self.max_features)
        return self._features[i]

    def points(self, a: int, b: int) -> np.ndarray:
        """World points (M,3) triangulated from the matches between frames a and b."""
        key = (min(a, b), max(a, b))
        if key not in self._pairs:
            X, _ = triangulate_pair(self.rig, key[0], key[1], self.features(key[0]), self.features(key[1]))
            self._pairs[key] = X
        return self._pairs[key]


def probe_frames(n: int, ref: int, count: int = PROBE_FRAMES) -> list[int]:
    """Up to ``count`` other frames at Fibonacci-like offsets on both sides of ``ref``: near and far ones."""
    out: list[int] = []
    for step in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89):
        for j in (ref + step, ref - step):
            if 0 <= j < n and len(out) < count:
                out.append(j)
    return out


def _scene_center(rig: Rig, ref: int, depth: float) -> np.ndarray:
    """The world point at ``depth`` on the ray through the image centre of ``ref``."""
    pix = np.array([(rig.width - 1) / 2, (rig.height - 1) / 2, 1.0])
    ray = np.linalg.solve(rig.K[ref], pix)
    cam = ray / ray[2] * depth
    return rig.R[ref].T @ (cam - rig.t[ref])


def _sees(rig: Rig, X: np.ndarray, slack: float = 0.2) -> np.ndarray:
    """Which frames (N,) see the world point ``X`` in front of them, within ``slack`` of the image beyond its border."""
    cam = rig.R @ X + rig.t
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = (rig.K @ cam[:, :, None])[:, :, 0]
        u, v = proj[:, 0] / proj[:, 2], proj[:, 1] / proj[:, 2]
    inside = (-slack * rig.width <= u) & (u <= (1 + slack) * rig.width)
    return (cam[:, 2] > 0) & inside & (-slack * rig.height <= v) & (v <= (1 + slack) * rig.height)


def select_sources(rig: Rig, ref: int, center: np.ndarray, params: MvsParams) -> tuple[int, ...]:
    """Up to ``num_sources`` frames whose triangulation angle at ``center`` is within bounds, spread out.

    The first is the frame closest to the target angle (geometric mean of the bounds); each next one
    is the eligible frame that sees ``center`` from the most different direction from those chosen
    (capped at the target angle), ties broken by closeness to the target, then by frame order.
    Every frame is scored at once (numpy), so a frame's choice costs O(frames) array work.
    """
    centers = rig.centers
    target = float(np.sqrt(params.min_angle_deg * min(params.max_angle_deg, 90.0)))
    angles = ray_angle_deg(center, centers[ref], centers)
    ok = (params.min_angle_deg <= angles) & (angles <= params.max_angle_deg) & _sees(rig, center)
    ok[ref] = False
    eligible = np.flatnonzero(ok)
    closeness = np.abs(np.log(angles[eligible] / target))
    spread = np.full(len(eligible), target)  # smallest angle at ``center`` to a chosen frame, capped
    left = np.ones(len(eligible), bool)
    chosen: list[int] = []
    while left.any() and len(chosen) < params.num_sources:
        at = np.flatnonzero(left)
        rounded = np.array([round(float(a), 1) for a in spread[at]])  # Python's rounding, as before
        best = at[np.lexsort((at, closeness[at], -rounded))[0]]
        chosen.append(int(eligible[best]))
        left[best] = False
        spread = np.minimum(spread, ray_angle_deg(center, centers[eligible], centers[eligible[best]]))
    return tuple(chosen)


def plan_frame(cache: SparseCache, ref: int, params: MvsParams) -> FramePlan:
    """Choose the sources and the sweep range of frame ``ref``."""
    rig = cache.rig
    probes = probe_frames(len(rig), ref)
    pts = [cache.points(ref, j) for j in probes]
    depths = depths_in(rig, ref, np.concatenate(pts)) if pts else np.zeros(0)
    depths = depths[depths > 0]
    if len(depths) >= MIN_SPARSE_POINTS:
        scene_depth = float(np.median(depths))
    else:
        baselines = np.linalg.norm(rig.centers - rig.centers[ref], axis=1)
        baselines = baselines[baselines > 0]
        scene_depth = float(np.median(baselines)) / np.tan(np.radians(FALLBACK_ANGLE_DEG)) if len(baselines) else 1.0
    sources = select_sources(rig, ref, _scene_center(rig, ref, scene_depth), params)
    extra = [cache.points(ref, j) for j in sources if j not in probes]
    if extra:
        more = depths_in(rig, ref, np.concatenate(extra))
        depths = np.concatenate([depths, more[more > 0]])
    from_sparse = len(depths) >= MIN_SPARSE_POINTS
    if from_sparse:
        lo, hi = np.percentile(depths, [2.0, 98.0])
        near, far = lo / (1 + params.depth_margin), hi * (1 + params.depth_margin)
    else:
        near, far = scene_depth / 4, scene_depth * 4
    if far / near < MIN_RANGE_RATIO:
        mid = np.sqrt(near * far)
        near, far = mid / np.sqrt(MIN_RANGE_RATIO), mid * np.sqrt(MIN_RANGE_RATIO)
    return FramePlan(ref, sources, float(near), float(far), len(depths), bool(from_sparse))

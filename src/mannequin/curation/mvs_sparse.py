"""Sparse SIFT points triangulated with the known poses: the scene depth seen by a frame, without scale."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mannequin.curation.mvs_geometry import Rig, ray_angle_deg

MAX_EPIPOLAR_PX = 1.5
MAX_REPROJ_PX = 2.0
MIN_POINT_ANGLE_DEG = 0.3


@dataclass(frozen=True)
class Features:
    """Keypoint pixel positions (K,2) and SIFT descriptors (K,128) of one image."""

    points: np.ndarray
    descriptors: np.ndarray


def detect_features(image: np.ndarray, max_features: int) -> Features:
    """SIFT keypoints and descriptors of an RGB uint8 image."""
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    keypoints, descriptors = cv2.SIFT_create(nfeatures=max_features).detectAndCompute(gray, None)
    if descriptors is None or len(keypoints) == 0:
        return Features(np.zeros((0, 2)), np.zeros((0, 128), np.float32))
    return Features(np.array([k.pt for k in keypoints], dtype=np.float64), descriptors)


def _fundamental(rig: Rig, a: int, b: int) -> np.ndarray:
    R, t = rig.relative(a, b)
    tx = np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]])
    return np.linalg.inv(rig.K[b]).T @ tx @ R @ np.linalg.inv(rig.K[a])


def _epipolar_distance(F: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    ha = np.hstack([pa, np.ones((len(pa), 1))])
    hb = np.hstack([pb, np.ones((len(pb), 1))])
    la = ha @ F.T  # epipolar lines in b
    lb = hb @ F  # epipolar lines in a
    num = np.abs(np.sum(hb * la, axis=1))
    return np.maximum(
        num / np.maximum(np.hypot(la[:, 0], la[:, 1]), 1e-12), num / np.maximum(np.hypot(lb[:, 0], lb[:, 1]), 1e-12)
    )


def match_features(fa: Features, fb: Features, ratio: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Mutual nearest-neighbour matches passing the ratio test: pixel arrays (M,2) in image a and image b."""
    if len(fa.points) < 2 or len(fb.points) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2))
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    forward = matcher.knnMatch(fa.descriptors, fb.descriptors, k=2)
    backward = {m[0].queryIdx: m[0].trainIdx for m in matcher.knnMatch(fb.descriptors, fa.descriptors, k=1) if m}
    good = [
        m[0]
        for m in forward
        if len(m) == 2 and m[0].distance < ratio * m[1].distance and backward.get(m[0].trainIdx) == m[0].queryIdx
    ]
    ia = np.array([m.queryIdx for m in good], dtype=int)
    ib = np.array([m.trainIdx for m in good], dtype=int)
    return fa.points[ia].reshape(-1, 2), fb.points[ib].reshape(-1, 2)


def triangulate_pair(rig: Rig, a: int, b: int, fa: Features, fb: Features) -> tuple[np.ndarray, np.ndarray]:
    """World points (M,3) matched between frames a and b and their triangulation angles (M,) in degrees.

    Matches must lie within ``MAX_EPIPOLAR_PX`` of their epipolar lines; points must lie in front
    of both cameras and reproject within ``MAX_REPROJ_PX``.
    """
    pa, pb = match_features(fa, fb)
    if len(pa) == 0:
        return np.zeros((0, 3)), np.zeros(0)
    keep = _epipolar_distance(_fundamental(rig, a, b), pa, pb) < MAX_EPIPOLAR_PX
    pa, pb = pa[keep], pb[keep]
    if len(pa) == 0:
        return np.zeros((0, 3)), np.zeros(0)
    hom = cv2.triangulatePoints(rig.projection(a), rig.projection(b), pa.T.copy(), pb.T.copy())
    with np.errstate(divide="ignore", invalid="ignore"):
        X = (hom[:3] / hom[3]).T
    ok = np.all(np.isfinite(X), axis=1)
    for frame, pix in ((a, pa), (b, pb)):
        cam = X @ rig.R[frame].T + rig.t[frame]
        with np.errstate(divide="ignore", invalid="ignore"):
            proj = cam @ rig.K[frame].T
            uv = proj[:, :2] / proj[:, 2:3]
        ok &= (cam[:, 2] > 0) & (np.linalg.norm(uv - pix, axis=1) < MAX_REPROJ_PX)
    centers = rig.centers
    angles = np.zeros(len(X))
    angles[ok] = ray_angle_deg(X[ok], centers[a], centers[b])
    ok &= angles > MIN_POINT_ANGLE_DEG
    return X[ok], angles[ok]


def depths_in(rig: Rig, frame: int, X: np.ndarray) -> np.ndarray:
    """Depths (z in the camera of ``frame``) of world points X (M,3)."""
    return (X @ rig.R[frame].T + rig.t[frame])[:, 2]

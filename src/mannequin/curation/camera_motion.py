"""Does the camera move at all? A check in milliseconds before structure from motion spends minutes finding out.

Corners of the static background are tracked (OpenCV's pyramidal Lucas-Kanade, kept only where the track comes
back to its start) from each frame to the frame half the clip later. A camera that moves shifts the background
between frames that far apart; a camera on a tripod does not, however many people walk past it: their corners
leave or change between frames seconds apart and do not track back, and the median ignores the few that do.

The verdict is the median, over those pairs of frames, of each pair's median shift of the tracked corners. A pair
whose corners mostly fail to track (a camera moving far, or a cut) counts as moving, and a frame without corners
(no texture) leaves its pair out; a clip with no pair left has no verdict. Judged over the clip like
:mod:`mannequin.curation.sfm`'s check on the matched SIFT features, and against the same ``curate.sfm.min_flow_px``
(:data:`STILL_SHARE` of it).
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_CORNERS = 400
MIN_CORNERS = 20  # fewer corners than this: no texture to judge by
MIN_TRACKED = 0.5  # a pair where fewer of the corners track is a camera that moved (or a cut)
ROUND_TRIP_PX = 0.5  # a track must come back to within this of its corner
#: a clip is called still before SfM only below this share of ``curate.sfm.min_flow_px``: the check is a fast path
#: for the plain case (a camera on a tripod), and SfM's own check on its matched features judges the rest
STILL_SHARE = 0.5
_LK = {"winSize": (21, 21), "maxLevel": 3, "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}


def pair_shift(a: np.ndarray, b: np.ndarray) -> float | None:
    """Median shift (pixels) of the corners of grey frame ``a`` tracked into ``b``: ``inf`` where most do not
    track, ``None`` where ``a`` has too few corners to say."""
    corners = cv2.goodFeaturesToTrack(a, MAX_CORNERS, 0.01, 7)
    if corners is None or len(corners) < MIN_CORNERS:
        return None
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(a, b, corners, None, **_LK)
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(b, a, ahead, None, **_LK)
    round_trip = np.linalg.norm((back - corners).reshape(-1, 2), axis=1)
    tracked = (found.ravel() == 1) & (found_back.ravel() == 1) & (round_trip < ROUND_TRIP_PX)
    if tracked.mean() < MIN_TRACKED:
        return float("inf")
    return float(np.median(np.linalg.norm((ahead - corners).reshape(-1, 2)[tracked], axis=1)))


def clip_shift(grey: list[np.ndarray]) -> float | None:
    """How far the background moves over a clip (grey frames in time order, all one size), in pixels: the median
    over the pairs of frames half the clip apart of :func:`pair_shift`; ``None`` when no pair can tell."""
    gap = max(1, (len(grey) - 1) // 2)
    shifts = [pair_shift(grey[i], grey[i + gap]) for i in range(len(grey) - gap)]
    known = [s for s in shifts if s is not None]
    return float(np.median(known)) if known else None


def still_camera(grey: list[np.ndarray], min_flow_px: float) -> float | None:
    """The clip's :func:`clip_shift` where it shows a still camera (under :data:`STILL_SHARE` of ``min_flow_px``),
    else ``None``."""
    shift = clip_shift(grey)
    return shift if shift is not None and shift < STILL_SHARE * min_flow_px else None

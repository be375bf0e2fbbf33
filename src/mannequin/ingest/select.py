"""Which frames of a shot become clip frames: a target rate, no near-duplicates, no blurred frames, bounded clips."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from mannequin.config.ingest import IngestParams


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of a grey image (0..1 floats): low for blurred frames."""
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


@dataclass
class Candidate:
    """A frame sampled at the target rate, with what selection needs to know about it."""

    index: int
    sharpness: float
    duplicate: bool


class CandidatePicker:
    """Samples frames at the target rate while the video streams, marking near-duplicates of the last kept frame.

    Only one small grey frame (the last kept one) is held; a cut resets it.
    """

    def __init__(self, source_fps: float, params: IngestParams) -> None:
        self.stride = max(1, round(source_fps / params.fps))
        self.threshold = params.duplicate_threshold
        self.candidates: list[Candidate] = []
        self._last: np.ndarray | None = None

    def cut(self) -> None:
        self._last = None

    def add(self, index: int, gray_u8: np.ndarray) -> None:
        if index % self.stride:
            return
        gray = gray_u8.astype(np.float32) / 255.0
        duplicate = self._last is not None and float(np.abs(gray - self._last).mean()) < self.threshold
        if not duplicate:
            self._last = gray
        self.candidates.append(Candidate(index, sharpness(gray), duplicate))


def shot_clips(candidates: list[Candidate], start: int, end: int, params: IngestParams) -> list[list[int]]:
    """Frame indices of the clips of shot ``[start, end)``: duplicates and blurred frames out, split into even parts.

    A frame is blurred when its sharpness is below ``blur_ratio`` times the shot's median. A part with fewer
    than ``min_frames`` frames is dropped.
    """
    shot = [c for c in candidates if start <= c.index < end and not c.duplicate]
    if not shot:
        return []
    floor = params.blur_ratio * float(np.median([c.sharpness for c in shot]))
    kept = [c.index for c in shot if c.sharpness >= floor]
    parts = max(1, math.ceil(len(kept) / params.max_frames))
    bounds = np.linspace(0, len(kept), parts + 1).round().astype(int)
    chunks = [kept[a:b] for a, b in itertools.pairwise(bounds)]
    return [c for c in chunks if len(c) >= params.min_frames]

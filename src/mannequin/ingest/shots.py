"""Shot boundaries with PySceneDetect's ContentDetector, fed frame by frame (it runs on opencv-python-headless)."""

from __future__ import annotations

import itertools

import numpy as np


class ShotCutter:
    """Feed frames in order (BGR uint8, any fixed size); :attr:`cuts` holds the first frame of every new shot."""

    def __init__(self, fps: float, threshold: float, min_shot_frames: int) -> None:
        from scenedetect import ContentDetector

        self._fps = fps
        self._detector = ContentDetector(threshold=threshold, min_scene_len=min_shot_frames)
        self.cuts: list[int] = []

    def _record(self, timecodes: list) -> None:
        self.cuts.extend(int(t.frame_num) for t in timecodes)

    def add(self, index: int, bgr: np.ndarray) -> None:
        from scenedetect import FrameTimecode

        self._record(self._detector.process_frame(FrameTimecode(index, self._fps), bgr))

    def finish(self, num_frames: int) -> list[int]:
        """The cuts, after the detector's end-of-video flush."""
        from scenedetect import FrameTimecode

        if num_frames:
            self._record(self._detector.post_process(FrameTimecode(num_frames - 1, self._fps)))
        self.cuts = sorted({c for c in self.cuts if 0 < c < num_frames})
        return self.cuts


def shot_ranges(cuts: list[int], num_frames: int) -> list[tuple[int, int]]:
    """``[start, end)`` of every shot of a video with these cut frames."""
    edges = [0, *sorted(c for c in cuts if 0 < c < num_frames), num_frames]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]

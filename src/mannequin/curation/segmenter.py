"""Person masks from a real person segmenter: MediaPipe's selfie segmentation run by LiteRT, tiled for small people.

The model (:mod:`mannequin.curation.segmenter_model`) takes a 256x256 RGB image in [0, 1] and gives each pixel a
probability of being a person. It was made for one person near the camera: on a whole 768x576 street frame it
finds only the nearest pedestrian, and on a small crop it takes whatever stands out for a person. So the frame is
segmented at a ladder of scales (:func:`tile_sides`): the whole frame, and overlapping square tiles (half a
tile apart) of the smallest side, then ``tile_factor`` times larger, while a tile is at most the frame's shorter
side over ``tile_factor``. At each scale the tiles' probabilities are averaged where they overlap, and a
connected region above ``threshold`` counts only when its height fits that scale: between ``min_height`` and
``max_height`` of the tile side (for the whole frame, at least ``min_height`` of the shorter side). A person 60
px tall is found by the 128-px tiles; a stone or a jacket on the grass, small at every scale, is not; a flag
beside a portrait, which small tiles take for part of a person, is too tall for them. The scales' masks are
united and dilated by ``dilate`` of the frame height, as the Mannequin Challenge paper dilates its human masks.

Frames wider than ``max_width`` are segmented downscaled, and the mask is scaled back (nearest).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from mannequin.config.masks import SegmenterParams
from mannequin.curation.segmenter_model import checked_model


def tile_sides(height: int, width: int, params: SegmenterParams) -> list[int]:
    """The tile sides (pixels) of a ``height`` x ``width`` frame, smallest first; the whole frame comes on top."""
    sides, side = [], float(params.smallest_tile)
    while side * params.tile_factor <= min(height, width):
        sides.append(round(side))
        side *= params.tile_factor
    return sides


def tile_origins(length: int, side: int) -> list[int]:
    """Starts of tiles of ``side`` along ``length``, half a tile apart, the last one flush with the end."""
    step = max(1, side // 2)
    starts = list(range(0, length - side + 1, step))
    if starts[-1] != length - side:
        starts.append(length - side)
    return starts


def fitting_regions(prob: np.ndarray, threshold: float, low: float, high: float) -> np.ndarray:
    """The connected regions of ``prob > threshold`` whose height is within ``[low, high]`` pixels: (H,W) bool."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((prob > threshold).astype(np.uint8), connectivity=8)
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    keep = [k for k in range(1, count) if low <= heights[k] <= high]
    return np.isin(labels, keep)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (LiteRT's C++ runtime announces its CPU delegate there, past Python's logging)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def dilated(mask: np.ndarray, fraction: float) -> np.ndarray:
    """``mask`` (H,W bool) grown by ``fraction`` of its height (a square of side 2r+1, r rounded; none at r = 0)."""
    radius = round(fraction * mask.shape[0])
    if radius <= 0:
        return np.asarray(mask, bool)
    return cv2.dilate(np.asarray(mask, np.uint8), np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)) > 0


class PersonSegmenter:
    """The selfie-segmentation model, loaded once, and the tiling that finds people of any size in a frame."""

    def __init__(self, params: SegmenterParams | None = None, model: str | Path | None = None, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.params = params or SegmenterParams()
        path = checked_model(model)
        self._net = Interpreter(model_path=str(path), num_threads=threads)
        with _quiet_stderr():
            self._net.allocate_tensors()
        given, out = self._net.get_input_details()[0], self._net.get_output_details()[0]
        self._input, self._output = given["index"], out["index"]
        self.size = (int(given["shape"][2]), int(given["shape"][1]))  # (width, height) the model takes

    def probability(self, image: np.ndarray) -> np.ndarray:
        """The model on one RGB uint8 image (any size, squashed to the model's): (H,W) float32 in [0, 1]."""
        x = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA).astype(np.float32)[None] / 255.0
        self._net.set_tensor(self._input, x)
        self._net.invoke()
        prob = self._net.get_tensor(self._output)[0, ..., 0]
        return cv2.resize(prob, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)

    def tiled_probability(self, image: np.ndarray, side: int) -> np.ndarray:
        """The mean probability over the overlapping ``side`` x ``side`` tiles covering each pixel."""
        h, w = image.shape[:2]
        total = np.zeros((h, w), np.float32)
        count = np.zeros((h, w), np.float32)
        for y in tile_origins(h, side):
            for x in tile_origins(w, side):
                total[y : y + side, x : x + side] += self.probability(image[y : y + side, x : x + side])
                count[y : y + side, x : x + side] += 1.0
        return total / count

    def mask(self, image: np.ndarray) -> np.ndarray:
        """Where the people are in one RGB uint8 frame: (H,W) bool, dilated by ``dilate`` of the frame height."""
        return dilated(self.people(image), self.params.dilate)

    def people(self, image: np.ndarray) -> np.ndarray:
        """The pixels the ladder of scales takes for people in one RGB uint8 frame, before dilation: (H,W) bool."""
        p = self.params
        image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        work = image
        if w > p.max_width:
            work = cv2.resize(image, (p.max_width, max(1, round(h * p.max_width / w))), interpolation=cv2.INTER_AREA)
        wh, ww = work.shape[:2]
        short = min(wh, ww)
        found = fitting_regions(self.probability(work), p.threshold, p.min_height * short, np.inf)
        for side in tile_sides(wh, ww, p):
            prob = self.tiled_probability(work, side)
            found |= fitting_regions(prob, p.threshold, p.min_height * side, p.max_height * side)
        if (ww, wh) != (w, h):
            found = cv2.resize(found.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        return found

    def masks(self, images: Iterable[np.ndarray]) -> np.ndarray:
        """:meth:`mask` of every frame: (N,H,W) bool."""
        return np.stack([self.mask(image) for image in images])

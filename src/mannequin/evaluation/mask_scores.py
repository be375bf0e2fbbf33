"""How well masks find people: recall over hand-drawn person boxes, coverage of named regions, IoU.

A person counts as found when the mask covers at least :data:`MIN_COVER` of their box (a walking person fills
about half of a tight box, so 0.3 means most of the body is masked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: the fraction of a person's box the mask must cover for the person to count as found
MIN_COVER = 0.3

Box = Sequence[int]  # x0, y0, x1, y1 in pixels, inclusive


def box_cover(mask: np.ndarray, box: Box) -> float:
    """The fraction of ``box`` (x0, y0, x1, y1 inclusive) that ``mask`` (H,W bool) covers."""
    x0, y0, x1, y1 = (int(v) for v in box)
    return float(np.asarray(mask, bool)[y0 : y1 + 1, x0 : x1 + 1].mean())


def box_recall(
    masks: Mapping[int, np.ndarray], boxes: Mapping[int, Sequence[Box]], min_cover: float = MIN_COVER
) -> dict:
    """People found over every frame's boxes: ``{"recall", "found", "people", "outside"}``, ``outside`` being the
    fraction of masked pixels in no box (what the mask marks that is not a boxed person)."""
    found = people = masked = outside = 0
    for frame, frame_boxes in boxes.items():
        mask = np.asarray(masks[frame], bool)
        inside = np.zeros_like(mask)
        for box in frame_boxes:
            people += 1
            found += box_cover(mask, box) >= min_cover
            x0, y0, x1, y1 = (int(v) for v in box)
            inside[y0 : y1 + 1, x0 : x1 + 1] = True
        masked += int(mask.sum())
        outside += int((mask & ~inside).sum())
    return {
        "recall": found / people if people else float("nan"),
        "found": found,
        "people": people,
        "outside": outside / masked if masked else 0.0,
    }


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two bool masks (1 when both are empty)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = int((a | b).sum())
    return float((a & b).sum()) / union if union else 1.0

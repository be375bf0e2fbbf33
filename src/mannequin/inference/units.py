"""What unit ``mannequin predict``'s depth is in, and when it cannot know.

Only a fine-tuned model has learnt metres, and only from its labelled frames: ``model.json``'s ``label_aspects``
(width / height of the frames its labels came with). On frames of another shape (other footage, another camera)
its scale is a guess, and ``predict.json`` says so rather than "metres". A pretrained-only model never knew the
unit. Models from before ``label_aspects`` keep "metres" for a fine-tune.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METRES = "metres"
RELATIVE = "relative (unknown scale)"
UNKNOWN = "unknown scale (metres only on footage like the labelled frames)"
#: how far the frames' aspect ratio may be from the labelled frames' and still count as like them
ASPECT_TOLERANCE = 0.05


def depth_units(meta: Mapping[str, Any], width: int, height: int) -> tuple[str, str | None]:
    """``(units, why)`` of a model's depth on ``width`` x ``height`` frames; ``why`` is None for plain metres."""
    if meta.get("kind") != "finetune":
        return RELATIVE, "a pretrained model: it was never fine-tuned on metric labels"
    aspects = [float(a) for a in meta.get("label_aspects") or []]
    if not aspects:
        return METRES, None
    aspect = width / height
    if min(abs(aspect / a - 1.0) for a in aspects) <= ASPECT_TOLERANCE:
        return METRES, None
    known = ", ".join(f"{a:.2f}" for a in sorted(aspects))
    return UNKNOWN, f"frames {width}x{height} (aspect {aspect:.2f}) are unlike its labelled frames (aspect {known})"


def unit_fields(meta: Mapping[str, Any], width: int, height: int) -> dict[str, str]:
    """``predict.json``'s ``units``, and ``units_note`` saying why when the unit is not plain metres."""
    units, why = depth_units(meta, width, height)
    return {"units": units} if why is None else {"units": units, "units_note": why}

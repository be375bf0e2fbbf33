"""Which weights a fine-tune exports, and how far training moved them from where they started.

A fine-tune with held-out labelled frames exports the weights that score best on them (``val/abs_rel``) among
where it started (the pretrained net with its calibrated offset), its best validated checkpoint and its final
weights: choosing on the held-out labelled frames, never on the test clips. A tie keeps the earlier weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

#: the metric the weights are chosen on: the fine-tune's own (:class:`mannequin.learning.modules.FinetuneModule`)
SELECT_METRIC = "abs_rel"
#: the net's parts whose movement is reported
PARTS = ("encoder", "decoder")


def state_copy(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The net's weights as CPU copies (what a later comparison or restore needs)."""
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}


def weights_moved(start: Mapping[str, torch.Tensor], now: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Relative L2 distance ``|now - start| / |start|`` of each part's floating-point weights (0: unmoved)."""
    moved = {}
    for part in PARTS:
        keys = [k for k in start if k.startswith(part + ".") and start[k].is_floating_point()]
        num = sum(float((now[k].detach().cpu().double() - start[k].double()).pow(2).sum()) for k in keys)
        den = sum(float(start[k].double().pow(2).sum()) for k in keys)
        moved[part] = (num / den) ** 0.5 if den > 0 else 0.0
    return moved


def choose_weights(
    net: torch.nn.Module,
    candidates: list[tuple[int, Mapping[str, torch.Tensor]]],
    score: Callable[[], float],
) -> tuple[int, dict[int, float]]:
    """Load each ``(step, state)`` candidate into ``net`` in turn, ``score()`` it (lower is better), and leave the
    best one loaded; returns its step and every candidate's score. Ties go to the earliest candidate."""
    if not candidates:
        raise ValueError("no weights to choose from")
    scores: dict[int, float] = {}
    best_step, best_score = candidates[0][0], float("inf")
    for step, state in candidates:
        net.load_state_dict(state)
        value = float(score())
        scores[step] = value
        if value < best_score:
            best_step, best_score = step, value
    net.load_state_dict(dict(candidates)[best_step])
    return best_step, scores

"""Helpers of the people tests: a tiny paper-like sample and stand-in predictors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: a tiny paper-like sample (``--people paper``: masks, walking people in the labelled and test clips): 20 clips give
#: two test clips, one with walking people, one with frozen people
PAPER = {"n_clips": 20, "seed": 3, "width": 64, "height": 48, "frames": (4, 5), "people": "paper"}


class ParallaxEcho:
    """An ``rgb+parallax`` stand-in: checks the channels it is given and predicts the truth-free ``exp(parallax)``."""

    inputs = "rgb+parallax"

    def __init__(self) -> None:
        self.meta = {"kind": "finetune", "init": "px", "budget": 2, "inputs": "rgb+parallax"}
        self.seen: list[np.ndarray] = []

    def predict(self, images: np.ndarray, spread: bool = False, parallax: np.ndarray | None = None) -> np.ndarray:
        assert parallax is not None and parallax.shape == (*images.shape[:3], 3) and parallax.dtype == np.float32
        self.seen.append(parallax)
        return np.exp(parallax[..., 0]) * 2.0


class Constant:
    def __init__(self, value: float) -> None:
        self.meta = {"kind": "finetune", "init": "scratch", "budget": 2}
        self.value = value

    def predict(self, images: np.ndarray) -> np.ndarray:
        return np.full(images.shape[:3], self.value, np.float32)


def evaluate_people(data: Path, out: Path, predictors: dict[str, object], parallax_store: Path | None = None) -> dict:
    from mannequin.config.curate import CurateParams
    from mannequin.evaluation.evaluate import evaluate_dirs

    dirs = [out.parent / "models" / "finetune" / name for name in predictors]
    return evaluate_dirs(
        dirs,
        data,
        out,
        alignment={"finetune": "none"},
        min_depth=1e-3,
        max_depth=10.0,
        examples=1,
        loader=lambda d: predictors[d.name],
        parallax_store=parallax_store,
        people_curate=CurateParams.model_validate({"mvs": {"planes": 16}, "masks": {"parallax_planes": 16}}),
    )

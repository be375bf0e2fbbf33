"""Helpers of the people-evaluation tests: a tiny paper-like sample and stand-in predictors.

Imported by name (``from people_helpers import ...``): the tests folders are not packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

#: a tiny paper-like sample: two test clips, one with walking people, one with frozen people
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


@pytest.fixture(scope="session")
def paper_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mannequin.sample.dataset import write_sample_data

    out = tmp_path_factory.mktemp("paper") / "data"
    write_sample_data(out, progress=False, **PAPER)
    return out


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

"""Fixtures of the learning tests (their builders: :mod:`tests.helpers.learning`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers.learning import SPLITS, make_clip, make_curated, poison_clip, write_splits


@pytest.fixture(scope="session")
def learning_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``data/`` (splits, labelled and test clips with sensor depth) and ``curated/`` shards incl. a test clip."""
    root = tmp_path_factory.mktemp("learning")
    data, curated = root / "data", root / "curated"
    write_splits(data, SPLITS)
    rng = np.random.default_rng(1)
    for c in ("l0", "l1", "t0"):
        make_clip(data, c, 6, rng)
    make_curated(curated, ["u0", "u1", "u2", "l0", "l1", "t0"], frames=6)
    poison_clip(data, curated, "t0")
    return {"root": root, "data": data, "curated": curated}

"""The ``parallax`` stage of ``dvc.yaml``: ``mannequin parallax``.

The parallax input (plane sweep over nearby frames, masked, normalised) of every ``labeled`` and ``test`` clip of
``parallax.data``, stored once in ``parallax.out`` (:func:`mannequin.curation.parallax_store.store_parallax`), with
curation's poses, frame size, sweep and masks (``curate``).
"""

from __future__ import annotations

from collections.abc import Callable

from mannequin.clips.splits import read_splits
from mannequin.config import Params
from mannequin.curation.parallax_store import STORED_SPLITS, store_parallax


def clips_to_store(params: Params) -> int:
    """How many clips the stage stores (for a progress bar)."""
    return sum(s in STORED_SPLITS for s in read_splits(params.parallax.data).values())


def run(params: Params, progress: Callable[[str], None] | None = None) -> dict:
    """Store the parallax input of the labelled and test clips; returns the store's index."""
    return store_parallax(params.curate, params.parallax, progress=progress)

"""The masks contract: reading ``masks/`` at the curated size, and one clear line for each bad mask."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mannequin.clips.clip import open_clip
from mannequin.clips.masks import mask_path, random_person_mask, read_masks
from mannequin.config.masks import MaskParams
from mannequin.errors import InputError


@pytest.fixture()
def masked_clip(paper_dataset, tmp_path: Path) -> Path:
    """A copy of a frames/ clip of the paper dataset, with its masks, that a test may break."""
    root, plans = paper_dataset
    plan = next(p for p in plans if p.form == "frames" and p.defect == "none")
    return Path(shutil.copytree(root / "clips" / plan.clip_id, tmp_path / plan.clip_id))


def test_read_masks_full_and_downscaled(masked_clip: Path) -> None:
    clip = open_clip(masked_clip)
    full = read_masks(clip)
    assert full is not None and full.dtype == bool and full.shape == (len(clip), clip.height, clip.width)
    raw = cv2.imread(str(mask_path(masked_clip, 1)), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(full[1], raw > 0)
    small = read_masks(clip, [2, 0], max_width=32)
    w, h = clip.output_size(32)
    assert small.shape == (2, h, w)
    expect = cv2.resize(full[2].astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    assert np.array_equal(small[0], expect)
    shutil.rmtree(masked_clip / "masks")
    assert read_masks(open_clip(masked_clip)) is None


def _error(clip_dir: Path) -> str:
    with pytest.raises(InputError) as err:
        read_masks(open_clip(clip_dir))
    message = str(err.value)
    assert "\n" not in message
    return message


def test_mask_of_the_wrong_size(masked_clip: Path) -> None:
    bad = mask_path(masked_clip, 2)
    cv2.imwrite(str(bad), np.zeros((10, 20), np.uint8))
    message = _error(masked_clip)
    assert message.startswith(str(bad)) and "20x10" in message and "64x48" in message


def test_mask_that_is_not_8_bit(masked_clip: Path) -> None:
    bad = mask_path(masked_clip, 0)
    cv2.imwrite(str(bad), np.full((48, 64), 1000, np.uint16))
    message = _error(masked_clip)
    assert message.startswith(str(bad)) and "not 8-bit" in message and "uint16" in message
    cv2.imwrite(str(bad), np.zeros((48, 64, 3), np.uint8))
    message = _error(masked_clip)
    assert message.startswith(str(bad)) and "3 channels" in message


def test_fewer_masks_than_frames(masked_clip: Path) -> None:
    n = len(open_clip(masked_clip))
    mask_path(masked_clip, n - 1).unlink()
    message = _error(masked_clip)
    assert (
        message.startswith(str(masked_clip / "masks")) and f"{n - 1} mask files" in message and f"{n} frames" in message
    )


def test_mask_source_resolution(tmp_path: Path) -> None:
    assert MaskParams().resolve(True) == "given" and MaskParams().resolve(False) == "motion"
    assert MaskParams(source="none").resolve(True) == "none"
    assert MaskParams(source="motion").resolve(True) == "motion"
    with pytest.raises(InputError, match="no masks/ folder") as err:
        MaskParams(source="given").resolve(False, tmp_path / "clip_x")
    assert str(err.value).startswith(str(tmp_path / "clip_x" / "masks"))
    with pytest.raises(ValueError):
        MaskParams(source="people")


def test_random_person_masks_are_person_sized() -> None:
    a = random_person_mask(np.random.default_rng(5), 120, 160)
    assert np.array_equal(a, random_person_mask(np.random.default_rng(5), 120, 160))
    rows, cols = np.nonzero(a)
    tall, wide = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert 0.3 * 120 <= tall <= 0.85 * 120 and 2.0 <= tall / wide <= 5.0
    two = random_person_mask(np.random.default_rng(6), 120, 160, count=2)
    assert 0.01 < two.mean() < 0.4

"""The parallax store: one atomic .npz per clip, read back as it was written; a bad file is one line naming it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mannequin.curation.parallax import ParallaxInput
from mannequin.curation.parallax_store import parallax_path, read_parallax, write_parallax
from mannequin.errors import InputError


def _inputs(n: int = 3, h: int = 6, w: int = 8, seed: int = 0) -> ParallaxInput:
    rng = np.random.default_rng(seed)
    mask = rng.uniform(size=(n, h, w)) < 0.2
    depth = rng.uniform(1.0, 4.0, (n, h, w)).astype(np.float32)
    depth[mask] = np.nan
    par = np.where(mask, 0.0, np.log(depth) - 0.5).astype(np.float32)
    conf = np.where(mask, 0.0, rng.uniform(0.2, 1.0, (n, h, w))).astype(np.float32)
    frames = np.array([0, 2, 5][:n], np.int64)
    return ParallaxInput(par, conf, mask, np.full(n, 0.5), depth, np.array([1, 0, 0][:n]), frames, "given")


def test_roundtrip(tmp_path: Path) -> None:
    inp = _inputs()
    path = write_parallax(tmp_path, "clip_a", inp)
    assert path == tmp_path / "clip_a.npz" and [p.name for p in tmp_path.iterdir()] == ["clip_a.npz"]
    back = read_parallax(tmp_path, "clip_a")
    assert back is not None and back.mask_source == "given"
    np.testing.assert_array_equal(back.mask, inp.mask)
    np.testing.assert_array_equal(back.frames, inp.frames)
    np.testing.assert_array_equal(back.source, inp.source)
    np.testing.assert_array_equal(back.shift, inp.shift)
    np.testing.assert_array_equal(np.isnan(back.depth), np.isnan(inp.depth))
    np.testing.assert_allclose(back.parallax, inp.parallax, atol=2e-3)  # float16 storage
    np.testing.assert_allclose(back.confidence, inp.confidence, atol=1e-3)
    assert back.parallax.dtype == np.float32 and back.channels_last().shape == (3, 6, 8, 3)
    picked = back.at_frames([5, 0])
    np.testing.assert_array_equal(picked.frames, [5, 0])
    np.testing.assert_array_equal(picked.mask, inp.mask[[2, 0]])
    with pytest.raises(KeyError, match="frame 1"):
        back.at_frames([1])


def test_absent_is_none_and_ids_stay_inside(tmp_path: Path) -> None:
    assert read_parallax(tmp_path, "nothing") is None
    with pytest.raises(InputError, match="not allowed"):
        parallax_path(tmp_path, "../escape")
    with pytest.raises(ValueError, match="frame index"):
        write_parallax(tmp_path, "c", replace(_inputs(), frames=None))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a zip at all", "not a readable parallax archive"),
        (None, "no 'confidence' array"),
        ("shape", "confidence is"),
    ],
)
def test_malformed_is_one_line_naming_the_file(tmp_path: Path, content: object, problem: str) -> None:
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, parallax=np.zeros((1, 2, 2)))
    elif content == "shape":
        inp = _inputs()
        write_parallax(tmp_path, "bad", replace(inp, confidence=inp.confidence[:, :3]))
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    with pytest.raises(InputError) as err:
        read_parallax(tmp_path, "bad")
    assert str(err.value).startswith(str(path)) and problem in str(err.value) and "\n" not in str(err.value)

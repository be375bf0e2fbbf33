"""splits.csv, the clip folder list and sensor-depth PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.depth_png import read_depth_png, read_sensor_depth, sensor_depth_indices, write_depth_png
from mannequin.clips.splits import list_clip_dirs, read_splits
from mannequin.errors import InputError


def test_read_splits(tmp_path: Path) -> None:
    (tmp_path / "splits.csv").write_text("clip_id,split\nb,test\na,unlabeled\n\nc,labeled\n")
    assert read_splits(tmp_path) == {"b": "test", "a": "unlabeled", "c": "labeled"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("id,split\na,test\n", "line 1: the header"),
        ("clip_id,split\na,test\nb,train\n", "line 3: split 'train'"),
        ("clip_id,split\na,test\na,labeled\n", "line 3: clip 'a' is listed twice"),
        ("clip_id,split\n../x,test\n", "line 2: clip id '../x'"),
        ("clip_id,split\na,test,extra\n", "line 2: expected 2 columns"),
    ],
)
def test_bad_splits_name_file_and_line(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "splits.csv").write_text(text)
    with pytest.raises(InputError) as err:
        read_splits(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'splits.csv'}: ") and needle in str(err.value)
    assert "\n" not in str(err.value)


def test_list_clip_dirs_keeps_hostile_names(tmp_path: Path) -> None:
    for name in ["b", "a b", "a"]:
        (tmp_path / "clips" / name).mkdir(parents=True)
    (tmp_path / "clips" / "stray.txt").write_text("")
    assert [p.name for p in list_clip_dirs(tmp_path)] == ["a", "a b", "b"]
    with pytest.raises(InputError, match="clips folder not found"):
        list_clip_dirs(tmp_path / "nowhere")


def test_depth_png_round_trip(tmp_path: Path) -> None:
    depth = np.array([[1.2344, np.nan, 0.0], [65.535, 70.0, 0.0004]], dtype=np.float32)
    write_depth_png(tmp_path / "d.png", depth)
    back = read_depth_png(tmp_path / "d.png")
    assert back.dtype == np.float32
    np.testing.assert_allclose(back[0, 0], 1.234, atol=1e-6)  # rounded to the millimetre
    np.testing.assert_allclose(back[1, 0], 65.535, atol=1e-5)
    assert np.isnan(back[0, 1]) and np.isnan(back[0, 2]) and np.isnan(back[1, 1])  # NaN, 0, out of range
    np.testing.assert_allclose(back[1, 2], 0.001, atol=1e-7)  # a real reading never becomes 0 (= invalid)
    rng = np.random.default_rng(0)
    d = rng.uniform(0.2, 20, (6, 8)).astype(np.float32)
    write_depth_png(tmp_path / "r.png", d)
    assert np.abs(read_depth_png(tmp_path / "r.png") - d).max() <= 0.0005 + 1e-6


def test_sensor_depth_lookup(tmp_path: Path) -> None:
    assert sensor_depth_indices(tmp_path, "clip") == []
    assert read_sensor_depth(tmp_path, "clip", 0) is None
    write_depth_png(tmp_path / "depth" / "clip" / "000003.png", np.full((2, 2), 2.0))
    write_depth_png(tmp_path / "depth" / "clip" / "000010.png", np.full((2, 2), 3.0))
    (tmp_path / "depth" / "clip" / "notes.png").write_bytes(b"")
    assert sensor_depth_indices(tmp_path, "clip") == [3, 10]
    np.testing.assert_allclose(read_sensor_depth(tmp_path, "clip", 10), 3.0)
    assert read_sensor_depth(tmp_path, "clip", 4) is None
    (tmp_path / "depth" / "clip" / "000005.png").write_bytes(b"junk")
    with pytest.raises(InputError, match=r"000005\.png: not a readable PNG"):
        read_sensor_depth(tmp_path, "clip", 5)
    with pytest.raises(InputError) as err:
        read_sensor_depth(tmp_path, "../clip", 3)
    assert err.value.code == "bad_clip_id"

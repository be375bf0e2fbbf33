"""COLMAP text models read into the same cameras as poses.txt."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.colmap import read_colmap_model, write_colmap_model
from mannequin.clips.poses import read_poses, write_poses
from mannequin.errors import InputError


def test_colmap_and_mc_give_identical_cameras(tmp_path: Path, cameras) -> None:
    cams = cameras(5, seed=11, width=64, height=48)
    write_poses(tmp_path / "poses.txt", cams)
    write_colmap_model(tmp_path / "model", [(f"{i:04d}.png", c) for i, c in enumerate(cams)])
    from_mc = read_poses(tmp_path / "poses.txt", 64, 48)
    from_colmap = read_colmap_model(tmp_path / "model")
    assert [n for n, _ in from_colmap] == [f"{i:04d}.png" for i in range(5)]
    for a, (_, b) in zip(from_mc, from_colmap, strict=True):
        assert (b.width, b.height) == (64, 48)
        np.testing.assert_allclose(b.K, a.K, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.R, a.R, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.t, a.t, rtol=0, atol=1e-12)


def _write(model: Path, cameras_txt: str, images_txt: str) -> None:
    model.mkdir(exist_ok=True)
    (model / "cameras.txt").write_text(cameras_txt)
    (model / "images.txt").write_text(images_txt)


def test_known_answers_for_each_camera_model(tmp_path: Path) -> None:
    s = math.sqrt(0.5)
    cameras_txt = (
        "# comment\n"
        "1 SIMPLE_PINHOLE 100 80 90 50 40\n"
        "2 PINHOLE 100 80 90 95 50.5 40.5\n"
        "3 SIMPLE_RADIAL 100 80 90 50 40 0.0\n"
        "4 OPENCV 100 80 90 95 50 40 0 0 0 0\n"
    )
    images_txt = (
        "# IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME\n"
        f"7 {s} 0 0 {s} 1 2 3 2 b.png\n"
        "1.0 2.0 -1\n"
        "3 1 0 0 0 0 0 0 1 a.png\n"
        "\n"
        "9 1 0 0 0 0 0 0 3 c.png\n"
        "\n"
        "10 1 0 0 0 0 0 0 4 d d.png\n"
        "\n"
    )
    _write(tmp_path / "m", cameras_txt, images_txt)
    got = dict(read_colmap_model(tmp_path / "m"))
    assert list(got) == ["a.png", "b.png", "c.png", "d d.png"]
    np.testing.assert_allclose(got["a.png"].K, [[90, 0, 49.5], [0, 90, 39.5], [0, 0, 1]])
    np.testing.assert_allclose(got["b.png"].K, [[90, 0, 50], [0, 95, 40], [0, 0, 1]])
    np.testing.assert_allclose(got["b.png"].R, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)  # 90 deg about z
    np.testing.assert_allclose(got["b.png"].t, [1, 2, 3])
    np.testing.assert_allclose(got["c.png"].K[0, 0], 90)
    np.testing.assert_allclose(got["d d.png"].K[1, 1], 95)


def test_distortion_is_ignored_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path / "m", "1 OPENCV 100 80 90 90 50 40 0.1 0 0 0\n", "1 1 0 0 0 0 0 0 1 a.png\n\n")
    with pytest.warns(UserWarning, match="distortion"):
        ((_, cam),) = read_colmap_model(tmp_path / "m")
    assert cam.dist[0] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("cameras_txt", "images_txt", "needle"),
    [
        ("1 FISHEYE 10 10 5 5 5\n", "", "not supported"),
        ("1 PINHOLE 10 10 5 5\n", "", "needs 4 parameters"),
        ("1 PINHOLE 10 10 5 5 5 x\n", "", "must be numbers"),
        ("1 PINHOLE 10 10 5 5 5 5\n", "1 1 0 0 0 0 0 0 2 a.png\n\n", "camera 2 is not in"),
        ("1 PINHOLE 10 10 5 5 5 5\n", "1 1 0 0 0 0 0 1 a.png\n\n", "got 9 fields"),
        ("1 PINHOLE 10 10 5 5 5 5\n", "1 0 0 0 0 0 0 0 1 a.png\n\n", "zero quaternion"),
    ],
)
def test_malformed_models_name_file_and_line(tmp_path: Path, cameras_txt: str, images_txt: str, needle: str) -> None:
    _write(tmp_path / "m", cameras_txt, images_txt)
    with pytest.raises(InputError) as err:
        read_colmap_model(tmp_path / "m")
    assert needle in str(err.value) and ": line 1: " in str(err.value) and err.value.code == "bad_colmap"

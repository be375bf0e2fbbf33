"""The Middlebury 2014 Motorcycle pair as a two-frame test clip: depth from the ground-truth disparity."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.clip import open_clip
from mannequin.clips.depth_png import read_depth_png
from mannequin.ingest.middlebury import DISPARITY, LEFT, QUARTER_MOTORCYCLE, RIGHT, read_pair, skimage_folder


def test_depth_is_focal_times_baseline_over_disparity_plus_doffs(tmp_path: Path) -> None:
    out = tmp_path / "real"
    result = CliRunner().invoke(app, ["real-data", str(out), "--only", "motorcycle"])
    assert result.exit_code == 0, result.output
    pair = read_pair()
    depth = read_depth_png(out / "depth" / "motorcycle" / "000000.png")
    c = QUARTER_MOTORCYCLE
    y, x = 250, 370
    assert np.isfinite(pair.disparity[y, x])
    assert depth[y, x] == pytest.approx(c.focal * c.baseline_m / (pair.disparity[y, x] + c.doffs), abs=6e-4)
    assert np.isnan(depth[~np.isfinite(pair.disparity)]).all()
    assert np.nanmin(depth) > 2.0 and np.nanmax(depth) < 5.1  # the scene: 2.1 to 5 m from the rig
    # the rig as poses: the right camera one baseline along +x, its principal point doffs further right
    clip = open_clip(out / "clips" / "motorcycle")
    left, right = clip.cameras
    assert np.allclose(left.t, 0) and np.allclose(right.t, [-c.baseline_m, 0, 0])
    assert right.K[0, 2] - left.K[0, 2] == pytest.approx(c.doffs)
    # a left pixel with known disparity lands on its match in the right view through depth and poses
    z = depth[y, x]
    point = z * np.linalg.inv(left.K) @ np.array([x, y, 1.0])
    u = right.K @ (point + right.t)
    assert u[0] / u[2] == pytest.approx(x - pair.disparity[y, x], abs=0.05)


def _copy_pair(folder: Path) -> Path:
    folder.mkdir()
    for name in (LEFT, RIGHT, DISPARITY):
        shutil.copy(skimage_folder() / name, folder / name)
    return folder


def test_a_disparity_file_of_the_wrong_size_is_one_line_exit_2(tmp_path: Path) -> None:
    folder = _copy_pair(tmp_path / "pair")
    np.savez(folder / DISPARITY, np.ones((100, 120), np.float32))
    result = CliRunner().invoke(app, ["real-data", str(tmp_path / "out"), "--middlebury", str(folder), "--only",
                                      "motorcycle"])  # fmt: skip
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannequin: error: ")
    assert f"{DISPARITY}: disparity is 120x100 but the left image is 741x500" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_folder_with_middlebury_calib_txt_uses_it(tmp_path: Path) -> None:
    folder = _copy_pair(tmp_path / "pair")
    (folder / "calib.txt").write_text(
        "cam0=[1000.5 0 300.25; 0 1000.5 250.75; 0 0 1]\ncam1=[1000.5 0 330; 0 1000.5 250.75; 0 0 1]\n"
        "doffs=29.75\nbaseline=200.0\nwidth=741\nheight=500\n"
    )
    c = read_pair(folder).calibration
    assert (c.focal, c.cx, c.cy, c.doffs, c.baseline_m) == (1000.5, 300.25, 250.75, 29.75, 0.2)
    (folder / "calib.txt").write_text("doffs=1\n")
    result = CliRunner().invoke(app, ["real-data", str(tmp_path / "o"), "--middlebury", str(folder)])
    assert result.exit_code == 2 and "calib.txt: expected Middlebury's cam0=[...]" in result.output

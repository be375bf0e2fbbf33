"""`mannequin mvs CLIP_DIR --frame I --out FILE.npz` on a real clip folder, and its bad inputs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.poses import write_poses


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory, scene):
    root = tmp_path_factory.mktemp("clips") / "room"
    (root / "frames").mkdir(parents=True)
    for i, image in enumerate(scene.images):
        cv2.imwrite(str(root / "frames" / f"{i:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    write_poses(root / "poses.txt", scene.cameras, "analytic test room")
    return root


def test_cli_writes_depth_and_confidence(clip_dir, scene, tmp_path):
    out = tmp_path / "sub" / "frame2.npz"
    params = tmp_path / "params.yaml"
    params.write_text("curate:\n  device: cpu\n  mvs:\n    planes: 32\n")
    res = CliRunner().invoke(app, ["mvs", str(clip_dir), "--frame", "2", "--out", str(out), "--params", str(params)])
    assert res.exit_code == 0, res.output
    with np.load(out) as z:
        depth, confidence = z["depth"], z["confidence"]
    h, w = scene.depth.shape[1:]
    assert depth.shape == confidence.shape == (h, w)
    assert depth.dtype == confidence.dtype == np.float32
    assert np.all((confidence >= 0) & (confidence <= 1))
    ok = np.isfinite(depth)
    assert ok.mean() > 0.4
    assert np.mean(np.abs(depth[ok] - scene.depth[2][ok]) / scene.depth[2][ok]) < 0.05
    assert [p.name for p in out.parent.iterdir()] == ["frame2.npz"]  # no temp file left behind


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--frame", "99"], "out of range"),
        (["--frame", "-1"], "out of range"),
        (["--frame", "0", "--device", "tpu"], "unknown device"),
        (["--frame", "0", "--params", "/nonexistent/params.yaml"], "file not found"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(clip_dir, tmp_path, args, needle):
    out = tmp_path / "x.npz"
    res = CliRunner().invoke(app, ["mvs", str(clip_dir), *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.output
    assert not out.exists()


def test_cli_missing_clip_dir(tmp_path):
    res = CliRunner().invoke(app, ["mvs", str(tmp_path / "nope"), "--frame", "0", "--out", str(tmp_path / "x.npz")])
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and "nope" in res.output

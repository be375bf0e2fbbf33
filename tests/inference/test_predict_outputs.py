"""Where ``mannequin predict`` writes (issue 26, items 4, 10 and 11): never into its input or the data folder, never
on a path under a file, a folder replaced as a unit (no earlier run's PNGs left beside the new ones), and a full
disk is one line with the earlier output intact."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.cameras import Camera
from mannequin.clips.png import write_png
from mannequin.clips.poses import write_poses
from mannequin.learning.export import export_model
from mannequin.learning.nets import DepthNet

W, H = 48, 32


def _model(root: Path) -> Path:
    torch.manual_seed(1)
    net = DepthNet(4, 2)
    meta = {"kind": "finetune", "init": "scratch", "budget": 2, "image_size": [W, H], "net": {"width": 4, "depth": 2}}
    return export_model(root / "models" / "m", net, meta, {})


def _clip(data: Path, name: str, frames: int) -> Path:
    clip = data / "clips" / name
    rng = np.random.default_rng(3)
    for i in range(frames):
        write_png(clip / "frames" / f"{i:06d}.png", rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    K = np.array([[W, 0, (W - 1) / 2], [0, W, (H - 1) / 2], [0, 0, 1.0]])
    cams = [Camera(K, np.eye(3), np.array([-0.05 * i, 0, 0]), W, H, i * 100_000) for i in range(frames)]
    write_poses(clip / "poses.txt", cams, "predict output test clip")
    (data / "splits.csv").write_text(
        "clip_id,split\n" + "".join(f"{p.name},test\n" for p in (data / "clips").iterdir())
    )
    return clip


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def _run(*args) -> object:
    return CliRunner().invoke(app, ["predict", *map(str, args)])


def _one_line(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannequin: error: ") and "Traceback" not in res.output, res.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = tmp_path / "data"
    return _model(tmp_path), _clip(data, "room", 6), data


@pytest.mark.parametrize("where", ["clip frames", "clip itself", "inside data", "data itself", "above the clip"])
def test_an_out_inside_the_input_or_the_data_is_refused(setup, tmp_path: Path, where: str) -> None:
    model, clip, data = setup
    out = {"clip frames": clip / "frames", "clip itself": clip, "inside data": data / "predictions",
           "data itself": data, "above the clip": tmp_path}[where]  # fmt: skip
    before = _digests(tmp_path)
    _one_line(_run(clip, "--model", model, "--out", out), str(out))
    assert _digests(tmp_path) == before


def test_a_second_run_replaces_the_folder_as_a_unit(setup, tmp_path: Path) -> None:
    model, clip, data = setup
    short = _clip(data, "short", 3)
    out = tmp_path / "preds"
    assert _run(clip, "--model", model, "--out", out).exit_code == 0
    assert len(list(out.glob("0*.png"))) == 6
    res = _run(short, "--model", model, "--out", out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["000000.png", "000001.png", "000002.png", "predict.json",
                                                     "preview.png"]  # fmt: skip
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".preds")]  # no staging left


def test_a_folder_that_is_not_a_predict_output_is_refused(setup, tmp_path: Path) -> None:
    model, clip, _ = setup
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"not yours")
    _one_line(_run(clip, "--model", model, "--out", mine), str(mine), "not empty")
    assert (mine / "holiday.jpg").read_bytes() == b"not yours"


def test_an_out_under_a_file_names_the_file(setup, tmp_path: Path) -> None:
    model, clip, _ = setup
    (tmp_path / "afile").write_text("x")
    _one_line(_run(clip, "--model", model, "--out", tmp_path / "afile" / "sub"), str(tmp_path / "afile"), "a file")
    _one_line(_run(clip, "--model", model, "--out", tmp_path / "afile"), str(tmp_path / "afile"), "not a directory")


def test_a_full_disk_is_one_line_and_the_earlier_output_stays(setup, tmp_path: Path, monkeypatch) -> None:
    from mannequin.inference import predict_clip

    model, clip, _ = setup
    out = tmp_path / "preds"
    assert _run(clip, "--model", model, "--out", out).exit_code == 0
    before = _digests(out)
    real, written = predict_clip.write_depth_png, []

    def filling(path, depth):
        if len(written) == 3:
            Path(path).write_bytes(b"\x89PNG half")
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        real(path, depth)

    monkeypatch.setattr(predict_clip, "write_depth_png", filling)
    _one_line(_run(clip, "--model", model, "--out", out), str(out), "no space left on device")
    assert _digests(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".preds")]

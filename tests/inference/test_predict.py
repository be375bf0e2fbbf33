"""``mannequin predict``: real exported nets on real clip folders; PNGs read back to the prediction; bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.cameras import Camera
from mannequin.clips.clip import open_clip
from mannequin.clips.depth_png import read_depth_png
from mannequin.clips.masks import write_mask_png
from mannequin.clips.poses import write_poses
from mannequin.curation.segmenter_model import is_installed
from mannequin.learning.export import META_NAME, MODEL_NAME, export_model
from mannequin.learning.nets import DepthNet
from mannequin.learning.predict import DepthPredictor

W, H, N = 48, 32, 4


def _model(root: Path, inputs: str = "rgb", offset: float = 0.7) -> Path:
    torch.manual_seed(1)
    net = DepthNet(4, 2, inputs=inputs)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(0.3)
        net.log_offset.fill_(offset)  # depth around 2 m: well inside the PNG's range
    meta = {"kind": "finetune", "init": "scratch", "budget": 2, "image_size": [W, H], "net": {"width": 4, "depth": 2}}
    return export_model(root / "models" / "finetune" / f"scratch-{inputs.replace('+', '-')}", net, meta, {})


def _clip(root: Path, name: str = "room", poses: bool = True, frames: int = N) -> Path:
    """A clip of textured frames/ PNGs filmed by a camera sliding sideways (poses.txt unless ``poses`` is False)."""
    clip = root / "clips" / name
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 255, (H, W + 4 * frames, 3), dtype=np.uint8)
    for i in range(frames):
        ok, buf = cv2.imencode(".png", np.ascontiguousarray(texture[:, 4 * i : 4 * i + W]))
        assert ok
        (clip / "frames").mkdir(parents=True, exist_ok=True)
        (clip / "frames" / f"{i:06d}.png").write_bytes(buf.tobytes())
    if poses:
        K = np.array([[W, 0, (W - 1) / 2], [0, W, (H - 1) / 2], [0, 0, 1.0]])
        cams = [Camera(K, np.eye(3), np.array([-0.05 * i, 0, 0]), W, H, i * 100_000) for i in range(frames)]
        write_poses(clip / "poses.txt", cams, "predict test clip")
    return clip


def _run(*args: str):
    res = CliRunner().invoke(app, ["predict", *map(str, args)])
    return res


def _one_line_error(res, *needles: str) -> None:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_predict_writes_pngs_that_read_back_to_the_prediction(tmp_path: Path) -> None:
    model, clip = _model(tmp_path), _clip(tmp_path)
    res = _run(clip, "--model", model, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    images, _ = open_clip(clip).read_frames()
    expected = DepthPredictor.load(model).predict(images)
    assert expected.min() > 0.5 and expected.max() < 20  # the known answer is inside the PNG's range
    for i in range(N):
        back = read_depth_png(tmp_path / "out" / f"{i:06d}.png", (W, H))
        np.testing.assert_allclose(back, expected[i], rtol=0, atol=0.0005 + 1e-6)  # millimetre quantisation
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        *(f"{i:06d}.png" for i in range(N)),
        "predict.json",
        "preview.png",
    ]
    preview = cv2.imread(str(tmp_path / "out" / "preview.png"))
    assert preview.shape == (2 * H, N * W, 3)
    info = json.loads((tmp_path / "out" / "predict.json").read_text())
    assert (info["inputs"], info["units"], info["frames"], info["poses"]) == ("rgb", "metres", N, "given")
    assert info["flicker"]["warp"] == "flow"  # an rgb model's depth has no reference in the poses' units
    # a pose-less clip is fine for an rgb model: frames in folder order
    bare = _clip(tmp_path, "bare", poses=False)
    assert _run(bare, "--model", model, "--out", tmp_path / "bare-out").exit_code == 0
    assert (tmp_path / "bare-out" / f"{N - 1:06d}.png").is_file()


def test_rgb_parallax_model_reads_poses_masks_and_parallax(tmp_path: Path) -> None:
    model, clip = _model(tmp_path, "rgb+parallax"), _clip(tmp_path)
    res = _run(clip, "--model", model, "--out", tmp_path / "motion", "--masks", "motion")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "motion" / "predict.json").read_text())["masks"] == "motion"
    res = _run(clip, "--model", model, "--out", tmp_path / "auto")  # no masks/: the segmenter where installed
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "auto" / "predict.json").read_text())
    assert info["masks"] == ("segmenter" if is_installed() else "motion")
    assert info["flicker"]["warp"] == "poses" and info["flicker"]["pairs"] == N - 1
    assert 0 <= info["flicker"]["mean"] < 1
    assert _run(clip, "--model", model, "--out", tmp_path / "none", "--masks", "none").exit_code == 0
    assert json.loads((tmp_path / "none" / "predict.json").read_text())["masks"] == "none"
    person = np.zeros((H, W), bool)
    person[8:28, 20:30] = True
    for i in range(N):
        write_mask_png(clip / "masks" / f"{i:06d}.png", person)
    res = _run(clip, "--model", model, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "out" / "predict.json").read_text())
    assert (info["inputs"], info["poses"], info["masks"]) == ("rgb+parallax", "given", "given")
    depth = np.stack([read_depth_png(tmp_path / "out" / f"{i:06d}.png") for i in range(N)])
    assert np.isfinite(depth).all()


def test_bad_input_is_one_line_naming_the_file(tmp_path: Path) -> None:
    rgb, six = _model(tmp_path), _model(tmp_path, "rgb+parallax")
    bare = _clip(tmp_path, "bare", poses=False, frames=2)
    # an rgb+parallax model on a clip without poses: SfM cannot help (2 frames), and with curate.poses given
    _one_line_error(_run(bare, "--model", six, "--out", tmp_path / "o1"), "bare/poses.txt", "needs the clip's poses")
    given = tmp_path / "given.yaml"
    given.write_text("curate:\n  poses: given\n")
    res = _run(bare, "--model", six, "--out", tmp_path / "o2", "--params", given)
    _one_line_error(res, "bare/poses.txt", "needs the clip's poses")
    # a model folder from an older format, and an unreadable one
    old = tmp_path / "old"
    shutil.copytree(rgb, old)
    meta = json.loads((old / META_NAME).read_text())
    del meta["format_version"]
    (old / META_NAME).write_text(json.dumps(meta))
    clip = _clip(tmp_path)
    _one_line_error(_run(clip, "--model", old, "--out", tmp_path / "o3"), "old/model.json", "older format")
    broken = tmp_path / "broken"
    shutil.copytree(rgb, broken)
    (broken / MODEL_NAME).write_bytes(b"not a state dict")
    _one_line_error(_run(clip, "--model", broken, "--out", tmp_path / "o4"), "broken/model.pt")
    _one_line_error(_run(clip, "--model", tmp_path / "nowhere", "--out", tmp_path / "o5"), "nowhere/model.json")
    # masks: fewer files than frames, the wrong size, not 8-bit
    for i in range(N - 1):
        write_mask_png(clip / "masks" / f"{i:06d}.png", np.zeros((H, W), bool))
    _one_line_error(_run(clip, "--model", rgb, "--out", tmp_path / "o6"), "room/masks", "3 mask files", "4 frames")
    write_mask_png(clip / "masks" / f"{N - 1:06d}.png", np.zeros((H + 2, W), bool))
    _one_line_error(_run(clip, "--model", rgb, "--out", tmp_path / "o7"), "masks/000003.png", f"{W}x{H}")
    _, buf = cv2.imencode(".png", np.zeros((H, W), np.uint16))
    (clip / "masks" / f"{N - 1:06d}.png").write_bytes(buf.tobytes())
    _one_line_error(_run(clip, "--model", six, "--out", tmp_path / "o8"), "masks/000003.png", "not 8-bit")
    assert not any((tmp_path / f"o{k}").exists() for k in range(1, 9))  # nothing written on bad input


@pytest.mark.parametrize("masks", ["crowd"])
def test_bad_mask_option(tmp_path: Path, masks: str) -> None:
    _one_line_error(
        _run(_clip(tmp_path), "--model", _model(tmp_path), "--out", tmp_path / "o", "--masks", masks), "--masks"
    )


def test_segmenter_masks_without_the_model_is_one_line(tmp_path: Path) -> None:
    model, clip = _model(tmp_path, "rgb+parallax"), _clip(tmp_path)
    res = CliRunner().invoke(
        app,
        ["predict", str(clip), "--model", str(model), "--out", str(tmp_path / "o"), "--masks", "segmenter"],
        env={"MANNEQUIN_CACHE": str(tmp_path / "no-cache")},
    )
    _one_line_error(res, "selfie_segmentation.tflite", "not installed", "make install")
    assert not (tmp_path / "o").exists()

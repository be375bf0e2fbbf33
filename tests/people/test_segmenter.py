"""The person segmenter on real pictures: small walking people in vtest.avi, the astronaut and her mirror image,
and the one-line errors of ``mannequin masks``.

The model comes from ``make install`` (the mediapipe 0.10.21 wheel on PyPI); where it is not installed (no
network) the tests that run it skip, saying so. vtest.avi comes from Debian's ``opencv-doc`` (``.ci/run``
installs it).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from mannequin.config.masks import MaskParams, SegmenterParams
from mannequin.curation.segmenter import tile_origins, tile_sides
from mannequin.curation.segmenter_model import (
    MODEL_SHA256,
    WHEEL_MEMBER,
    checked_model,
    extract_model,
    is_installed,
    model_path,
)
from mannequin.errors import InputError
from mannequin.evaluation.mask_scores import box_cover, box_recall

MAIN = "from mannequin.cli import main; main()"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
BOXES = Path(__file__).with_name("vtest_people.json")
#: regions of skimage's astronaut.png (512x512), x0 y0 x1 y1: on her, and behind her
FACE, SUIT = (170, 70, 250, 150), (60, 300, 270, 500)
FLAG, SHUTTLE = (0, 0, 40, 250), (360, 0, 460, 260)

needs_model = pytest.mark.skipif(
    not is_installed(),
    reason=f"person segmenter model not installed at {model_path()}: make install fetches it from PyPI (no network?)",
)
needs_vtest = pytest.mark.skipif(
    not VTEST.is_file(), reason=f"{VTEST} not found: apt-get install opencv-doc (.ci/run installs it)"
)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real console entry point in a new process (what a user runs)."""
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", MAIN, *args], capture_output=True, text=True, timeout=600, env=full)


def _one_line(*args: str, env: dict | None = None) -> str:
    """Run ``mannequin ARGS`` in-process; it must fail with one error line and exit code 2."""
    from typer.testing import CliRunner

    from mannequin.cli import app

    res = CliRunner().invoke(app, list(args), env=env)
    assert res.exit_code == 2, (res.output, res.exception)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannequin: error: "), res.stderr
    return lines[0]


def _frames_clip(root: Path, images: list[np.ndarray], name: str = "clip") -> Path:
    folder = root / "clips" / name / "frames"
    folder.mkdir(parents=True)
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"{i:06d}.png"), np.ascontiguousarray(image[..., ::-1]))
    return folder.parent


def _astronaut() -> np.ndarray:
    from skimage.data import astronaut

    return astronaut()


def _mirrored(box: tuple[int, int, int, int], width: int = 512) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return width - 1 - x1, y0, width - 1 - x0, y1


def test_tiles_form_a_ladder_that_covers_the_frame():
    p = SegmenterParams()
    assert tile_sides(576, 768, p) == [128, 192, 288]  # 432 * 1.5 > 576: the whole frame is the next scale
    assert tile_sides(120, 160, p) == []  # a small frame is segmented whole
    for length, side in [(768, 128), (576, 192), (300, 128), (128, 128)]:
        starts = tile_origins(length, side)
        assert starts[0] == 0 and starts[-1] == length - side
        assert all(b - a <= side // 2 for a, b in itertools.pairwise(starts))


def test_auto_is_given_then_segmenter_where_installed_then_motion():
    auto = MaskParams()
    assert auto.resolve(True, None, True) == "given"
    assert auto.resolve(False, None, True) == "segmenter"
    assert auto.resolve(False, None, False) == "motion"
    assert MaskParams(source="segmenter").resolve(True, None, False) == "segmenter"


def test_box_recall_counts_people_by_the_share_of_their_box_masked():
    mask = np.zeros((100, 100), bool)
    mask[10:50, 10:20] = True  # covers half of the first box
    mask[80:90, 80:90] = True  # outside every box
    boxes = {0: [(10, 10, 29, 49), (60, 10, 79, 49)]}
    assert box_cover(mask, boxes[0][0]) == pytest.approx(0.5)
    out = box_recall({0: mask}, boxes)
    assert (out["found"], out["people"]) == (1, 2)
    assert out["outside"] == pytest.approx(100 / 500)


def test_missing_model_is_one_line_that_says_how_to_install(tmp_path):
    clip = _frames_clip(tmp_path, [np.zeros((64, 64, 3), np.uint8)] * 2)
    line = _one_line("masks", str(clip), env={"MANNEQUIN_CACHE": str(tmp_path / "empty")})
    assert "not installed" in line and "make install" in line
    assert not (clip / "masks").exists()


def test_corrupt_model_is_one_line(tmp_path):
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    (cache / "models" / "selfie_segmentation.tflite").write_bytes(b"not a model")
    clip = _frames_clip(tmp_path, [np.zeros((64, 64, 3), np.uint8)] * 2)
    line = _one_line("masks", str(clip), env={"MANNEQUIN_CACHE": str(cache)})
    assert "corrupt" in line and "selfie_segmentation.tflite" in line
    with pytest.raises(InputError, match="corrupt"):
        checked_model(cache / "models" / "selfie_segmentation.tflite")


def test_a_wheel_with_another_model_inside_is_refused(tmp_path):
    wheel = tmp_path / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(WHEEL_MEMBER, b"something else")
    with pytest.raises(InputError, match="wrong sha256"):
        extract_model(wheel, tmp_path / "model.tflite")
    assert not (tmp_path / "model.tflite").exists()


def test_unknown_source_is_one_line(tmp_path):
    clip = _frames_clip(tmp_path, [np.zeros((64, 64, 3), np.uint8)] * 2)
    assert "--source must be" in _one_line("masks", str(clip), "--source", "people")


@needs_model
def test_installed_model_is_the_checked_one():
    from mannequin.curation.segmenter_model import sha256_of

    assert sha256_of(checked_model()) == MODEL_SHA256


@needs_model
def test_a_frame_of_another_size_is_one_line(tmp_path):
    image = _astronaut()
    clip = _frames_clip(tmp_path, [image, image[:500, :500]])
    line = _one_line("masks", str(clip))
    assert "000001.png" in line and "500x500" in line
    assert not (clip / "masks").exists()


@needs_model
def test_a_folder_of_other_files_is_not_replaced(tmp_path):
    clip = _frames_clip(tmp_path, [np.zeros((64, 64, 3), np.uint8)] * 2)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert "notes.txt" in _one_line("masks", str(clip), "--out", str(other))
    assert (other / "notes.txt").read_text() == "keep me"


@needs_model
def test_astronaut_and_her_mirror_image_masked_on_her_not_behind_her(tmp_path):
    image = _astronaut()
    clip = _frames_clip(tmp_path, [image, image[:, ::-1]], "astronaut")
    res = _cli("masks", str(clip), "--source", "segmenter")
    assert res.returncode == 0, res.stderr
    assert "2 masks from the segmenter" in res.stdout and res.stderr == ""
    masks = [cv2.imread(str(clip / "masks" / f"{i:06d}.png"), cv2.IMREAD_UNCHANGED) > 0 for i in range(2)]
    for mask, place in zip(masks, [lambda b: b, _mirrored]):
        assert mask.shape == (512, 512)
        assert box_cover(mask, place(FACE)) > 0.95
        assert box_cover(mask, place(SUIT)) > 0.95
        assert box_cover(mask, place(FLAG)) < 0.1
        assert box_cover(mask, place(SHUTTLE)) < 0.15  # the mirror image: the tank, upright and person-sized (0.11)
    flipped = masks[1][:, ::-1]
    assert (masks[0] & flipped).sum() / (masks[0] | flipped).sum() > 0.9


@needs_model
@needs_vtest
def test_walking_people_of_vtest_are_masked():
    """At least 80% of the people boxed by hand in 5 frames of vtest.avi (many about 60 px tall) are masked."""
    from mannequin.clips.video import iter_video_frames
    from mannequin.curation.segmenter import PersonSegmenter, dilated

    boxes = {int(f): b for f, b in json.loads(BOXES.read_text())["frames"].items()}
    segmenter = PersonSegmenter()
    people = {i: segmenter.people(image) for i, image in iter_video_frames(VTEST, sorted(boxes))}
    out = box_recall({i: dilated(m, segmenter.params.dilate) for i, m in people.items()}, boxes)
    assert out["people"] == 26
    assert out["recall"] >= 0.8, out
    tight = box_recall(people, boxes)  # before dilation, which grows every person past their tight box
    assert tight["outside"] < 0.2, tight  # most of what is taken for people is a boxed person


@needs_model
def test_curation_source_segmenter_unites_the_people_with_the_motion_evidence(tmp_path):
    """``clip_masks`` with ``source: segmenter``: the segmenter runs on the frames read at full size, its masks are
    scaled to curation's size, and the motion evidence of the MVS depth is added to them."""
    from mannequin.clips.cameras import Camera
    from mannequin.clips.clip import open_clip
    from mannequin.clips.poses import write_poses
    from mannequin.curation.parallax import clip_masks

    image = _astronaut()
    folder = _frames_clip(tmp_path, [image, image[:, ::-1]], "astronaut")
    K = np.array([[400.0, 0, 255.5], [0, 400.0, 255.5], [0, 0, 1]])
    cams = [Camera(K, np.eye(3), np.array([-0.1 * i, 0, 0]), 512, 512, i * 100_000) for i in range(2)]
    write_poses(folder / "poses.txt", cams, "astronaut")
    clip = open_clip(folder)
    images, cameras = clip.read_frames(max_width=128)
    params = MaskParams(source="segmenter")
    people, source = clip_masks(clip, params, images, cameras, None, max_width=128)
    assert source == "segmenter" and people.shape == (2, 128, 128)
    assert box_cover(people[0], tuple(v // 4 for v in FACE)) > 0.9  # found at 512 px, kept at 128
    assert box_cover(people[0], tuple(v // 4 for v in SHUTTLE)) < 0.05
    # MVS depth that frame 1 sees through where frame 0 has a near surface: motion evidence on top of the people
    depth = np.full(images.shape[:3], 10.0, np.float32)
    depth[0, 8:40, 90:120] = 2.0
    both, _ = clip_masks(clip, params, images, cameras, depth, max_width=128)
    assert (both >= people).all()
    assert both.sum() > people.sum()


def test_motion_source_writes_one_mask_per_pose_line(paper_dataset, tmp_path):
    """``mannequin masks --source motion`` (no model needed): curation's motion evidence for every pose line of a
    moving-people clip, at the frames' size, into ``--out``."""
    from typer.testing import CliRunner

    from mannequin.cli import app
    from mannequin.clips.clip import open_clip

    root, plans = paper_dataset
    plan = next(p for p in plans if p.people == "moving")
    clip = open_clip(root / "clips" / plan.clip_id)
    res = CliRunner().invoke(app, ["masks", str(clip.path), "--source", "motion", "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "masks from motion evidence" in res.stdout
    files = sorted((tmp_path / "m").glob("*.png"))
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(len(clip))]
    assert all(cv2.imread(str(f), cv2.IMREAD_UNCHANGED).shape == (clip.height, clip.width) for f in files)


def test_a_model_without_its_runtime_is_not_installed(tmp_path, monkeypatch):
    """The model file alone is no segmenter: `auto` falls back to motion, and `segmenter` says what is missing."""
    from mannequin.curation.segmenter_model import is_installed

    model = tmp_path / "selfie_segmentation.tflite"
    model.write_bytes(b"any bytes")
    assert is_installed(model)  # the runtime is installed in this venv
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import ai_edge_litert now fails, as without it
    assert not is_installed(model)
    with pytest.raises(InputError, match=r"runtime \(ai-edge-litert\) is not installed: run `make install`"):
        checked_model(model)

"""Every stage that needs a clip's poses opens it through the one resolver: inspect, the test set, labelled frames."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from mannequin.clips.depth_png import write_depth_png
from mannequin.config.curate import CurateParams
from mannequin.curation.sfm_poses import open_images
from mannequin.curation.sfm_store import POSES_DIR, PoseSource, lines_of_frames
from mannequin.errors import InputError

MAIN = "from mannequin.cli import main; main()"


@pytest.fixture(scope="module")
def poseless_data(rendered_clip, tmp_path_factory):
    """A data folder whose one test clip has sensor depth for frames 1 and 5 and no poses.txt."""
    root, clip_dir, clip_id = rendered_clip
    data = tmp_path_factory.mktemp("poseless-data")
    shutil.copytree(clip_dir, data / "clips" / clip_id)
    with np.load(root / "truth" / clip_id / "depth.npz") as z:
        depth = z["depth"]
    for i in (1, 5):
        write_depth_png(data / "depth" / clip_id / f"{i:06d}.png", depth[i])
    (data / "splits.csv").write_text(f"clip_id,split\n{clip_id},test\n")
    return data, clip_id, depth


def test_pose_source_of_the_curate_block():
    curate = CurateParams(poses="sfm")
    source = PoseSource.of(curate, "curated")
    assert source.mode == "sfm" and source.sfm == curate.sfm and str(source.store) == f"curated/{POSES_DIR}"
    assert PoseSource.of(curate).store is None and PoseSource().mode == "auto"


def test_a_test_clip_without_poses_loads_through_the_resolver(poseless_data, tmp_path):
    from mannequin.evaluation.testset import load_held_out_clip

    data, clip_id, depth = poseless_data
    store = tmp_path / POSES_DIR
    held = load_held_out_clip(data, clip_id, PoseSource(store=store))
    assert held.frame_indices == [1, 5]
    frames = dict(open_images(data / "clips" / clip_id).iter_frames([1, 5], 10_000))
    np.testing.assert_array_equal(held.images[0], frames[1])  # the frame the depth PNG names, not a pose line
    np.testing.assert_array_equal(held.images[1], frames[5])
    np.testing.assert_allclose(held.depth[1], depth[5], atol=1e-3)
    assert (store / clip_id).is_dir()  # SfM went through the store
    assert not (data / "clips" / clip_id / "poses.txt").exists()


def test_labelled_frames_without_poses_load_through_the_resolver(poseless_data):
    from mannequin.learning.data import load_labelled

    data, clip_id, depth = poseless_data
    images, depths, clips = load_labelled(data, [(clip_id, 5)], (depth.shape[2], depth.shape[1]))
    frames = dict(open_images(data / "clips" / clip_id).iter_frames([5], 10_000))
    np.testing.assert_array_equal(images[0], frames[5])
    np.testing.assert_allclose(depths[0], depth[5], atol=1e-3)
    assert clips == [clip_id]


def test_a_frame_without_an_sfm_pose_is_one_line(poseless_data):
    data, clip_id, _ = poseless_data
    resolved = PoseSource().resolve(data / "clips" / clip_id)
    assert resolved.source == "sfm"
    assert lines_of_frames(resolved.clip, [3, 0], "sfm") == [3, 0]  # every frame registered: lines are frames
    assert lines_of_frames(resolved.clip, [7], "given") == [7]
    with pytest.raises(InputError) as info:
        lines_of_frames(resolved.clip, [99], "sfm")
    assert info.value.code == "no_poses" and "frame 99 has no SfM pose" in str(info.value)


def test_inspect_reads_poses_from_the_resolver(poseless_data, tmp_path):
    data, clip_id, _ = poseless_data
    proc = subprocess.run(
        [sys.executable, "-c", MAIN, "inspect", str(data / "clips" / clip_id)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("poses from"))
    assert "structure from motion:" in line and "frames registered" in line


def test_curation_always_writes_its_poses_folder(tmp_path):
    from mannequin.curation.curate import write_outputs

    write_outputs(tmp_path / "curated", [], CurateParams(), run_gates=False)
    assert (tmp_path / "curated" / POSES_DIR).is_dir()  # a DVC output of the stage, even with no SfM clip

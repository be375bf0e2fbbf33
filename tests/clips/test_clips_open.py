"""open_clip: pairing pose lines with frames (nearest time / name order), reading, resizing, hashing, bad clips."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.clip import open_clip
from mannequin.clips.ids import validate_clip_id
from mannequin.clips.poses import read_poses, write_poses
from mannequin.errors import InputError


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return float(np.abs(a.astype(int) - b.astype(int)).mean()) < 3.0


def test_video_clip_pairs_each_pose_with_nearest_frame(make_clip, frames) -> None:
    clip_dir = make_clip(n_frames=9, pose_frames=[0, 2, 4, 6, 8])
    clip = open_clip(clip_dir)
    assert (clip.clip_id, clip.source, clip.width, clip.height, len(clip)) == ("clip_a", "video", 32, 24, 5)
    assert clip.fps == pytest.approx(10.0)
    assert clip.source_indices.tolist() == [0, 2, 4, 6, 8]
    images, cams = clip.read_frames()
    truth = frames(9)
    assert images.shape == (5, 24, 32, 3)
    for k, f in enumerate([0, 2, 4, 6, 8]):
        assert _close(images[k], truth[f])
    assert cams == clip.cameras
    picked, picked_cams = clip.read_frames([4, 1, 4])  # any order, repeats allowed
    assert np.array_equal(picked[0], images[4]) and np.array_equal(picked[1], images[1])
    assert np.array_equal(picked[2], images[4]) and picked_cams[0] is clip.cameras[4]
    with pytest.raises(IndexError):
        clip.read_frames([5])
    np.testing.assert_array_equal(clip.cameras[3].t, read_poses(clip_dir / "poses.txt", 32, 24)[3].t)


def test_pose_times_between_frames_snap_to_the_nearest(make_clip, frames) -> None:
    clip_dir = make_clip(n_frames=6)
    cams = read_poses(clip_dir / "poses.txt", 32, 24)
    shifted = [type(c)(c.K, c.R, c.t, 32, 24, ts) for c, ts in zip(cams[:3], [-40_000, 160_000, 540_000], strict=True)]
    write_poses(clip_dir / "poses.txt", shifted)
    clip = open_clip(clip_dir)
    assert clip.source_indices.tolist() == [0, 2, 5]
    (i, image), *_ = list(clip.iter_frames([2]))
    assert i == 2 and _close(image, frames(6)[5])


@pytest.mark.parametrize(
    ("times", "needle"),
    [([0, 100_000, 790_000], "outside video.mp4"), ([0, 100_000, 120_000], "both fall on frame 1")],
    ids=["beyond-end", "same-frame"],
)
def test_poses_that_do_not_fit_the_video(make_clip, times, needle) -> None:
    clip_dir = make_clip(n_frames=6)
    cams = read_poses(clip_dir / "poses.txt", 32, 24)[:3]
    write_poses(clip_dir / "poses.txt", [type(c)(c.K, c.R, c.t, 32, 24, ts) for c, ts in zip(cams, times, strict=True)])
    with pytest.raises(InputError) as err:
        open_clip(clip_dir)
    assert err.value.code == "pose_frame_mismatch" and needle in str(err.value)
    assert str(err.value).startswith(str(clip_dir / "poses.txt"))


def test_frames_clip_reads_in_name_order_and_resizes(make_clip, frames) -> None:
    clip_dir = make_clip(n_frames=4, source="frames")
    clip = open_clip(clip_dir)
    assert (clip.source, len(clip), clip.fps) == ("frames", 4, None)
    images, cams = clip.read_frames([3, 0], max_width=16)
    assert images.shape == (2, 12, 16, 3)
    truth = frames(4)
    block_mean = truth[3].astype(float).reshape(12, 2, 16, 2, 3).mean(axis=(1, 3))
    assert np.abs(images[0] - block_mean).max() <= 1.0  # INTER_AREA at exactly 1/2 averages 2x2 blocks
    assert (cams[0].width, cams[0].height) == (16, 12)
    np.testing.assert_allclose(cams[0].K[0, 0], clip.cameras[3].K[0, 0] / 2)
    np.testing.assert_allclose(cams[0].K[0, 2], (clip.cameras[3].K[0, 2] + 0.5) / 2 - 0.5)
    full, _ = clip.read_frames()
    assert all(np.array_equal(full[i], truth[i]) for i in range(4))  # PNG is lossless


def test_content_hash_tracks_poses_and_images(make_clip) -> None:
    a = open_clip(make_clip("a", n_frames=3, source="frames"))
    b = open_clip(make_clip("b", n_frames=3, source="frames"))
    assert a.content_hash() == b.content_hash() and len(a.content_hash()) == 64
    frame = next(iter(sorted((b.path / "frames").iterdir())))
    frame.rename(frame.with_name("zz" + frame.name))
    assert open_clip(b.path).content_hash() != a.content_hash()
    v = open_clip(make_clip("v", n_frames=3))
    before = v.content_hash()
    (v.path / "poses.txt").write_text((v.path / "poses.txt").read_text().replace("test clip", "other note"))
    assert open_clip(v.path).content_hash() != before


def test_frame_count_mismatch(make_clip) -> None:
    clip_dir = make_clip(n_frames=4, source="frames")
    (clip_dir / "frames" / "0003.png").unlink()
    with pytest.raises(InputError) as err:
        open_clip(clip_dir)
    assert err.value.code == "pose_frame_mismatch" and "4 pose lines but 3 images" in str(err.value)


def test_empty_and_unreadable_frames(make_clip) -> None:
    clip_dir = make_clip(n_frames=2, source="frames")
    (clip_dir / "frames" / "0001.png").write_bytes(b"not a png")
    clip = open_clip(clip_dir)
    with pytest.raises(InputError) as err:
        clip.read_frames()
    assert err.value.code == "bad_frames" and str(err.value).startswith(str(clip_dir / "frames" / "0001.png"))
    shutil.rmtree(clip_dir / "frames")
    (clip_dir / "frames").mkdir()
    with pytest.raises(InputError) as err:
        open_clip(clip_dir)
    assert err.value.code == "empty_frames"


def test_broken_video_clip(make_clip) -> None:
    clip_dir = make_clip(n_frames=4)
    data = (clip_dir / "video.mp4").read_bytes()
    (clip_dir / "video.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        open_clip(clip_dir)
    assert err.value.code == "bad_video" and "\n" not in str(err.value)


def test_missing_parts(make_clip, tmp_path: Path) -> None:
    clip_dir = make_clip(n_frames=2)
    (clip_dir / "video.mp4").unlink()
    with pytest.raises(InputError, match=r"neither video\.mp4 nor"):
        open_clip(clip_dir)
    (clip_dir / "poses.txt").unlink()
    with pytest.raises(InputError, match=r"poses\.txt: file not found"):
        open_clip(clip_dir)
    with pytest.raises(InputError, match="clip folder not found"):
        open_clip(tmp_path / "nowhere")


@pytest.mark.parametrize("bad", ["a b", "..", ".", "x/y", "", "é", "a" * 129, "../x", ".hidden", "..."])
def test_bad_clip_ids(bad: str) -> None:
    with pytest.raises(InputError) as err:
        validate_clip_id(bad, path=f"data/clips/{bad}")
    assert err.value.code == "bad_clip_id" and "\n" not in str(err.value)


def test_good_clip_ids_and_hostile_folder(tmp_path: Path) -> None:
    for good in ["a", "A-b_c.1", "a" * 128, "a..", "_.x", "-"]:
        assert validate_clip_id(good) == good
    hostile = tmp_path / "a b"
    hostile.mkdir()
    with pytest.raises(InputError) as err:
        open_clip(hostile)
    assert err.value.code == "bad_clip_id" and str(err.value).startswith(str(hostile))

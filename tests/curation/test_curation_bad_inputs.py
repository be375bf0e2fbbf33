"""One bad clip is a rejected row with a clear reason; the other clips' rows and shards are exactly a clean run's."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mannequin.curation.curate import curate_dataset
from mannequin.curation.table import read_clip_table
from tests.helpers.curation import FRAMES, HEIGHT, WIDTH, copy_data, look_at_cameras, write_plain_clip, write_splits

GOOD = ("good_a", "good_b")


def add_bad_clips(data: Path) -> dict[str, str]:
    """Every failure the clip readers raise, plus textureless walls and a 2-frame clip; returns id -> expected code."""
    good = data / "clips" / "good_a"
    expected: dict[str, str] = {}

    def clone(name: str) -> Path:
        shutil.copytree(good, data / "clips" / name)
        return data / "clips" / name

    d = clone("truncated")  # corrupt video
    video = (d / "video.mp4").read_bytes()
    (d / "video.mp4").write_bytes(video[: len(video) // 3])
    expected["truncated"] = "bad_video"

    d = clone("garbage_poses")
    (d / "poses.txt").write_text("note\n1 2 3\n")
    expected["garbage_poses"] = "bad_poses"

    d = clone("no_poses")  # curated with curate.poses: given (under auto it would get SfM poses)
    (d / "poses.txt").unlink()
    expected["no_poses"] = "missing_poses"

    d = clone("no_images")
    (d / "video.mp4").unlink()
    expected["no_images"] = "missing_images"

    d = clone("both_forms")
    (d / "frames").mkdir()
    expected["both_forms"] = "ambiguous_images"

    d = clone("late_poses")  # pose timestamps far beyond the video's end
    lines = (d / "poses.txt").read_text().splitlines()
    shifted = [lines[0]] + [
        " ".join([str(int(float(ln.split()[0])) + 60_000_000), *ln.split()[1:]]) for ln in lines[1:]
    ]
    (d / "poses.txt").write_text("\n".join(shifted) + "\n")
    expected["late_poses"] = "pose_frame_mismatch"

    d = clone("frames_count")  # frames/ with fewer images than pose lines
    (d / "video.mp4").unlink()
    (d / "frames").mkdir()
    for i in range(FRAMES - 2):
        cv2.imwrite(str(d / "frames" / f"{i:06d}.png"), np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    expected["frames_count"] = "pose_frame_mismatch"

    d = clone("unreadable_frame")
    (d / "video.mp4").unlink()
    (d / "frames").mkdir()
    for i in range(FRAMES):
        (d / "frames" / f"{i:06d}.png").write_bytes(b"not a png at all")
    expected["unreadable_frame"] = "bad_frames"

    d = clone("empty_frames")
    (d / "video.mp4").unlink()
    (d / "frames").mkdir()
    expected["empty_frames"] = "empty_frames"

    clone("bad id!")
    expected["bad id!"] = "bad_clip_id"

    clone("not_in_splits")
    expected["not_in_splits"] = "missing_split"

    rng = np.random.default_rng(0)
    walls = np.full((FRAMES, HEIGHT, WIDTH, 3), 128, np.uint8) + rng.integers(
        0, 2, (FRAMES, HEIGHT, WIDTH, 1), np.uint8
    )
    write_plain_clip(data, "blank_walls", walls, look_at_cameras(FRAMES))
    expected["blank_walls"] = "low_coverage"

    two = data / "clips" / "two_frames"
    clone_src = good
    shutil.copytree(clone_src, two)
    lines = (two / "poses.txt").read_text().splitlines()
    (two / "poses.txt").write_text("\n".join(lines[:3]) + "\n")
    expected["two_frames"] = "too_few_frames"
    return expected


@pytest.mark.slow
def test_bad_clips_are_rows_and_do_not_touch_the_others(clean_data, tmp_path, tiny_params):
    clean = copy_data(clean_data, tmp_path / "clean")
    clean_out = tmp_path / "clean_out"
    # curate.poses: given for both runs (the shard keys hold the params): every clip with poses.txt reads it, as
    # under auto, and the pose-less clip is missing_poses instead of getting SfM poses
    given = tiny_params.model_copy(update={"poses": "given"})
    curate_dataset(clean, clean_out, given, run_gates=False)

    dirty = copy_data(clean_data, tmp_path / "dirty")
    expected = add_bad_clips(dirty)
    splits = {"good_a": "unlabeled", "good_b": "labeled", "held_t": "test"}
    splits.update({k: "unlabeled" for k in expected if k not in ("not_in_splits", "bad id!")})
    write_splits(dirty, splits)
    dirty_out = tmp_path / "dirty_out"
    outcome = curate_dataset(dirty, dirty_out, given, run_gates=False)

    table = read_clip_table(dirty_out / "clips.csv").set_index("clip_id")
    assert sorted(table.index) == sorted([*GOOD, "held_t", *expected])
    for clip_id, code in expected.items():
        row = table.loc[clip_id]
        assert not row["accepted"], clip_id
        assert row["reason"].split(":", 1)[0] == code, (clip_id, row["reason"])
        assert len(row["reason"].split(":", 1)[1].strip()) > 10, row["reason"]  # a human sentence follows the code
        assert str(tmp_path) not in row["reason"]  # paths are relative: the table does not depend on where data is
    assert table.loc["held_t", "reason"].startswith("held_out_test:")
    assert outcome.summary["by_reason"]["low_coverage"] == 1

    clean_lines = (clean_out / "clips.csv").read_text().splitlines()
    dirty_lines = {ln.split(",", 1)[0]: ln for ln in (dirty_out / "clips.csv").read_text().splitlines()}
    for line in clean_lines:
        assert dirty_lines[line.split(",", 1)[0]] == line  # header and every clean clip's row, byte for byte
    clean_shards = sorted(p.name for p in (clean_out / "shards").iterdir())
    assert clean_shards == sorted(p.name for p in (dirty_out / "shards").iterdir()) == list(GOOD)
    for clip_id in GOOD:
        for f in sorted((clean_out / "shards" / clip_id).iterdir()):
            assert f.read_bytes() == (dirty_out / "shards" / clip_id / f.name).read_bytes(), f

"""``mannequin inspect``: a summary for a good clip; one stderr line and exit code 2 for each kind of bad clip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mannequin.cli import app

MAIN = "from mannequin.cli import main; main()"


def _break_truncated_video(clip: Path) -> None:
    data = (clip / "video.mp4").read_bytes()
    (clip / "video.mp4").write_bytes(data[: len(data) // 2])


def _break_garbage_video(clip: Path) -> None:
    (clip / "video.mp4").write_bytes(b"\x00garbage" * 300)


def _break_poses_nan(clip: Path) -> None:
    lines = (clip / "poses.txt").read_text().splitlines()
    parts = lines[2].split()
    parts[9] = "nan"
    lines[2] = " ".join(parts)
    (clip / "poses.txt").write_text("\n".join(lines) + "\n")


def _break_poses_count(clip: Path) -> None:
    lines = (clip / "poses.txt").read_text().splitlines()
    (clip / "poses.txt").write_text("\n".join(lines[:-1]) + "\n")


def _break_empty_frames(clip: Path) -> None:
    for f in (clip / "frames").iterdir():
        f.unlink()


@pytest.mark.parametrize(
    ("source", "damage", "needle"),
    [
        ("video", _break_truncated_video, "video.mp4: corrupt, truncated or unreadable video"),
        ("video", _break_garbage_video, "video.mp4: corrupt, truncated or unreadable video"),
        ("video", _break_poses_nan, "poses.txt: line 3: non-finite"),
        ("frames", _break_poses_count, "poses.txt: 2 pose lines but 3 images"),
        ("frames", _break_empty_frames, "frames: no image files"),
    ],
    ids=["truncated", "garbage", "nan-pose", "count-mismatch", "empty-frames"],
)
def test_bad_clips_exit_2_with_one_line(make_clip, source, damage, needle) -> None:
    clip = make_clip(n_frames=3, source=source)
    damage(clip)
    result = CliRunner().invoke(app, ["inspect", str(clip)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannequin: error: ") and needle in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_inspect_summary(make_clip) -> None:
    clip = make_clip(n_frames=6, pose_frames=[0, 2, 4])
    result = CliRunner().invoke(app, ["inspect", str(clip)])
    assert result.exit_code == 0, result.output
    out = dict(line.split(None, 1) if " " in line else (line, "") for line in result.stdout.splitlines())
    assert out["clip"].strip() == "clip_a" and out["source"].strip() == "video"
    assert "32 x 24" in out["size"] and "6 in video.mp4, 3 paired" in out["frames"]
    assert out["fps"].strip() == "10.000" and out["duration"].strip() == "0.600 s"
    assert "deg" in result.stdout and "pose units" in result.stdout


def test_real_process_hostile_clip_id(tmp_path: Path, make_clip) -> None:
    """The installed entry point, in a real process: exit 2, one stderr line, no traceback."""
    clip = make_clip("a b", n_frames=2)
    proc = subprocess.run([sys.executable, "-c", MAIN, "inspect", str(clip)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "clip id 'a b' is not allowed" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""

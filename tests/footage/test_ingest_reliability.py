"""``mannequin ingest`` after a kill, with colliding file names, odd paths and truncated videos (issue 26, items 2,
3, 12 and 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mannequin.clips.frames import list_frame_files
from mannequin.clips.splits import read_splits
from tests.helpers.footage import shot_video

MAIN = "from mannequin.cli import main; main()"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MAIN, *args], capture_output=True, text=True, timeout=600)


def _digests(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_killed_ingest_leaves_nothing_the_next_one_keeps(tmp_path: Path) -> None:
    """Item 2: kill ingest while a clip folder is half written; the next ingest removes the hidden leftover."""
    video = tmp_path / "long.mp4"
    shot_video(video, [60] * 8, size=(320, 192))
    out = tmp_path / "data"
    args = [sys.executable, "-c", MAIN, "ingest", str(video), "--out", str(out), "--no-progress", "--max-frames",
            "48", "--fps", "25", "--max-width", "320"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    partial: list[Path] = []
    while time.monotonic() < deadline and not partial and proc.poll() is None:
        clips = out / "clips"
        partial = [p for p in clips.iterdir() if p.name.startswith(".")] if clips.is_dir() else []
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial, "ingest finished before a clip folder was caught half written"
    leftovers = [p for p in (out / "clips").iterdir() if p.name.startswith(".")]
    assert leftovers  # what the kill left behind
    again = _cli("ingest", str(video), "--out", str(out), "--no-progress", "--max-frames", "48", "--fps", "25",
                 "--max-width", "320")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert not [p for p in (out / "clips").iterdir() if p.name.startswith(".")]
    assert f"removed {len(leftovers)} partial clip folder" in again.stderr, again.stderr
    assert sorted(read_splits(out)) == sorted(p.name for p in (out / "clips").iterdir())


def test_a_second_video_of_the_same_name_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    """Item 3: street.mp4 from another folder must not replace the first street.mp4's clips."""
    first, second = tmp_path / "a" / "street.mp4", tmp_path / "b" / "street.mp4"
    first.parent.mkdir()
    second.parent.mkdir()
    shot_video(first, [24])
    shot_video(second, [30, 30], size=(128, 96))
    out = tmp_path / "data"
    assert _cli("ingest", str(first), "--out", str(out), "--no-progress").returncode == 0
    before = _digests(out)
    proc = _cli("ingest", str(second), "--out", str(out), "--no-progress")
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and str(second) in line and "street-s000" in line and "another video" in line, line
    assert _digests(out) == before
    # the same video again is a re-ingest: its clips are rewritten in place
    assert _cli("ingest", str(first), "--out", str(out), "--no-progress").returncode == 0
    assert read_splits(out) == {"street-s000": "unlabeled"}


def test_clip_folders_not_written_by_ingest_are_not_replaced(tmp_path: Path) -> None:
    video = tmp_path / "walk.mp4"
    shot_video(video, [24])
    out = tmp_path / "data"
    mine = out / "clips" / "walk-s000"
    (mine / "frames").mkdir(parents=True)
    (mine / "frames" / "000000.png").write_bytes(b"a clip I made by hand")
    before = _digests(out)
    proc = _cli("ingest", str(video), "--out", str(out), "--no-progress")
    assert proc.returncode == 2 and "walk-s000" in proc.stderr and "not written by ingest" in proc.stderr
    assert _digests(out) == before


@pytest.mark.parametrize("kind", ["directory", "loop", "dangling", "fifo"])
def test_what_is_not_a_video_file_is_named(tmp_path: Path, kind: str) -> None:
    """Item 12: a directory, a symlink loop, a dangling link or a pipe is said to be one, not 'file not found'."""
    path = tmp_path / "input.mp4"
    if kind == "directory":
        path.mkdir()
        expected = "is a directory, not a file"
    elif kind == "loop":
        path.symlink_to(tmp_path / "input.mp4")
        expected = "is a symbolic link loop"
    elif kind == "dangling":
        path.symlink_to(tmp_path / "gone.mp4")
        expected = f"is a symbolic link to {tmp_path / 'gone.mp4'}, which does not exist"
    else:
        os.mkfifo(path)
        expected = "is not a regular file (a named pipe)"
    proc = _cli("ingest", str(path), "--out", str(tmp_path / "d"), "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr == f"mannequin: error: {path}: {expected}\n"
    assert not (tmp_path / "d").exists()


def test_a_truncated_video_that_partly_decodes_is_ingested_with_a_warning(tmp_path: Path) -> None:
    """Item 13: the frames that decode are kept, and a line says how many of the declared frames were lost."""
    import av

    video = tmp_path / "src.mp4"
    shot_video(video, [40])
    cut = tmp_path / "cut.mp4"
    with av.open(str(video)) as inp, av.open(str(cut), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    data = cut.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.6)])
    proc = _cli("ingest", str(cut), "--out", str(tmp_path / "d"), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("mannequin: warning: ")]
    assert len(warnings) == 1 and str(cut) in warnings[0] and "of the 40 frames" in warnings[0], proc.stderr
    assert list_frame_files(tmp_path / "d" / "clips" / "cut-s000" / "frames")


def test_an_out_whose_clips_is_a_file_is_one_line(tmp_path: Path) -> None:
    """Item 10: ``--out`` where ``clips`` is a file, or ``--out`` under a file."""
    video = tmp_path / "v.mp4"
    shot_video(video, [24])
    out = tmp_path / "data"
    out.mkdir()
    (out / "clips").write_text("not a folder")
    proc = _cli("ingest", str(video), "--out", str(out), "--no-progress")
    assert proc.returncode == 2 and proc.stderr == f"mannequin: error: {out / 'clips'}: exists and is not a directory\n"
    assert sorted(p.name for p in out.iterdir()) == ["clips"]
    proc = _cli("ingest", str(video), "--out", str(out / "clips" / "sub"), "--no-progress")
    assert proc.returncode == 2 and f"{out / 'clips'}: is a file" in proc.stderr, proc.stderr


def test_a_full_disk_is_one_line_and_earlier_clips_stay_whole(tmp_path: Path) -> None:
    """Item 11: writes past the file-size limit (``ulimit -f``: EFBIG) stop ingest with one line; the clips and
    splits.csv already there are untouched and no half-written clip folder is left."""
    import resource

    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    shot_video(first, [24])
    shot_video(second, [30, 30], size=(320, 192))
    out = tmp_path / "data"
    assert _cli("ingest", str(first), "--out", str(out), "--no-progress").returncode == 0
    before = _digests(out)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # frames of the second video are larger

    proc = subprocess.run([sys.executable, "-c", MAIN, "ingest", str(second), "--out", str(out), "--no-progress",
                           "--max-width", "320"], capture_output=True, text=True, timeout=600,
                          preexec_fn=small_files)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"mannequin: error: {out / 'clips' / 'second-s000'}: no space left on device\n"
    assert _digests(out) == before

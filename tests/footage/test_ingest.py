"""``mannequin ingest``: shot cuts at the frames a test video was written with, clips and splits.csv, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mannequin.clips.frames import list_frame_files, read_frame_image
from mannequin.clips.ids import is_valid_clip_id
from mannequin.clips.splits import read_splits
from mannequin.config.ingest import IngestParams
from mannequin.ingest.ingest import clip_id_for, clip_stem, ingest, plan_video
from mannequin.ingest.select import Candidate, shot_clips
from tests.helpers.footage import shot_video

MAIN = "from mannequin.cli import main; main()"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MAIN, *args], capture_output=True, text=True, timeout=600)


def test_shot_cuts_are_found_at_the_written_frames(tmp_path):
    video = tmp_path / "three shots.mp4"
    cuts = shot_video(video, [20, 25, 30])
    plan = plan_video(video, IngestParams(fps=25, min_frames=4, max_frames=48))
    assert cuts == [20, 45]
    assert plan.shots == [(0, 20), (20, 45), (45, 75)]
    assert [c.clip_id for c in plan.clips] == ["three_shots-s000", "three_shots-s001", "three_shots-s002"]
    for clip, (start, end) in zip(plan.clips, plan.shots):
        assert start <= min(clip.frames) and max(clip.frames) < end


def test_frames_at_target_rate_without_duplicates_blur_and_split():
    params = IngestParams(max_frames=10, min_frames=4)
    cands = [Candidate(i, 1.0, False) for i in range(0, 50, 2)]  # 25 candidates in [0, 50)
    cands[3] = Candidate(6, 0.1, False)  # blurred
    cands[4] = Candidate(8, 1.0, True)  # duplicate
    chunks = shot_clips(cands, 0, 50, params)
    kept = [i for c in chunks for i in c]
    assert 6 not in kept and 8 not in kept and len(kept) == 23
    assert len(chunks) == 3 and all(4 <= len(c) <= 10 for c in chunks)
    assert shot_clips(cands[:3], 0, 50, params) == []  # too short for a clip


def test_clip_ids_follow_the_contract():
    assert clip_stem(Path("my holiday (1).MOV")) == "my_holiday_1"
    assert clip_id_for("a" * 100, 12, 3, 5) == "a" * 100 + "-s012-p03"
    assert is_valid_clip_id(clip_id_for(clip_stem(Path("..weird..name..mp4")), 0, 0, 1))


def test_ingest_writes_clips_and_appends_splits_once(tmp_path):
    video = tmp_path / "walk.mp4"
    shot_video(video, [30, 30], size=(320, 192))
    out = tmp_path / "data"
    out.mkdir()
    (out / "splits.csv").write_text("clip_id,split\nold,test\n")
    params = IngestParams(max_width=160, min_frames=4)
    summary = ingest([video], out, params)
    assert summary.shots == 2 and summary.clips == 2 and summary.new_rows == 2
    ids = sorted(p.name for p in (out / "clips").iterdir())
    assert ids == ["walk-s000", "walk-s001"]
    files = list_frame_files(out / "clips" / "walk-s000" / "frames")
    assert read_frame_image(files[0]).shape == (96, 160, 3)  # decoded at the cap, not at 320x192
    assert not (out / "clips" / "walk-s000" / "poses.txt").exists()
    again = ingest([video], out, params)
    assert again.new_rows == 0
    assert read_splits(out) == {"old": "test", "walk-s000": "unlabeled", "walk-s001": "unlabeled"}
    assert (out / "splits.csv").read_text().count("walk-s000") == 1


def test_ingest_command_summary_and_video_form(tmp_path):
    video = tmp_path / "v.mp4"
    shot_video(video, [24])
    proc = _cli("ingest", str(video), "--out", str(tmp_path / "d"), "--form", "video", "--split", "labeled",
                "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 shots found, 1 clips written" in proc.stdout
    assert (tmp_path / "d" / "clips" / "v-s000" / "video.mp4").is_file()
    assert read_splits(tmp_path / "d") == {"v-s000": "labeled"}


def test_video_without_decodable_frames_is_one_line(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    proc = _cli("ingest", str(bad), "--out", str(tmp_path / "d"), "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "bad.mp4" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()


def test_malformed_splits_csv_refused_and_nothing_written(tmp_path):
    video = tmp_path / "v.mp4"
    shot_video(video, [24])
    out = tmp_path / "d"
    out.mkdir()
    (out / "splits.csv").write_text("clip,split\nx,unlabeled\n")
    before = (out / "splits.csv").read_bytes()
    proc = _cli("ingest", str(video), "--out", str(out), "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "splits.csv" in proc.stderr, proc.stderr
    assert (out / "splits.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["splits.csv"]


def test_scenedetect_runs_on_the_headless_opencv():
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("opencv-python")
        second_cv2 = True
    except PackageNotFoundError:
        second_cv2 = False
    assert not second_cv2, "opencv-python beside opencv-python-headless: two cv2 builds"
    import scenedetect

    assert version("opencv-python-headless") and scenedetect.__version__.startswith("0.7")

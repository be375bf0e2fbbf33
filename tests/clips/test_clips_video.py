"""Video reading with PyAV: real H.264 written by write_video and decoded back; broken files are one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.video import iter_video_frames, probe_video, write_video
from mannequin.errors import InputError


@pytest.fixture
def video(tmp_path: Path, frames) -> tuple[Path, list[np.ndarray]]:
    images = frames(8)
    path = tmp_path / "video.mp4"
    assert write_video(path, images, fps=10) == 8
    return path, images


def test_probe_counts_frames_and_reads_presentation_times(video) -> None:
    path, _ = video
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames) == (32, 24, 8)
    assert info.timestamps_us.tolist() == [i * 100_000 for i in range(8)]
    assert info.fps == pytest.approx(10.0)
    assert info.frame_interval_us == pytest.approx(100_000)
    assert info.duration_s == pytest.approx(0.8)


def test_decoded_pixels_match_and_only_wanted_frames_come_out(video) -> None:
    path, images = video
    got = list(iter_video_frames(path, [1, 4, 7]))
    assert [i for i, _ in got] == [1, 4, 7]
    for i, image in got:
        assert image.dtype == np.uint8 and image.shape == (24, 32, 3)
        assert np.abs(image.astype(int) - images[i].astype(int)).mean() < 3.0
    assert list(iter_video_frames(path, [])) == []
    with pytest.raises(ValueError, match="sorted"):
        list(iter_video_frames(path, [3, 1]))


def test_asking_past_the_end_is_an_input_error(video) -> None:
    path, _ = video
    with pytest.raises(InputError, match="ends before frame 9"):
        list(iter_video_frames(path, [2, 9]))


def test_writer_is_deterministic(tmp_path: Path, video, frames) -> None:
    path, images = video
    write_video(tmp_path / "again.mp4", images, fps=10)
    assert (tmp_path / "again.mp4").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("keep", [0.5, 0.9], ids=["half", "most"])
def test_truncated_video_is_one_line_error(video, keep: float) -> None:
    path, _ = video
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InputError) as err:
        probe_video(path)
    assert err.value.code == "bad_video" and str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_truncated_faststart_video_is_detected(tmp_path: Path, frames) -> None:
    """With the index (moov) at the front, a cut file still opens; the missing frames must be noticed."""
    import av

    src = tmp_path / "src.mp4"
    write_video(src, frames(8), fps=10)
    fast = tmp_path / "fast.mp4"
    with av.open(str(src)) as inp, av.open(str(fast), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    assert probe_video(fast).num_frames == 8
    data = fast.read_bytes()
    fast.write_bytes(data[: len(data) - 60])
    with pytest.raises(InputError) as err:
        probe_video(fast)
    assert err.value.code == "bad_video"


def test_garbage_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "video.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError) as err:
        probe_video(junk)
    assert err.value.code == "bad_video" and "\n" not in str(err.value)
    with pytest.raises(InputError) as err:
        list(iter_video_frames(junk, [0]))
    assert err.value.code == "bad_video"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.mp4"):
        probe_video(empty)
    with pytest.raises(InputError, match="file not found"):
        probe_video(tmp_path / "nope.mp4")

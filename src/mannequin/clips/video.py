"""Writing video with PyAV (deterministic, bit-exact). Reading lives beside it."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mannequin.atomic import atomic_path
from mannequin.errors import InputError, require_file

# x264's SIMD paths are not run-to-run reproducible (seen with mb-tree rate control: the same frames gave different
# bytes about one run in three); cpu-independent restores bit-exact output at no measurable cost, and makes the
# bytes the same with x264's assembly off (asm=0) as on: tests/sample/test_sample_cpu_independent.py.
X264_PARAMS = "threads=1:cpu-independent=1"
# BT.601 (FFmpeg's default for untagged video), studio range: Y in [16, 235], Cb and Cr in [16, 240]
KR, KB = Fraction(299, 1000), Fraction(114, 1000)
_FIXED_BITS = 16


def _yuv_matrix() -> np.ndarray:
    """The RGB -> YCbCr matrix scaled to integers (``_FIXED_BITS`` fractional bits), from KR and KB exactly."""
    kg = 1 - KR - KB
    y = [KR, kg, KB]
    cb = [-KR / (2 * (1 - KB)), -kg / (2 * (1 - KB)), Fraction(1, 2)]
    cr = [Fraction(1, 2), -kg / (2 * (1 - KR)), -KB / (2 * (1 - KR))]
    rows = [[c * 219 / 255 for c in y], [c * 224 / 255 for c in cb], [c * 224 / 255 for c in cr]]
    return np.array([[round(c * 2**_FIXED_BITS) for c in row] for row in rows], dtype=np.int64)


_YUV = _yuv_matrix()


def rgb_to_yuv444(frame: np.ndarray) -> np.ndarray:
    """An RGB uint8 frame (H, W, 3) as planar BT.601 studio-range YCbCr (3, H, W) uint8, in integer arithmetic.

    Converting here, not in FFmpeg's swscale (whose SIMD paths are chosen per CPU), keeps the encoder's input, and
    so the video's bytes, the same on every machine.
    """
    rgb = frame.astype(np.int64)
    planes = []
    for row, offset in zip(_YUV, (16, 128, 128)):
        value = rgb[..., 0] * row[0] + rgb[..., 1] * row[1] + rgb[..., 2] * row[2]
        planes.append(np.clip(((value + (1 << (_FIXED_BITS - 1))) >> _FIXED_BITS) + offset, 0, 255))
    return np.stack(planes).astype(np.uint8)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> int:
    """Encode RGB uint8 frames (H,W,3) as H.264 MP4 (4:4:4, BT.601), atomically; returns the frame count.

    Encoding is single-threaded and bit-exact, and the colour conversion is :func:`rgb_to_yuv444`'s, so the same
    frames give the same bytes on every machine.
    """
    path = Path(path)
    count = 0
    with (
        atomic_path(path) as tmp,
        av.open(str(tmp), mode="w", format="mp4", options={"fflags": "+bitexact"}) as container,
    ):
        stream = None
        for frame in frames:
            frame = np.ascontiguousarray(frame, dtype=np.uint8)
            if stream is None:
                h, w = frame.shape[:2]
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = w, h
                stream.pix_fmt = "yuv444p"
                stream.thread_count = 1
                stream.options = {"crf": str(crf), "preset": "medium", "x264-params": X264_PARAMS, "flags": "+bitexact"}
            vf = av.VideoFrame.from_ndarray(rgb_to_yuv444(frame), format="yuv444p")
            for packet in stream.encode(vf):
                container.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return count


# ---------------------------------------------------------------------------------------------- reading

_DECODE_ERRORS: tuple[type[BaseException], ...] = (av.FFmpegError, OSError, EOFError, ValueError, RuntimeError)


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds, learnt by decoding it once without keeping any frame."""

    width: int
    height: int
    num_frames: int
    timestamps_us: np.ndarray  # (num_frames,) int64 presentation times in decode order
    fps: float | None = None  # the stream's average frame rate, when the container declares one

    @property
    def frame_interval_us(self) -> float:
        """The typical time between frames (median of the presentation-time steps)."""
        if self.num_frames >= 2:
            return float(np.median(np.diff(self.timestamps_us)))
        return 1e6 / self.fps if self.fps else 0.0

    @property
    def duration_s(self) -> float:
        """Time from the first frame to the end of the last one."""
        if self.num_frames == 0:
            return 0.0
        return (float(self.timestamps_us[-1] - self.timestamps_us[0]) + self.frame_interval_us) / 1e6


def _bad_video(path: Path, exc: BaseException | str) -> InputError:
    if isinstance(exc, str):
        detail = exc
    elif isinstance(exc, av.FFmpegError) and exc.strerror:
        detail = exc.strerror  # without the errno and the file name, which the message already has
    else:
        detail = f"{exc.__class__.__name__}: {exc}"
    detail = " ".join(str(detail).split())[:200]
    return InputError(path, f"corrupt, truncated or unreadable video ({detail})", "bad_video")


@contextmanager
def _open_video(path: Path) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """Open the first video stream of ``path``; any failure becomes ``InputError(code="bad_video")``."""
    require_file(path, "video")
    try:
        container = av.open(str(path), mode="r")
    except _DECODE_ERRORS as exc:
        raise _bad_video(path, exc) from None
    try:
        if not container.streams.video:
            raise InputError(path, "no video stream in the file", "bad_video")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        yield container, stream
    finally:
        container.close()


def _frame_time_us(frame: av.VideoFrame, stream: av.video.stream.VideoStream, previous: int | None) -> int:
    if frame.pts is not None and frame.time_base is not None:
        return round(frame.pts * frame.time_base * 1_000_000)
    rate = stream.average_rate or stream.guessed_rate
    step = round(1_000_000 / float(rate)) if rate else 1
    return 0 if previous is None else previous + step


def probe_video(path: str | Path) -> VideoInfo:
    """Decode ``path`` once to count frames and read their presentation times (microseconds).

    Frames are dropped as soon as they are decoded, so memory stays bounded for long clips.
    A file that cannot be opened or decoded, or that ends before the frame count its container
    declares, raises ``InputError(code="bad_video")``.
    """
    path = Path(path)
    times: list[int] = []
    with _open_video(path) as (container, stream):
        declared = int(stream.frames or 0)
        rate = stream.average_rate
        fps = float(rate) if rate else None
        width = height = 0
        try:
            for frame in container.decode(stream):
                if not times:
                    width, height = frame.width, frame.height
                times.append(_frame_time_us(frame, stream, times[-1] if times else None))
        except _DECODE_ERRORS as exc:
            raise _bad_video(path, exc) from None
    if not times:
        raise _bad_video(path, "no decodable frames")
    if declared and len(times) < declared:
        raise _bad_video(path, f"only {len(times)} of the {declared} frames the container declares could be decoded")
    return VideoInfo(width, height, len(times), np.asarray(times, dtype=np.int64), fps)


def iter_video_frames(path: str | Path, indices: Sequence[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, rgb_uint8 HxWx3)`` for the wanted decode-order ``indices``, lazily.

    ``indices`` must be sorted and unique. Decoding is sequential and stops after the last wanted
    frame; only one frame is held at a time.
    """
    path = Path(path)
    wanted = [int(i) for i in indices]
    if any(b <= a for a, b in itertools.pairwise(wanted)) or (wanted and wanted[0] < 0):
        raise ValueError("indices must be sorted, unique and non-negative")
    if not wanted:
        return
    with _open_video(path) as (container, stream):
        pos = 0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index == wanted[pos]:
                    image = frame.to_ndarray(format="rgb24")
                    pos += 1
                    yield index, image
                    if pos == len(wanted):
                        return
        except _DECODE_ERRORS as exc:
            raise _bad_video(path, exc) from None
    raise _bad_video(path, f"ends before frame {wanted[pos]}")

"""Decoding a raw video with PyAV at a capped size: a 1080p frame is scaled by FFmpeg, never held whole."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from mannequin.errors import InputError, require_file

_DECODE_ERRORS: tuple[type[BaseException], ...] = (av.FFmpegError, OSError, EOFError, ValueError, RuntimeError)


@dataclass(frozen=True)
class StreamInfo:
    """The first video stream of a file, as its container declares it."""

    width: int
    height: int
    fps: float  # average frame rate (25 when the container declares none)
    declared_frames: int  # 0 when unknown


def capped_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """``(width, height)`` at most ``max_width`` wide, aspect kept, even sides (what encoders want), never upscaled."""
    if width <= max_width:
        return width, height
    w = max(2, max_width - max_width % 2)
    h = max(2, round(height * w / width / 2) * 2)
    return w, h


def _bad(path: Path, exc: BaseException | str) -> InputError:
    detail = exc if isinstance(exc, str) else (getattr(exc, "strerror", None) or f"{exc.__class__.__name__}: {exc}")
    detail = " ".join(str(detail).split())[:200]
    return InputError(path, f"corrupt, truncated or unreadable video ({detail})", "bad_video")


def stream_info(path: str | Path) -> StreamInfo:
    """What the container says about the first video stream; a file that does not open is one ``InputError``."""
    path = require_file(path, "video")
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise InputError(path, "no video stream in the file", "bad_video")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            return StreamInfo(
                int(stream.codec_context.width), int(stream.codec_context.height),
                float(rate) if rate else 25.0, int(stream.frames or 0),
            )  # fmt: skip
    except _DECODE_ERRORS as exc:
        raise _bad(path, exc) from None


def iter_scaled(path: str | Path, size: tuple[int, int], fmt: str = "rgb24") -> Iterator[tuple[int, np.ndarray]]:
    """``(frame index, image)`` of every frame in decode order, scaled to ``size`` by FFmpeg as it is decoded.

    A video with no decodable frame, or a decode error, is ``InputError(code="bad_video")``.
    """
    path = Path(path)
    count = 0
    try:
        with av.open(str(path), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield count, frame.to_ndarray(format=fmt, width=size[0], height=size[1])
                count += 1
    except _DECODE_ERRORS as exc:
        raise _bad(path, exc) from None
    if count == 0:
        raise InputError(path, "no decodable frames in the video", "bad_video")

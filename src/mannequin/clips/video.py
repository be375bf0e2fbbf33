"""Writing video with PyAV (deterministic, bit-exact). Reading lives beside it."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mannequin.atomic import atomic_path


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> int:
    """Encode RGB uint8 frames (H,W,3) as H.264 MP4, atomically; returns the frame count.

    Encoding is single-threaded and bit-exact so that the same frames give the same bytes.
    """
    path = Path(path)
    count = 0
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4", options={"fflags": "+bitexact"}) as container:
            stream = None
            for frame in frames:
                frame = np.ascontiguousarray(frame, dtype=np.uint8)
                if stream is None:
                    h, w = frame.shape[:2]
                    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                    stream.width, stream.height = w, h
                    stream.pix_fmt = "yuv444p"
                    stream.thread_count = 1
                    stream.options = {"crf": str(crf), "preset": "medium", "x264-params": "threads=1", "flags": "+bitexact"}
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                for packet in stream.encode(vf):
                    container.mux(packet)
                count += 1
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
    return count

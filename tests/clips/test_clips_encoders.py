"""The PNG and video encoders give committed bytes for fixed frames (issue 26, item 16: the same on every CPU).

The digests were recorded when these encoders were written; a change means the sample's bytes, and so
``data.dvc``, change too (see README, "What reproduces across machines").
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from mannequin.clips import video
from mannequin.clips.png import encode_png, filter_rows, zlib_is_reference


def _frame(seed: int, height: int = 48, width: int = 64) -> np.ndarray:
    """A frame with smooth regions, edges and noise (numpy's PCG64 draws the same numbers everywhere)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 3 + seed, y * 4, (x + y) * 2], axis=-1) % 256
    noise = rng.integers(-6, 7, (height, width, 3))
    edge = np.where((x // 16 + y // 12) % 2 == 0, 60, 0)[..., None]
    return np.clip(base + noise + edge, 0, 255).astype(np.uint8)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PNG_DIGESTS = {
    "rgb": "7ea29b55242daf98b687c686eb3d0f8835696de7f61ed97403757bdb2d4595dc",
    "mask": "b160c97d658d13a88b97574136c5430f337554f8a5489dc725aa200ffe5bcf8f",
    "depth16": "fbeb47d45563e55f46b3c0cdff766e31aab3951d33c803aeaa0b5c4dacc19fe8",
}
VIDEO_DIGEST = "cdfe25da2402c09e8c0bf161364f2e4837050d78fb6aa2e66e9f77dea25a1427"


def _png_inputs() -> dict[str, np.ndarray]:
    frame = _frame(3)
    mask = np.where(frame[..., 0] > 128, 255, 0).astype(np.uint8)
    depth = (frame[..., 1].astype(np.uint16) * 97 + 500).astype(np.uint16)
    return {"rgb": frame, "mask": mask, "depth16": depth}


@pytest.mark.parametrize("name", list(PNG_DIGESTS))
def test_png_bytes_are_committed_and_decode_exactly(name: str) -> None:
    image = _png_inputs()[name]
    data = encode_png(image)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(decoded[..., ::-1] if image.ndim == 3 else decoded, image)
    assert decoded.dtype == image.dtype
    assert zlib_is_reference(), "Python's zlib is not the reference zlib: PNG bytes may differ from data.dvc's"
    assert _sha(data) == PNG_DIGESTS[name]


def test_png_row_filters_follow_the_rule() -> None:
    flat = np.full((3, 4), 9, dtype=np.uint8)
    rows = filter_rows(flat, 1)
    # row 0: Sub leaves 9,0,0,0 (sum 9) against None's 36; then Up leaves zeros
    assert rows[:, 0].tolist() == [1, 2, 2]
    assert rows[0, 1:].tolist() == [9, 0, 0, 0] and not rows[1:, 1:].any()
    # a horizontal ramp: Sub leaves the step; signed bytes count, so a step of -1 (255) costs 1
    ramp = np.array([[10, 9, 8, 7, 6]], dtype=np.uint8)
    assert filter_rows(ramp, 1).tolist() == [[1, 10, 255, 255, 255, 255]]


def test_png_refuses_what_it_cannot_hold() -> None:
    with pytest.raises(ValueError, match="uint8 or uint16"):
        encode_png(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="shape"):
        encode_png(np.zeros((2, 2, 4), np.uint8))


def test_video_bytes_are_committed_and_the_same_without_x264_assembly(tmp_path: Path, monkeypatch) -> None:
    frames = [_frame(seed) for seed in range(6)]
    video.write_video(tmp_path / "simd.mp4", frames, fps=10)
    monkeypatch.setattr(video, "X264_PARAMS", video.X264_PARAMS + ":asm=0")
    video.write_video(tmp_path / "plain_c.mp4", frames, fps=10)
    data = (tmp_path / "simd.mp4").read_bytes()
    assert data == (tmp_path / "plain_c.mp4").read_bytes()
    assert _sha(data) == VIDEO_DIGEST


def test_colour_conversion_is_bt601_studio_range() -> None:
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    yuv = video.rgb_to_yuv444(rgb).reshape(3, -1).T.tolist()
    # black, white, and the primaries' BT.601 studio-range values (ITU-R BT.601, rounded)
    assert yuv == [[16, 128, 128], [235, 128, 128], [81, 90, 240], [145, 54, 34], [41, 240, 110]]

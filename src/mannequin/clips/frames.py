"""Reading a clip's ``frames/`` folder: image files in sorted name order (pose line i is the i-th file)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from mannequin.errors import InputError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


def list_frame_files(frames_dir: str | Path) -> list[Path]:
    """The image files of ``frames_dir`` in sorted name order; an empty folder is an ``InputError``.

    Hidden files (a leading ``.``, e.g. macOS ``._x.png`` or an interrupted atomic write) are not frames.
    """
    frames_dir = Path(frames_dir)
    if not frames_dir.is_dir():
        raise InputError(frames_dir, "not a folder", "missing_frames")
    files = sorted(
        (
            p
            for p in frames_dir.iterdir()
            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ),
        key=lambda p: p.name,
    )
    if not files:
        suffixes = " ".join(sorted(IMAGE_SUFFIXES))
        raise InputError(frames_dir, f"no image files ({suffixes}) in the frames folder", "empty_frames")
    return files


def read_frame_image(path: str | Path) -> np.ndarray:
    """Read one image file as RGB uint8 (H, W, 3); an unreadable file is ``InputError(code="bad_frames")``."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise InputError(path, f"unreadable image ({exc.__class__.__name__})", "bad_frames") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        raise InputError(path, "not a readable image", "bad_frames")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def iter_frame_files(
    files: Sequence[Path], indices: Sequence[int], size: tuple[int, int] | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, rgb_uint8)`` for ``files[index]``, one image at a time.

    With ``size=(width, height)`` every image must have that size, or it is ``InputError(code="bad_frames")``.
    """
    for index in indices:
        image = read_frame_image(files[index])
        if size is not None and (image.shape[1], image.shape[0]) != tuple(size):
            raise InputError(
                files[index],
                f"image is {image.shape[1]}x{image.shape[0]}, but the clip's first frame is {size[0]}x{size[1]}",
                "bad_frames",
            )
        yield index, image

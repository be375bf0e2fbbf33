"""ViSP's ``castel`` RGB-D sequence (Debian ``visp-images-data``, GPL-2) converted into one test clip.

The folder (``ViSP-images/mbt-depth/castel``) holds ``castel/image_XXXX.pgm`` (real 640x480 grey frames of a
model castle from a hand-held RGB-D camera), ``castel/depth_image_XXXX.bin`` (the depth camera's raw frame,
:func:`mannequin.ingest.visp.read_depth_bin`), the colour and depth cameras' intrinsics (``chateau.xml``,
``chateau_depth.xml``), the depth-to-colour transform (``depth_M_color.txt``, metres), the castle's CAD model
(``chateau.cao``, metres) and its pose in the first colour frame (``chateau.0.pos``, for ViSP's tracker).

**The depth unit is worked out from the data**, not assumed: the CAD model is rendered at its given pose into the
depth camera (:func:`mannequin.ingest.depth_registration.render_faces`), and the unit is the median, over the
pixels where the model and the first depth frame overlap, of model depth (metres) / raw value. The castle is a
known-size object, so this ties the raw values to metres; the result is recorded with its pixel count and spread.

The clip (:func:`convert_castel`): ``frames/NNNNNN.png`` (the grey frames, losslessly), ``intrinsics.txt`` (the
colour camera), no ``poses.txt`` (the evaluation gets poses from structure from motion), and the sensor depth of
every frame registered to the colour camera (:func:`mannequin.ingest.depth_registration.register_depth`) as
``depth/<clip>/NNNNNN.png`` by the depth contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mannequin.atomic import atomic_write_bytes, atomic_write_text
from mannequin.clips.depth_png import write_depth_png
from mannequin.errors import InputError
from mannequin.ingest.depth_registration import register_depth, render_faces
from mannequin.ingest.visp import read_camera_xml, read_cao, read_depth_bin, read_homogeneous, read_pose_vector

#: where Debian's ``visp-images-data`` installs the sequence
DEFAULT_CASTEL = Path("/usr/share/visp-images-data/ViSP-images/mbt-depth/castel")
PACKAGE = "visp-images-data"
SEQUENCE, COLOUR_XML, DEPTH_XML = "castel", "chateau.xml", "chateau_depth.xml"
DEPTH_M_COLOUR, MODEL, MODEL_POSE = "depth_M_color.txt", "chateau.cao", "chateau.0.pos"
_IMAGE = re.compile(r"image_(\d+)\.pgm")
#: the unit estimate needs at least this many pixels where the rendered model meets a depth reading
MIN_UNIT_PIXELS = 500


@dataclass(frozen=True)
class CastelSequence:
    """The files and calibration of a castel folder, validated."""

    folder: Path
    images: list[Path]
    depths: list[Path]
    K_colour: np.ndarray
    K_depth: np.ndarray
    depth_T_colour: np.ndarray  # colour-camera coordinates to depth-camera coordinates (metres)
    colour_T_object: np.ndarray  # the model in the first colour frame (metres)
    faces: list[np.ndarray]  # the model's faces, object frame (metres)


def open_castel(folder: str | Path) -> CastelSequence:
    """Check that ``folder`` is a castel sequence (every image has its depth file) and read its calibration."""
    folder = Path(folder)
    frames = folder / SEQUENCE
    if not frames.is_dir():
        raise InputError(frames, "not a folder (expected the castel sequence of visp-images-data)", "missing_frames")
    images = sorted(p for p in frames.iterdir() if _IMAGE.fullmatch(p.name))
    if not images:
        raise InputError(frames, "no image_XXXX.pgm frames", "missing_frames")
    depths = [frames / f"depth_image_{_IMAGE.fullmatch(p.name).group(1)}.bin" for p in images]  # type: ignore[union-attr]
    missing = [d for d in depths if not d.is_file()]
    if missing:
        raise InputError(
            missing[0], f"file not found ({len(missing)} of {len(images)} frames have no depth file)", "missing_depth"
        )  # fmt: skip
    return CastelSequence(
        folder, images, depths, read_camera_xml(folder / COLOUR_XML), read_camera_xml(folder / DEPTH_XML),
        read_homogeneous(folder / DEPTH_M_COLOUR), read_pose_vector(folder / MODEL_POSE), read_cao(folder / MODEL),
    )  # fmt: skip


@dataclass(frozen=True)
class DepthUnit:
    """Metres per raw depth count, and how it was found."""

    metres_per_count: float
    pixels: int
    ratio_p25: float
    ratio_p75: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "metres_per_count": self.metres_per_count,
            "pixels": self.pixels,
            "ratio_p25": self.ratio_p25,
            "ratio_p75": self.ratio_p75,
            "method": (
                f"the CAD model ({MODEL}) rendered at its pose ({MODEL_POSE}) into the depth camera; median of model"
                " depth in metres / raw value over the pixels where both exist in the first depth frame"
            ),
        }


def transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``points`` (N, 3) through a 4x4 rigid ``matrix``."""
    return np.asarray(points, np.float64) @ matrix[:3, :3].T + matrix[:3, 3]


def estimate_depth_unit(seq: CastelSequence, raw: np.ndarray | None = None) -> DepthUnit:
    """The raw depth unit from the model at its pose against the first depth frame (``raw``: that frame)."""
    raw = read_depth_bin(seq.depths[0]) if raw is None else raw
    height, width = raw.shape
    depth_T_object = seq.depth_T_colour @ seq.colour_T_object
    model = render_faces([transform(f, depth_T_object) for f in seq.faces], seq.K_depth, (width, height))
    both = np.isfinite(model) & (raw > 0)
    if int(both.sum()) < MIN_UNIT_PIXELS:
        raise InputError(
            seq.folder / MODEL_POSE,
            f"the model at this pose meets only {int(both.sum())} depth pixels of the first frame"
            f" (need {MIN_UNIT_PIXELS}): cannot tell the depth unit",
            "bad_pose",
        )
    ratio = model[both] / raw[both].astype(np.float64)
    p25, p50, p75 = np.percentile(ratio, [25, 50, 75])
    return DepthUnit(float(p50), int(both.sum()), float(p25), float(p75))


def _read_grey(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise InputError(path, "not a readable image", "bad_frames")
    return image


def convert_castel(seq: CastelSequence, clip_dir: str | Path, depth_dir: str | Path) -> dict[str, Any]:
    """Write the clip's frames, intrinsics and registered depth PNGs (see the module doc); returns its record."""
    clip_dir, depth_dir = Path(clip_dir), Path(depth_dir)
    raws = [read_depth_bin(p) for p in seq.depths]  # read all first: a bad file stops before anything is written
    unit = estimate_depth_unit(seq, raws[0])
    colour_T_depth = np.linalg.inv(seq.depth_T_colour)
    size = None
    coverage = []
    for k, (image_path, raw) in enumerate(zip(seq.images, raws, strict=True)):
        grey = _read_grey(image_path)
        if size is None:
            size = (grey.shape[1], grey.shape[0])
        elif (grey.shape[1], grey.shape[0]) != size:
            raise InputError(image_path, f"image is {grey.shape[1]}x{grey.shape[0]}, the first is {size[0]}x{size[1]}")
        ok, buf = cv2.imencode(".png", grey)
        if not ok:
            raise InputError(image_path, "could not encode as PNG", "bad_frames")
        atomic_write_bytes(clip_dir / "frames" / f"{k:06d}.png", buf.tobytes())
        metres = np.where(raw > 0, raw.astype(np.float64) * unit.metres_per_count, np.nan)
        registered = register_depth(metres, seq.K_depth, seq.K_colour, colour_T_depth, size)
        coverage.append(float(np.isfinite(registered).mean()))
        write_depth_png(depth_dir / f"{k:06d}.png", registered)
    assert size is not None
    K = seq.K_colour
    normalised = (K[0, 0] / size[0], K[1, 1] / size[1], K[0, 2] / size[0], K[1, 2] / size[1])
    atomic_write_text(clip_dir / "intrinsics.txt", " ".join(repr(float(v)) for v in normalised) + "\n")
    return {
        "source": f"Debian {PACKAGE}: ViSP-images/mbt-depth/castel (GPL-2; converted here, never committed)",
        "frames": len(seq.images),
        "size": list(size),
        "poses": "none (structure from motion at evaluation)",
        "depth_unit": unit.as_dict(),
        "registration": "depth camera to colour camera through depth_M_color.txt, nearest point per colour pixel",
        "depth_coverage": float(np.mean(coverage)),
    }

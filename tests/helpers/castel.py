"""A synthetic sequence in ViSP's castel layout with a known depth unit: a box on a floor seen by an RGB-D rig.

Imported by name (``from tests.helpers.castel import ...``) by the real-depth tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mannequin.ingest.castel import transform
from mannequin.ingest.depth_registration import render_faces
from mannequin.ingest.visp import axis_angle_matrix

SIZE = (160, 120)
K_COLOUR = np.array([[150.0, 0, 80.5], [0, 150.0, 59.5], [0, 0, 1]])
K_DEPTH = np.array([[118.0, 0, 79.0], [0, 118.0, 61.0], [0, 0, 1]])
UNIT = 1 / 8000  # metres per raw count, as an Intel SR300's
# colour-camera coordinates to depth-camera coordinates: 2.5 cm along x and a small rotation
DEPTH_M_COLOUR = np.eye(4)
DEPTH_M_COLOUR[:3, :3] = axis_angle_matrix(np.array([0.004, -0.006, 0.002]))
DEPTH_M_COLOUR[:3, 3] = [-0.025, 0.0007, -0.0038]
POSE = np.array([0.01, 0.02, 0.45, 0.35, -0.25, 0.05])  # c_M_o: tx ty tz (m), then axis-angle (rad)

# a box on a floor, in metres (object frame: y up is -y of the camera, as ViSP's castle)
BOX = """V1
8
-0.06 -0.08 -0.06
0.06 -0.08 -0.06
0.06 -0.08 0.06
-0.06 -0.08 0.06
-0.06 0.0 -0.06
0.06 0.0 -0.06
0.06 0.0 0.06
-0.06 0.0 0.06
0
0
5
4 0 1 2 3
4 0 1 5 4
4 1 2 6 5
4 2 3 7 6
4 3 0 4 7
0
0
"""
FLOOR = """V1
4
-0.25 0.0 -0.2
0.25 0.0 -0.2
0.25 0.0 0.2
-0.25 0.0 0.2
0
0
1
4 0 1 2 3
0
0
"""
XML = """<?xml version="1.0"?>
<conf>
  <camera>
    <px>{px}</px>
    <py>{py}</py>
    <u0>{u0}</u0>
    <v0>{v0}</v0>
  </camera>
</conf>
"""


def model_faces(folder: Path) -> list[np.ndarray]:
    from mannequin.ingest.visp import read_cao

    return read_cao(folder / "chateau.cao")


def pose_matrix(pose: np.ndarray = POSE) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3] = axis_angle_matrix(pose[3:])
    out[:3, 3] = pose[:3]
    return out


def write_castel(folder: Path, frames: int = 3, unit: float = UNIT) -> Path:
    """A castel-layout folder: textured grey frames, raw depth of the box and floor in ``unit`` counts."""
    seq = folder / "castel"
    (folder / "chateau_parts").mkdir(parents=True)
    seq.mkdir()
    (folder / "chateau_parts" / "box.cao").write_text(BOX)
    (folder / "chateau_parts" / "floor.cao").write_text(FLOOR)
    (folder / "chateau.cao").write_text(
        '#CAO\nV1\nload("chateau_parts/box.cao")\nload("chateau_parts/floor.cao")\n0\n0\n0\n0\n0\n0\n'
    )
    for name, K in (("chateau.xml", K_COLOUR), ("chateau_depth.xml", K_DEPTH)):
        (folder / name).write_text(XML.format(px=K[0, 0], py=K[1, 1], u0=K[0, 2], v0=K[1, 2]))
    (folder / "depth_M_color.txt").write_text("\n".join(" ".join(f"{v:.10f}" for v in r) for r in DEPTH_M_COLOUR))
    (folder / "chateau.0.pos").write_text("\n".join(f"{v}" for v in POSE) + "\n")
    faces = model_faces(folder)
    rng = np.random.default_rng(0)
    w, h = SIZE
    for k in range(frames):
        cv2.imwrite(str(seq / f"image_{k:04d}.pgm"), rng.integers(0, 255, (h, w), dtype=np.uint8))
        depth = render_faces([transform(f, DEPTH_M_COLOUR @ pose_matrix()) for f in faces], K_DEPTH, SIZE)
        raw = np.where(np.isfinite(depth), np.round(depth / unit), 0).astype("<u2")
        header = np.array([h, w], "<u4").tobytes()
        (seq / f"depth_image_{k:04d}.bin").write_bytes(header + raw.tobytes())
    return folder

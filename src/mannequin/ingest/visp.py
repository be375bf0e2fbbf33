"""Reading ViSP's file formats (the ``visp-images-data`` sequences): raw depth, camera XML, matrices, CAD models.

- ``depth_image_XXXX.bin``: an 8-byte header (height, width: little-endian uint32), then height x width
  little-endian uint16 raw depth values in the sensor's unit (0: no reading), row-major.
- ``<name>.xml``: a tracker configuration whose ``<camera>`` holds ``px py u0 v0`` (pinhole, pixels).
- ``depth_M_color.txt``: a 4x4 homogeneous matrix, whitespace-separated rows; it maps a point in the colour
  camera's frame to the depth camera's frame (ViSP's ``a_M_b`` maps ``b`` coordinates to ``a``).
- ``<name>.0.pos``: a pose vector ``tx ty tz θux θuy θuz`` (metres, axis-angle radians): ``c_M_o``, the object
  in the colour camera's frame.
- ``<name>.cao``: ViSP's CAD format (version ``V1``): points, then counts of lines, face-lines, face-points
  (each a count and point indices), cylinders and circles; ``load("file.cao")`` lines include other files.

Every problem is an :class:`mannequin.errors.InputError` naming the file: one line for the user.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from mannequin.errors import InputError, read_user_text

DEPTH_HEADER_BYTES = 8
#: the largest image side a header may claim (a corrupt header is an error, not a huge allocation)
MAX_SIDE = 16384
_LOAD = re.compile(r'^load\("([^"]+)"\)')


def read_depth_bin(path: str | Path) -> np.ndarray:
    """The raw depth (H, W) uint16 of a ViSP ``.bin`` file; a truncated or malformed file is one line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found", "missing_depth") from None
    except OSError as exc:
        raise InputError(path, f"unreadable ({exc.__class__.__name__})", "bad_depth") from None
    if len(data) < DEPTH_HEADER_BYTES:
        raise InputError(path, f"truncated: {len(data)} bytes, shorter than the 8-byte header", "bad_depth")
    height, width = (int(v) for v in np.frombuffer(data[:DEPTH_HEADER_BYTES], "<u4"))
    if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
        raise InputError(path, f"header claims a {width}x{height} image (not a ViSP depth file?)", "bad_depth")
    want = DEPTH_HEADER_BYTES + 2 * height * width
    if len(data) != want:
        state = "truncated" if len(data) < want else "too long"
        raise InputError(
            path, f"{state}: {len(data)} bytes, a {width}x{height} depth image needs {want}", "bad_depth"
        )  # fmt: skip
    return np.frombuffer(data[DEPTH_HEADER_BYTES:], "<u2").reshape(height, width).copy()


_CAMERA = re.compile(r"<camera>(.*?)</camera>", re.S)


def read_camera_xml(path: str | Path) -> np.ndarray:
    """The pinhole ``K`` (3x3, pixels) of a ViSP XML configuration's ``<camera>`` (``px py u0 v0``).

    Only the ``<camera>`` element's four numbers are read, by pattern: no XML parser sees the file (no entities).
    """
    path = Path(path)
    text = read_user_text(path, "camera")
    block = _CAMERA.search(text)
    if block is None:
        raise InputError(path, "no <camera> element", "bad_camera")
    values = {}
    for key in ("px", "py", "u0", "v0"):
        m = re.search(rf"<{key}>\s*([^<]*?)\s*</{key}>", block.group(1))
        try:
            values[key] = float(m.group(1)) if m else math.nan
        except ValueError:
            values[key] = math.nan
        if not math.isfinite(values[key]):
            raise InputError(path, f"<camera> lacks a number <{key}>", "bad_camera")
    if values["px"] <= 0 or values["py"] <= 0:
        raise InputError(path, "focal lengths px and py must be positive", "bad_camera")
    return np.array([[values["px"], 0.0, values["u0"]], [0.0, values["py"], values["v0"]], [0.0, 0.0, 1.0]])


def _numbers(path: Path, kind: str) -> np.ndarray:
    text = read_user_text(path, kind)
    try:
        values = np.array([float(v) for v in text.split()], dtype=np.float64)
    except ValueError:
        raise InputError(path, "holds something that is not a number", f"bad_{kind}") from None
    if not np.all(np.isfinite(values)):
        raise InputError(path, "non-finite value (NaN or inf)", f"bad_{kind}")
    return values


def check_rigid(path: Path, matrix: np.ndarray, kind: str = "transform") -> np.ndarray:
    """``matrix`` (4x4) if it is a rigid transform (orthonormal rotation, last row 0 0 0 1), else one line."""
    R = matrix[:3, :3]
    err = float(np.abs(R @ R.T - np.eye(3)).max())
    if err > 1e-3 or np.linalg.det(R) < 0 or not np.allclose(matrix[3], [0, 0, 0, 1]):
        raise InputError(path, f"not a rigid transform (|R R^T - I| = {err:.2g})", f"bad_{kind}")
    return matrix


def read_homogeneous(path: str | Path) -> np.ndarray:
    """A 4x4 rigid transform written as 16 whitespace-separated numbers (``depth_M_color.txt``)."""
    path = Path(path)
    values = _numbers(path, "transform")
    if values.size != 16:
        raise InputError(path, f"expected 16 numbers (a 4x4 matrix), got {values.size}", "bad_transform")
    return check_rigid(path, values.reshape(4, 4))


def axis_angle_matrix(rotation_vector: np.ndarray) -> np.ndarray:
    """The rotation matrix of an axis-angle vector (Rodrigues' formula)."""
    w = np.asarray(rotation_vector, np.float64)
    angle = float(np.linalg.norm(w))
    if angle < 1e-12:
        return np.eye(3)
    k = w / angle
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(angle) * cross + (1.0 - math.cos(angle)) * cross @ cross


def read_pose_vector(path: str | Path) -> np.ndarray:
    """The 4x4 transform of a ViSP pose vector file (``tx ty tz θux θuy θuz``)."""
    path = Path(path)
    values = _numbers(path, "pose")
    if values.size != 6:
        raise InputError(path, f"expected 6 numbers 'tx ty tz tux tuy tuz', got {values.size}", "bad_pose")
    out = np.eye(4)
    out[:3, :3] = axis_angle_matrix(values[3:])
    out[:3, 3] = values[:3]
    return out


def _cao_lines(path: Path) -> list[str]:
    text = read_user_text(path, "model")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


def read_cao(path: str | Path, root: str | Path | None = None) -> list[np.ndarray]:
    """The polygonal faces (each (K, 3) float64, object frame, metres) of a ViSP ``.cao`` model and its loads.

    Included files are resolved against the including file's folder and must stay inside ``root`` (default:
    that folder). Lines, cylinders and circles are skipped: only faces have a surface to render.
    """
    path = Path(path)
    root = Path(root or path.parent).resolve()
    lines = _cao_lines(path)
    faces: list[np.ndarray] = []
    body = []
    for line in lines:
        m = _LOAD.match(line)
        if m is None:
            body.append(line)
            continue
        included = (path.parent / m.group(1)).resolve()
        if not included.is_relative_to(root):
            raise InputError(path, f"load({m.group(1)!r}) leaves the model's folder", "bad_model")
        faces += read_cao(included, root)
    if not body:
        return faces
    try:
        return faces + _cao_faces(body)
    except (ValueError, IndexError):
        problem = "not a ViSP CAD model (V1: points, lines, face lines, face points)"
        raise InputError(path, problem, "bad_model") from None


def _cao_faces(body: list[str]) -> list[np.ndarray]:
    if body[0] != "V1":
        raise ValueError("no V1 header")
    i = 1
    n_points = int(body[i])
    points = np.array([[float(v) for v in body[i + 1 + k].split()[:3]] for k in range(n_points)], np.float64)
    i += 1 + n_points
    n_lines = int(body[i])
    i += 1 + n_lines
    n_face_lines = int(body[i])
    i += 1 + n_face_lines
    n_faces = int(body[i])
    faces = []
    for k in range(n_faces):
        tokens = body[i + 1 + k].split()
        count = int(tokens[0])
        faces.append(points[[int(t) for t in tokens[1 : 1 + count]]])
    return faces

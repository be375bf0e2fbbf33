"""Camera poses from structure from motion (pycolmap), for frames that came without ``poses.txt``.

:func:`reconstruct` writes the frames to a private folder, runs :mod:`mannequin.curation.sfm_worker` in a
child process twice (feature extraction and sequential matching in frame order; then, when the matching report
passes the input checks, incremental or global mapping), and turns the largest model into :class:`Camera` objects
in mannequin's conventions. A set of frames SfM
cannot reconstruct is ``InputError(code="no_poses")`` with what failed: too few frames, no texture, a
static camera, no initial pair with parallax, a model that splits.

COLMAP's ``cam_from_world`` is world-to-camera, the direction of ``poses.txt``; its pixel coordinates put
the centre of the top-left pixel at (0.5, 0.5) where :class:`Camera` puts it at (0, 0).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from mannequin.atomic import atomic_write_bytes
from mannequin.clips.cameras import Camera
from mannequin.config.sfm import SfmParams
from mannequin.errors import InputError

NO_POSES = "no_poses"
ROTATION_CONFIGS = frozenset({"PANORAMIC", "PLANAR_OR_PANORAMIC"})
WORKER_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class SfmStats:
    """How well a reconstruction went: the registration statistics that become clip scores."""

    frames: int  # frames given to SfM
    registered: int  # frames with a pose in the kept (largest) model
    models: int  # models found (more than one: the reconstruction split)
    points: int  # 3-D points of the kept model
    reprojection_error_px: float  # mean, at the SfM resolution
    focal: float  # estimated (or given) focal length, normalised by the image width
    seconds: float
    method: str = ""  # which reconstruction was kept (mapper, starting focal length)
    focal_refined: bool = False  # the focal length was estimated (not given by intrinsics.txt, not fixed)

    @property
    def registered_fraction(self) -> float:
        return self.registered / self.frames if self.frames else 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SfmResult:
    """Cameras of the frames given, in their order (``None``: not registered), at the size the frames were given."""

    cameras: list[Camera | None]
    stats: SfmStats


def camera_matrix(model: str, params: list[float]) -> np.ndarray:
    """mannequin's pixel ``K`` of a COLMAP camera (principal point moved from COLMAP's to OpenCV's pixel origin)."""
    if model in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL"):
        fx = fy = params[0]
        cx, cy = params[1], params[2]
    elif model in ("PINHOLE", "OPENCV"):
        fx, fy, cx, cy = params[:4]
    else:
        raise ValueError(f"unsupported COLMAP camera model {model}")
    return np.array([[fx, 0.0, cx - 0.5], [0.0, fy, cy - 0.5], [0.0, 0.0, 1.0]])


def colmap_pinhole_params(K: np.ndarray) -> list[float]:
    """COLMAP ``PINHOLE`` parameters ``fx fy cx cy`` of mannequin's pixel ``K`` (inverse of :func:`camera_matrix`)."""
    return [float(K[0, 0]), float(K[1, 1]), float(K[0, 2]) + 0.5, float(K[1, 2]) + 0.5]


def camera_from_colmap(K: np.ndarray, R: np.ndarray, t: np.ndarray, width: int, height: int) -> Camera:
    """A :class:`Camera` of COLMAP's ``cam_from_world`` (rotation ``R``, translation ``t``): the same direction."""
    return Camera(K, np.asarray(R, dtype=np.float64), np.asarray(t, dtype=np.float64), width, height)


def focal_vs_prior(stats: SfmStats, params: SfmParams, width: int, height: int) -> float | None:
    """A refined focal length over ``curate.sfm.focal_prior`` (both per the larger side); None when not refined."""
    if not stats.focal_refined:
        return None
    return stats.focal * width / (params.focal_prior * max(width, height))


def focal_note(stats: SfmStats, params: SfmParams, width: int, height: int) -> str:
    """A note for a person when SfM refined the focal length to ``curate.sfm.focal_note_ratio`` times its prior or
    more (or as far below it), else ``""``: a short clip barely constrains the focal length (docs/real-footage.md).
    """
    ratio = focal_vs_prior(stats, params, width, height)
    if ratio is None or 1 / params.focal_note_ratio < ratio < params.focal_note_ratio:
        return ""
    return (
        f"SfM refined the focal length to {ratio:.2f}x curate.sfm.focal_prior ({params.focal_prior:g} x the larger "
        "side): check the poses; if the camera is known, give the clip an intrinsics.txt"
    )


def _fail(where: str | Path, problem: str) -> InputError:
    return InputError(where, f"structure from motion failed: {problem}", NO_POSES)


def _write_images(frames: Iterable[np.ndarray], image_dir: Path) -> tuple[list[str], tuple[int, int] | None]:
    """The frames as PNG files for COLMAP (their names, in frame order) and their (width, height)."""
    names: list[str] = []
    size = None
    for k, frame in enumerate(frames):
        ok, buf = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError(f"could not encode frame {k} for SfM")
        name = f"{k:06d}.png"  # zero-padded: name order is frame order
        atomic_write_bytes(image_dir / name, buf.tobytes())
        names.append(name)
        size = (frame.shape[1], frame.shape[0])
    return names, size


def _run_worker(job: dict, work: Path, where: str | Path) -> dict:
    job_path = work / "job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mannequin.curation.sfm_worker", str(job_path)],
            capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise _fail(where, f"pycolmap took longer than {WORKER_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
        last = lines[-1][-200:] if lines else f"exit status {proc.returncode}"
        raise _fail(where, f"pycolmap stopped ({last})")
    return json.loads(Path(job["result_path"]).read_text(encoding="utf-8"))


def clip_motion(pair_shifts: list[list[float]]) -> float:
    """How far the camera moves over the clip, in pixels of feature motion: the median, over the matched pairs of
    frames at least half the widest matched gap apart, of each pair's median feature shift.

    Judged over the clip, not between neighbours: a slow, steady camera at 30 fps shifts features under a pixel a
    frame and many pixels over the clip. Over many far-apart pairs, not the largest one: a static camera with a car
    passing close has a pair or two that the car's features dominate."""
    if not pair_shifts:
        return 0.0
    gaps = np.array([j - i for i, j, _ in pair_shifts], dtype=float)
    shifts = np.array([s for _, _, s in pair_shifts], dtype=float)
    return float(np.median(shifts[gaps >= gaps.max() / 2]))


def _check_inputs(report: dict, n: int, params: SfmParams, where: str | Path) -> None:
    """Textureless frames, then frames that do not match, then a camera that does not move over the clip
    (:func:`clip_motion`)."""
    keypoints = np.asarray(report["keypoints"], dtype=float)
    if float(np.median(keypoints)) < params.min_features:
        raise _fail(
            where,
            f"too little texture: a median {np.median(keypoints):.0f} SIFT features per frame "
            f"(at least {params.min_features} are needed)",
        )
    pairs = report["pairs"]
    flows = [p["flow_px"] for p in pairs if p["inliers"] > 0 and p["flow_px"] is not None]
    if not flows:
        raise _fail(where, f"no two neighbouring frames match (0 of {n - 1} pairs verified)")
    motion = clip_motion(report["pair_shifts"])
    if motion < params.min_flow_px:
        raise _fail(
            where,
            f"the camera does not move: features shift a median {motion:.2f} px between frames far apart in the "
            f"clip (at least {params.min_flow_px:g} px are needed)",
        )


def _check_models(report: dict, n: int, params: SfmParams, where: str | Path) -> dict:
    models = report["models"]
    if not models:
        configs = [p["config"] for p in report["pairs"] if p["inliers"] > 0]
        rotation = sum(c in ROTATION_CONFIGS for c in configs)
        hint = (
            f"{rotation} of {len(configs)} matched neighbouring pairs fit a homography: "
            "a camera that only turns, or a flat scene"
            if configs and rotation * 2 >= len(configs)
            else "the camera moves too little between frames, or the scene moves"
        )
        raise _fail(where, f"no initial image pair with enough parallax ({hint})")
    best = models[0]
    registered = len(best["images"])
    if best["points"] < params.min_points:
        raise _fail(
            where, f"only {best['points']} 3-D points triangulate (at least {params.min_points}): too little parallax"
        )
    if registered / n < params.min_registered_fraction:
        if len(models) > 1:
            raise _fail(where, f"the model splits in {len(models)} parts; the largest holds {registered} of {n} frames")
        raise _fail(where, f"only {registered} of {n} frames register")
    return best


def reconstruct(
    frames: Iterable[np.ndarray],
    params: SfmParams,
    where: str | Path,
    K: np.ndarray | None = None,
) -> SfmResult:
    """Poses of ``frames`` (RGB uint8, all one size, in time order) by SfM; ``K`` fixes the camera (pixels).

    Frames are written to a temporary folder one at a time, so an iterator keeps memory bounded. The worker matches
    first; a clip whose matching report fails the input checks (too little texture, no matching pairs, a camera whose
    features do not move over the clip) is rejected before any mapping.
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mannequin-sfm-") as tmp:
        work = Path(tmp)
        image_dir = work / "images"
        image_dir.mkdir()
        names, size = _write_images(frames, image_dir)
        n = len(names)
        if n < params.min_frames or size is None:
            raise _fail(where, f"it needs at least {params.min_frames} frames, got {n}")
        camera = {"model": "PINHOLE" if K is not None else params.camera_model}
        if K is not None:
            camera["params"] = colmap_pinhole_params(K)
        job = {
            "work_dir": str(work), "image_dir": str(image_dir), "names": names,
            "result_path": str(work / "result.json"), "params": params.model_dump(mode="json"), "camera": camera,
        }  # fmt: skip
        report = _run_worker({**job, "phase": "match"}, work, where)
        _check_inputs(report, n, params, where)  # before mapping: a clip rejected here costs no mapping
        report.update(_run_worker({**job, "phase": "map"}, work, where))
    best = _check_models(report, n, params, where)
    cam = best["camera"]
    if (cam["width"], cam["height"]) != size:
        raise RuntimeError(f"SfM camera is {cam['width']}x{cam['height']}, the frames {size[0]}x{size[1]}")
    K_est = camera_matrix(cam["model"], cam["params"])
    cameras: list[Camera | None] = []
    for name in names:
        pose = best["images"].get(name)
        cameras.append(None if pose is None else camera_from_colmap(K_est, pose["R"], pose["t"], *size))
    stats = SfmStats(
        frames=n,
        registered=len(best["images"]),
        models=len(report["models"]),
        points=int(best["points"]),
        reprojection_error_px=float(best["reprojection_error_px"]),
        focal=float(K_est[0, 0] / size[0]),
        seconds=time.perf_counter() - start,
        method=best.get("refit", f"{params.mapper} mapping, camera {'given' if K is not None else 'estimated'}"),
        focal_refined=bool(best.get("focal_refined", False)),
    )
    return SfmResult(cameras, stats)

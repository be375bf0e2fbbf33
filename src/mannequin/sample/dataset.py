"""The embedded sample dataset: render planned clips and write them in the ``data/`` layout (docs/data.md).

``OUT_DIR/clips/<id>/poses.txt`` with ``video.mp4`` or ``frames/``, ``OUT_DIR/depth/<id>/<i:06d>.png`` (labeled
and test clips), ``OUT_DIR/splits.csv``, and the audit-only truth: ``OUT_DIR/sample_truth.csv`` and
``OUT_DIR/truth/<id>/depth.npz`` (exact float32 depth in metres, true cameras in metres). With
``people="paper"`` (the default) every clip also has ``masks/<i:06d>.png`` (its figures and moving things, from
the renderer's object buffer) and ``sample_truth.csv`` a ``people`` column (``frozen`` or ``moving``).
"""

from __future__ import annotations

import io
import multiprocessing
import shutil
import sys
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_path, atomic_write_bytes, atomic_write_text, replace_path
from mannequin.clips.cameras import Camera
from mannequin.clips.depth_png import write_depth_png
from mannequin.clips.masks import MASKS_NAME, write_mask_png
from mannequin.clips.png import write_png
from mannequin.clips.poses import write_poses
from mannequin.clips.video import write_video
from mannequin.errors import InputError
from mannequin.sample import portable_math as pm
from mannequin.sample.plan import DEFAULT_CLIPS, DEFAULT_FRAMES, DEFAULT_PEOPLE, DEFAULT_SIZE, ClipPlan, make_plan
from mannequin.sample.render import render, render_layers, to_uint8
from mannequin.sample.rooms import random_room_size, random_scene
from mannequin.sample.scene import Scene
from mannequin.sample.trajectory import MOVING_KINDS, Trajectory, random_trajectory

BLUR_SUBFRAMES = 17  # dense enough that the sub-frames merge into a smear, not separate ghost copies
BLUR_SHUTTER = 0.5  # exposure as a share of the frame interval (a 180-degree shutter)
CORRUPT_KEEP_FRACTION = 0.4
OUTPUTS = ("clips", "depth", "truth", "splits.csv", "sample_truth.csv")


@dataclass(frozen=True)
class RenderedClip:
    """A rendered clip: frames, exact depth and the true cameras (metres), plus the cameras to write."""

    plan: ClipPlan
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    depth: np.ndarray  # (T, H, W) float32 metres
    cameras: list[Camera]  # true cameras, metres
    written: list[Camera]  # what poses.txt holds: scaled by pose_scale, and wrong for pose_mismatch
    masks: np.ndarray | None = None  # (T, H, W) bool: pixels of figures and moving things (see movable_objects)


def intrinsics(plan: ClipPlan) -> np.ndarray:
    """Pixel K for the plan's horizontal field of view, principal point at the image centre, square pixels."""
    f = (plan.width / 2.0) / float(pm.tan(plan.hfov_deg * (pm.PI / 180.0) / 2.0))
    return np.array([[f, 0.0, (plan.width - 1) / 2.0], [0.0, f, (plan.height - 1) / 2.0], [0.0, 0.0, 1.0]])


def clip_times(plan: ClipPlan) -> np.ndarray:
    """Clip time s in [0, 1] of every frame."""
    return np.linspace(0.0, 1.0, plan.n_frames)


def _camera(traj: Trajectory, s: float, K: np.ndarray, plan: ClipPlan, timestamp_us: int = 0) -> Camera:
    centre, R = traj.pose(s)
    return Camera(K, R, -pm.matvec3(R, centre), plan.width, plan.height, timestamp_us)


def build_clip_scene(plan: ClipPlan) -> tuple[Scene, Trajectory, np.random.Generator]:
    """The room, objects and camera path of a planned clip (deterministic in ``plan.seed``)."""
    rng = np.random.default_rng(plan.seed)
    size = random_room_size(rng)
    traj = random_trajectory(rng, plan.trajectory, size)
    centres = np.array([traj.pose(s)[0] for s in np.linspace(-0.1, 1.1, 25)])
    scene = random_scene(rng, size, centres, moving=plan.defect == "moving", walking=plan.walking)
    return scene, traj, rng


def movable_objects(scene: Scene) -> np.ndarray:
    """Indices into ``scene.objects`` of what a mask covers: every figure (frozen or not) and every moving thing."""
    return np.array([k for k, o in enumerate(scene.objects) if o.kind == "figure" or o.moving], dtype=np.int64)


def render_clip(plan: ClipPlan) -> RenderedClip:
    """Render every frame of a planned clip, with its defect."""
    scene, traj, rng = build_clip_scene(plan)
    K = intrinsics(plan)
    times = clip_times(plan)
    stamps = [round(i * 1e6 / plan.fps) for i in range(plan.n_frames)]
    cameras = [_camera(traj, float(s), K, plan, ts) for s, ts in zip(times, stamps)]
    frames, depths, masks = [], [], []
    movable = movable_objects(scene)
    step = 1.0 / max(plan.n_frames - 1, 1)
    for s, cam in zip(times, cameras):
        colour, depth, objects = render_layers(scene, cam, float(s))
        masks.append(np.isin(objects, movable))
        if plan.defect == "blur":  # average sub-frames over the exposure (half the frame interval)
            subs = [
                render(
                    scene,
                    _camera(traj, float(s + (j / (BLUR_SUBFRAMES - 1) - 0.5) * step * BLUR_SHUTTER), K, plan),
                    float(s),
                )[0]
                for j in range(BLUR_SUBFRAMES)
            ]
            colour = subs[0].astype(np.float64)
            for sub in subs[1:]:  # summed in order (a reduction's order is numpy's to choose)
                colour = colour + sub
            colour = colour / len(subs)
        frames.append(to_uint8(colour))
        depths.append(depth)
    written = [c.scaled(plan.pose_scale) for c in cameras]
    if plan.defect == "pose_mismatch":
        if rng.random() < 0.5:  # the poses of the clip played backwards
            source = written[::-1]
        else:  # the poses of another path through the same room
            other = random_trajectory(
                rng, str(rng.choice([k for k in MOVING_KINDS if k != plan.trajectory])), scene.size
            )
            source = [_camera(other, float(s), K, plan).scaled(plan.pose_scale) for s in times]
        written = [Camera(c.K, c.R, c.t, c.width, c.height, ts) for c, ts in zip(source, stamps)]
    return RenderedClip(plan, np.stack(frames), np.stack(depths).astype(np.float32), cameras, written, np.stack(masks))


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` with fixed zip metadata (numpy's own stamps the current time), so bytes depend only on content."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, mode="w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    atomic_write_bytes(path, buf.getvalue())


def write_clip(clip: RenderedClip, root: Path) -> None:
    """Write one rendered clip under ``root`` (clips/, depth/, truth/)."""
    plan = clip.plan
    clip_dir = root / "clips" / plan.clip_id
    write_poses(clip_dir / "poses.txt", clip.written, f"mannequin sample-data {plan.clip_id}")
    if plan.form == "frames":
        for i, frame in enumerate(clip.frames):
            write_png(clip_dir / "frames" / f"{i:06d}.png", frame)
    elif plan.defect == "corrupt_video":
        with atomic_path(clip_dir / "video.full.mp4") as tmp:
            write_video(tmp, clip.frames, plan.fps)
            data = tmp.read_bytes()
        (clip_dir / "video.full.mp4").unlink()
        atomic_write_bytes(clip_dir / "video.mp4", data[: int(len(data) * CORRUPT_KEEP_FRACTION)])
    else:
        write_video(clip_dir / "video.mp4", clip.frames, plan.fps)
    if plan.write_masks and clip.masks is not None:
        for i, mask in enumerate(clip.masks):
            write_mask_png(clip_dir / MASKS_NAME / f"{i:06d}.png", mask)
    if plan.split in ("labeled", "test"):
        for i, depth in enumerate(clip.depth):
            write_depth_png(root / "depth" / plan.clip_id / f"{i:06d}.png", depth)
    write_npz(
        root / "truth" / plan.clip_id / "depth.npz",
        depth=clip.depth,
        K=intrinsics(plan),
        R=np.stack([c.R for c in clip.cameras]),
        t=np.stack([c.t for c in clip.cameras]),
        timestamps_us=np.array([c.timestamp_us for c in clip.cameras], dtype=np.int64),
    )


def _csv(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def _render_and_write(plan: ClipPlan, root: Path) -> str:
    write_clip(render_clip(plan), root)
    return plan.clip_id


def _listed_ids(path: Path) -> set[str] | None:
    """The clip ids in the first column of a CSV we wrote (None when it is missing or unreadable)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return {line.split(",")[0] for line in lines[1:] if line}


def check_own_sample(out: Path) -> None:
    """Refuse to replace anything ``sample-data`` did not write: ``--overwrite`` may delete only a sample dataset.

    The sample's manifest is its ``sample_truth.csv``. Every clip folder in ``clips/``, ``depth/`` and ``truth/``,
    and every row of ``splits.csv``, must be one of its clips; a folder of real clips, or a sample a user added
    clips to (``mannequin ingest``), is an InputError naming the first thing that is not the sample's.
    """
    manifest = out / "sample_truth.csv"
    ids = _listed_ids(manifest)
    rule = "not written by sample-data " + (
        f"(not in {manifest})" if ids is not None else f"({manifest}, the sample's manifest, is missing)"
    )
    rule += "; --overwrite only replaces a sample dataset: move it away or write the sample elsewhere"
    ids = ids or set()
    for name in ("clips", "depth", "truth"):
        folder = out / name
        if folder.exists() and not folder.is_dir():
            raise InputError(folder, rule, "not_sample")
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            if entry.name not in ids:
                raise InputError(entry, rule, "not_sample")
    if (out / "splits.csv").exists():
        rows = _listed_ids(out / "splits.csv")
        foreign = ["(unreadable)"] if rows is None else sorted(rows - ids)
        if foreign:
            raise InputError(out / "splits.csv", f"row {foreign[0]} is {rule}", "not_sample")
    if not manifest.exists():
        raise InputError(next(out / n for n in OUTPUTS if (out / n).exists()), rule, "not_sample")


def write_sample_data(
    out_dir: str | Path,
    n_clips: int = DEFAULT_CLIPS,
    seed: int = 0,
    width: int = DEFAULT_SIZE[0],
    height: int = DEFAULT_SIZE[1],
    frames: tuple[int, int] = DEFAULT_FRAMES,
    progress: bool = True,
    overwrite: bool = False,
    workers: int = 1,
    people: str = DEFAULT_PEOPLE,
    extra_unlabeled: int = 0,
    extra_labeled: int = 0,
) -> list[ClipPlan]:
    """Render and write the sample dataset into ``out_dir``; returns its plan (``extra_unlabeled`` and
    ``extra_labeled``: more clips after the ``n_clips`` planned ones, see :func:`~mannequin.sample.plan.make_plan`).

    Everything is staged in a hidden folder inside ``out_dir`` and moved into place at the end. Existing
    ``clips/``, ``depth/``, ``truth/`` or CSVs are an ``InputError`` unless ``overwrite``, which replaces them when
    they are a sample this command wrote (:func:`check_own_sample`); other files in ``out_dir`` are left alone.
    ``workers`` > 1 renders clips in parallel processes (same bytes).
    ``people`` is ``paper`` (the default: masks, walking people in labeled and every other test clip; see
    :func:`~mannequin.sample.plan.make_plan`) or ``frozen`` (no masks, every figure still).
    """
    from tqdm import tqdm

    out = Path(out_dir)
    plans = make_plan(
        n_clips,
        seed,
        width,
        height,
        frames,
        people=people,
        extra_unlabeled=extra_unlabeled,
        extra_labeled=extra_labeled,
    )
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not overwrite:
        raise InputError(out / existing[0], "already exists; pass --overwrite to replace the sample dataset", "exists")
    if existing:
        check_own_sample(out)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".sample-data.", dir=out))
    try:
        for name in ("clips", "depth", "truth"):
            (stage / name).mkdir()
        bar = tqdm(total=len(plans), desc="sample-data", unit="clip", file=sys.stderr, disable=not progress)
        with bar:
            if workers > 1:
                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                    for _ in pool.map(_render_and_write, plans, [stage] * len(plans)):
                        bar.update()
            else:
                for plan in plans:
                    _render_and_write(plan, stage)
                    bar.update()
        atomic_write_text(stage / "splits.csv", _csv("clip_id,split", [f"{p.clip_id},{p.split}" for p in plans]))
        with_people = people == "paper"  # the frozen data's truth keeps its columns and bytes
        header = "clip_id,defect,pose_scale" + (",people" if with_people else "")
        truth = [f"{p.clip_id},{p.defect},{p.pose_scale!r}" + (f",{p.people}" if with_people else "") for p in plans]
        atomic_write_text(stage / "sample_truth.csv", _csv(header, truth))
        for name in OUTPUTS:
            replace_path(stage / name, out / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return plans

"""Depth for every frame of one clip with a trained model folder: the library behind ``mannequin predict``.

Like the released Mannequin Challenge code's ``test_davis_videos.py``: a clip folder in (the data layout's
``video.mp4`` or ``frames/``, ``poses.txt`` optional, ``masks/`` optional), and out, in ``OUT``:

- ``<frame_index:06d>.png``: one 16-bit depth PNG per frame by the depth contract (value / 1000 = the model's
  unit: metres for a fine-tuned model on frames like its labels, :mod:`mannequin.inference.units`; 0 = no value,
  which includes depth beyond 65.535);
- ``preview.png``: a strip of up to :data:`PREVIEW_FRAMES` evenly spaced frames over their colour-mapped depth;
- ``predict.json``: the model, its inputs, the frames, where the poses and masks came from, and, with a ``flicker``
  measure given, how much the depth of static pixels changes between consecutive frames.

The frame index is the pose line where the clip has ``poses.txt`` (as for sensor depth and masks), else the
frame's position in the folder (video order or file-name order). An ``rgb+parallax`` model needs poses: the
clip's ``poses.txt``, or structure from motion through the curation pose resolver
(:func:`mannequin.curation.sfm_store.resolve_clip`, ``curate.poses`` and ``curate.sfm``); a clip without either is
one error line. Its parallax input is computed as the ``parallax`` stage computes it
(:func:`mannequin.curation.parallax.parallax_for_clip`, ``curate.mvs`` and ``curate.masks``: the clip's
``masks/`` where it has them, else the motion evidence of the sweep).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mannequin.atomic import atomic_dir, atomic_write_bytes, atomic_write_text
from mannequin.clips.depth_png import write_depth_png
from mannequin.errors import InputError, naming_a_full_disk, require_output_dir

PREVIEW_FRAMES = 8
PREVIEW_FILE = "preview.png"
INFO_FILE = "predict.json"


def check_format(model_dir: str | Path) -> dict[str, Any]:
    """``model.json`` of a model folder this mannequin reads; an older or newer ``format_version`` is an InputError."""
    from mannequin.learning.export import FORMAT_VERSION, META_NAME, read_meta

    meta = read_meta(model_dir)
    version = meta.get("format_version")
    path = Path(model_dir) / META_NAME
    if not isinstance(version, int) or version < FORMAT_VERSION:
        shown = "none" if version is None else repr(version)
        raise InputError(
            path,
            f"model folder from an older format (format_version {shown}; this mannequin reads {FORMAT_VERSION}):"
            " train or export it again",
            "old_model",
        )
    if version > FORMAT_VERSION:
        problem = f"format_version {version} is newer than this mannequin reads ({FORMAT_VERSION})"
        raise InputError(path, problem, "bad_model")
    return meta


@dataclass(frozen=True)
class ClipFrames:
    """The frames of a clip to predict, their indices, cameras (None without poses) and masks (None without)."""

    images: np.ndarray  # (N,H,W,3) uint8
    indices: list[int]
    cameras: list | None
    masks: np.ndarray | None
    poses: str  # given | sfm | none
    clip: Any = None  # the opened Clip, where the clip has poses


class _PoselessClip:
    """What :func:`mannequin.clips.masks.read_masks` needs of a clip that has no poses (frame order = index)."""

    def __init__(self, images: Any, clip_id: str) -> None:
        self.path, self.clip_id = images.path, clip_id
        self.width, self.height, self._n = images.width, images.height, len(images)

    def __len__(self) -> int:
        return self._n

    def output_size(self, max_width: int | None) -> tuple[int, int]:
        if max_width is None or max_width >= self.width:
            return self.width, self.height
        return max_width, max(1, round(self.height * max_width / self.width))


def read_clip(clip_dir: str | Path, needs_poses: bool, curate: Any, max_width: int | None) -> ClipFrames:
    """Every frame of ``clip_dir`` (at most ``max_width`` wide), with poses when ``needs_poses`` or given."""
    from mannequin.clips.clip import POSES_NAME, clip_id_of, open_clip
    from mannequin.clips.masks import read_masks
    from mannequin.curation.sfm_poses import open_images
    from mannequin.curation.sfm_store import resolve_clip

    clip_dir = Path(clip_dir)
    if needs_poses:
        if curate.poses == "given" and not (clip_dir / POSES_NAME).exists():
            problem = "an rgb+parallax model needs the clip's poses: no poses.txt (and curate.poses is given)"
            raise InputError(clip_dir / POSES_NAME, problem, "no_poses")
        try:
            resolved = resolve_clip(clip_dir, curate.poses, curate.sfm, None)
        except InputError as err:
            if err.code != "no_poses":
                raise
            raise InputError(
                clip_dir / POSES_NAME,
                f"an rgb+parallax model needs the clip's poses: no poses.txt, and structure from motion failed"
                f" ({err.problem})",
                "no_poses",
            ) from None
        clip, poses = resolved.clip, resolved.source
    elif (clip_dir / POSES_NAME).exists():
        clip, poses = open_clip(clip_dir), "given"
    else:
        images = open_images(clip_dir)
        order = list(range(len(images)))
        w, h = images.size_for(max_width or images.width)
        frames = np.empty((len(order), h, w, 3), np.uint8)
        for i, image in images.iter_frames(order, max_width or images.width):
            frames[i] = image
        masks = read_masks(_PoselessClip(images, clip_id_of(clip_dir)), order, max_width)
        return ClipFrames(frames, order, None, masks, "none")
    order = list(range(len(clip)))
    frames, cameras = clip.read_frames(order, max_width)
    return ClipFrames(frames, order, cameras, read_masks(clip, order, max_width), poses, clip)


def parallax_input(frames: ClipFrames, mask_params: Any, mvs: Any, max_width: int | None, device: str = "cpu") -> Any:
    """The parallax input of the frames (a ``ParallaxInput``: channels, masks and their source, depth in the poses'
    units), computed as the ``parallax`` stage does (:func:`mannequin.curation.parallax.parallax_for_clip`)."""
    from mannequin.curation.parallax import parallax_for_clip

    return parallax_for_clip(
        frames.clip, mask_params, mvs, frames.images, frames.cameras, frames.indices, max_width=max_width,
        device=device,
    )  # fmt: skip


def flicker_inputs(frames: ClipFrames, inputs: Any) -> dict[str, Any]:
    """What a temporal-consistency measure (``flicker`` of :func:`predict_clip_dir`, e.g.
    :func:`mannequin.evaluation.flicker.clip_flicker`) takes beside the depth: the frames, the masked pixels and,
    for an ``rgb+parallax`` model, the cameras and the parallax input's depth in the poses' units (the reference
    that lets it warp by the poses; an ``rgb`` model's depth has none, so it falls back to optical flow)."""
    if inputs is not None:
        return {"images": frames.images, "masks": inputs.mask, "cameras": frames.cameras, "reference": inputs.depth}
    return {"images": frames.images, "masks": frames.masks}


def depth_colours(depth: np.ndarray) -> np.ndarray:
    """(N,H,W) depth to (N,H,W,3) uint8 RGB: inverse depth over the clip's 2nd-98th percentile, near = bright."""
    inv = np.where(np.isfinite(depth) & (depth > 0), 1.0 / np.maximum(depth, 1e-9), np.nan)
    finite = inv[np.isfinite(inv)]
    lo, hi = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
    scaled = np.clip((np.nan_to_num(inv, nan=lo) - lo) / max(hi - lo, 1e-12), 0, 1)
    grey = np.round(scaled * 255).astype(np.uint8)
    out = np.stack([cv2.applyColorMap(g, cv2.COLORMAP_MAGMA)[..., ::-1] for g in grey])
    out[~np.isfinite(inv)] = 128
    return out


def preview_strip(images: np.ndarray, depth: np.ndarray, count: int = PREVIEW_FRAMES) -> np.ndarray:
    """Up to ``count`` evenly spaced frames in a row, their colour-mapped depth in a row below: (2H, kW, 3) RGB."""
    picks = np.unique(np.linspace(0, len(images) - 1, min(count, len(images))).round().astype(int))
    colours = depth_colours(depth[picks])
    return np.concatenate([np.concatenate(list(images[picks]), axis=1), np.concatenate(list(colours), axis=1)])


def predict_clip_dir(
    clip_dir: str | Path,
    model_dir: str | Path,
    out_dir: str | Path,
    *,
    curate: Any,
    max_width: int | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    flicker: Callable[..., dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Predict every frame of ``clip_dir`` with ``model_dir`` into ``out_dir``; returns what ``predict.json`` holds.

    ``curate`` is the ``CurateParams`` block (``poses``, ``sfm``, ``mvs``, and ``masks`` for an rgb+parallax model).
    ``flicker(depth, **flicker_inputs(...))``, where given, is recorded as ``flicker`` (the caller brings the
    measure: evaluation is not below inference).
    """
    from mannequin.inference.units import unit_fields
    from mannequin.learning.predict import DepthPredictor

    out_dir = check_predict_out(out_dir, clip_dir)
    check_format(model_dir)
    predictor = DepthPredictor.load(model_dir, device=device, batch_size=batch_size)
    frames = read_clip(clip_dir, predictor.needs_parallax, curate, max_width)
    inputs = parallax_input(frames, curate.masks, curate.mvs, max_width, device) if predictor.needs_parallax else None
    parallax = None if inputs is None else inputs.channels_last()
    depth = predictor.predict(frames.images, parallax=parallax)
    ok, preview = cv2.imencode(".png", cv2.cvtColor(preview_strip(frames.images, depth), cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(out_dir / PREVIEW_FILE, "could not encode the preview", "bad_output")
    info = {
        "model": Path(model_dir).name,
        "kind": predictor.meta.get("kind"),
        "inputs": predictor.inputs,
        **unit_fields(predictor.meta, int(frames.images.shape[2]), int(frames.images.shape[1])),
        "frames": len(frames.indices),
        "size": [int(frames.images.shape[2]), int(frames.images.shape[1])],
        "poses": frames.poses,
        "masks": inputs.mask_source if inputs is not None else "given" if frames.masks is not None else "none",
        "beyond_png_range": int(np.sum(depth > 65.535)),
    }
    if flicker is not None:
        info["flicker"] = flicker(depth, **flicker_inputs(frames, inputs))
    with naming_a_full_disk(out_dir), atomic_dir(out_dir) as tmp:  # the folder is replaced whole, or not at all
        for index, d in zip(frames.indices, depth, strict=True):
            write_depth_png(tmp / f"{index:06d}.png", d)
        atomic_write_bytes(tmp / PREVIEW_FILE, preview.tobytes())
        atomic_write_text(tmp / INFO_FILE, json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


def _data_folder(clip_dir: Path) -> Path | None:
    """The data folder a clip belongs to (``DATA/clips/<id>`` beside ``DATA/splits.csv``), or None."""
    if clip_dir.parent.name == "clips" and (clip_dir.parent.parent / "splits.csv").is_file():
        return clip_dir.parent.parent
    return None


def check_predict_out(out_dir: str | Path, clip_dir: str | Path) -> Path:
    """Refuse an output folder that would write into the input: inside the clip, the clip inside it, or inside
    the clip's data folder (DVC versions it); one under a file; and an existing folder that is neither empty nor
    an earlier ``predict`` output (one holds ``predict.json``): the output replaces the folder whole."""
    out, clip = require_output_dir(out_dir), Path(clip_dir)
    where, clip_at = out.resolve(), clip.resolve()
    data = _data_folder(clip_at)
    if where.is_relative_to(clip_at) or clip_at.is_relative_to(where):
        raise InputError(out, f"is {clip}'s own folder or holds it: predict writes its depth elsewhere", "bad_output")
    if data is not None and where.is_relative_to(data):
        problem = f"is inside the data folder {data} (versioned input): write predictions outside it"
        raise InputError(out, problem, "bad_output")
    if out.is_dir() and any(out.iterdir()) and not (out / INFO_FILE).is_file():
        problem = f"is not empty and holds no {INFO_FILE} (not an earlier predict output): choose a new or empty folder"
        raise InputError(out, problem, "bad_output")
    return out

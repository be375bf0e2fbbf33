"""The parallax inputs of labelled and test clips, stored once: ``<root>/<clip_id>.npz``.

Curated (accepted, unlabeled) clips carry their parallax input in their shard (:mod:`mannequin.curation.shards`);
the clips that curation never shards (``labeled`` clips, whose frames fine-tuning reads from ``data/``, and
``test`` clips, which evaluation reads) get theirs here, from the ``parallax`` stage (``mannequin parallax``), so
that neither fine-tuning nor evaluation computes a plane sweep.

One file per clip, written atomically (a compressed ``.npz`` with fixed entry times, so the same input gives the
same bytes; read with ``allow_pickle=False``):

    parallax    float16 (N,H,W)  log depth minus ``shift``, 0 where none
    confidence  float16 (N,H,W)  the sweep's confidence, 0 inside the mask
    mask        uint8   (N,H,W)  1 where something may move
    shift       float64 (N,)     median log depth (pose units) of the confident pixels
    depth       float32 (N,H,W)  the masked parallax depth in pose units, NaN where none (the raw baseline)
    source      int64   (N,)     the source frame of each row's sweep, -1 where none
    frames      int64   (N,)     the clip's frame index (pose line) of each row
    mask_source str              given | segmenter | motion | none
    format_version int64
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from mannequin.atomic import atomic_path
from mannequin.clips.ids import validate_clip_id
from mannequin.config.curate import CurateParams
from mannequin.config.masks import ParallaxParams
from mannequin.curation.parallax import ParallaxInput
from mannequin.errors import InputError

FORMAT_VERSION = 1
SUFFIX = ".npz"
#: estimated poses of the clips without ``poses.txt`` (:func:`mannequin.curation.sfm_store.resolve_clip`)
POSES_DIR = "poses"
_KEYS = ("parallax", "confidence", "mask", "shift", "depth", "source", "frames", "mask_source", "format_version")


def parallax_path(root: str | Path, clip_id: str) -> Path:
    """``root/<clip_id>.npz`` (the clip id is checked first, so the path stays inside ``root``)."""
    validate_clip_id(clip_id, root)
    return Path(root) / f"{clip_id}{SUFFIX}"


def write_parallax(root: str | Path, clip_id: str, inputs: ParallaxInput) -> Path:
    """Write one clip's parallax input to ``root/<clip_id>.npz`` atomically; returns the path.

    ``inputs.frames`` (the clip's frame index of each row) is required: readers look frames up by index.
    """
    path = parallax_path(root, clip_id)
    if inputs.frames is None or len(inputs.frames) != len(inputs.parallax):
        raise ValueError(f"{clip_id}: the parallax input needs the frame index of each of its rows")
    arrays = {
        "parallax": np.asarray(inputs.parallax, np.float16),
        "confidence": np.asarray(inputs.confidence, np.float16),
        "mask": np.asarray(inputs.mask, np.uint8),
        "shift": np.asarray(inputs.shift, np.float64),
        "depth": np.asarray(inputs.depth, np.float32),
        "source": np.asarray(inputs.source, np.int64),
        "frames": np.asarray(inputs.frames, np.int64),
        "mask_source": np.array(inputs.mask_source),
        "format_version": np.array(FORMAT_VERSION, np.int64),
    }
    with atomic_path(path) as tmp:
        _write_npz(tmp, arrays)
    return path


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with a fixed timestamp on every entry, so that the same arrays give the same bytes
    (the store is a DVC output)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)


def read_parallax(root: str | Path, clip_id: str) -> ParallaxInput | None:
    """One clip's stored parallax input (float32 arrays, bool mask), or ``None`` when it has none.

    A file that is not such an archive (unreadable, keys missing, shapes that disagree, a newer format) is an
    :class:`InputError` naming it.
    """
    path = parallax_path(root, clip_id)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                raise InputError(path, f"not a parallax input: no {missing[0]!r} array", "bad_parallax")
            data = {k: z[k] for k in _KEYS}
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(path, f"not a readable parallax archive ({type(exc).__name__})", "bad_parallax") from None
    version = int(data["format_version"])
    if version > FORMAT_VERSION:
        raise InputError(path, f"parallax format {version} is newer than this mannequin reads", "bad_parallax")
    n_hw = data["parallax"].shape
    if len(n_hw) != 3:
        raise InputError(path, f"parallax must be (N, H, W), got shape {n_hw}", "bad_parallax")
    for key in ("confidence", "mask", "depth"):
        if data[key].shape != n_hw:
            raise InputError(path, f"{key} is {data[key].shape} but parallax is {n_hw}", "bad_parallax")
    for key in ("shift", "source", "frames"):
        if data[key].shape != n_hw[:1]:
            raise InputError(path, f"{key} has {data[key].shape} entries for {n_hw[0]} frames", "bad_parallax")
    return ParallaxInput(
        data["parallax"].astype(np.float32),
        data["confidence"].astype(np.float32),
        data["mask"] > 0,
        data["shift"].astype(np.float64),
        data["depth"].astype(np.float32),
        data["source"].astype(np.int64),
        data["frames"].astype(np.int64),
        str(data["mask_source"]),
    )


INDEX_NAME = "index.json"
#: the splits whose clips get their parallax input here (curated clips carry theirs in their shards)
STORED_SPLITS = ("labeled", "test")


def clip_parallax_input(clip_dir: str | Path, curate: CurateParams, poses_store: str | Path | None) -> ParallaxInput:
    """The parallax input of every frame of one clip, with its poses from the pose resolver of curation.

    Frames are read at ``curate.max_width``; ``frames`` holds each row's frame index (the pose line for given poses,
    the frame file's index for poses from SfM), as sensor depth and masks are indexed.
    """
    from mannequin.curation.parallax import parallax_for_clip
    from mannequin.curation.sfm_store import resolve_clip

    resolved = resolve_clip(clip_dir, curate.poses, curate.sfm, poses_store)
    clip = resolved.clip
    indices = list(range(len(clip)))
    images, cameras = clip.read_frames(indices, max_width=curate.max_width)
    frames = clip.source_indices if resolved.source == "sfm" else indices
    return parallax_for_clip(
        clip, curate.masks, curate.mvs, images, cameras, indices, frames, max_width=curate.max_width,
        device=curate.device,
    )  # fmt: skip


def store_parallax(
    curate: CurateParams,
    params: ParallaxParams,
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict:
    """Write the parallax input of every ``labeled`` and ``test`` clip of ``params.data`` under ``params.out``.

    A clip that cannot be read or has no poses is left out with a warning (``warn``) and its reason in
    ``index.json``; the others go on. Files of clips no longer listed are removed. Clips run in ``curate.workers``
    threads; the outputs do not depend on it. Returns the index.
    """
    from mannequin.clips.splits import read_splits
    from mannequin.curation.curate import warn_line
    from mannequin.curation.table import write_json

    warn = warn or warn_line
    data, out = Path(params.data), Path(params.out)
    splits = read_splits(data)
    wanted = sorted(c for c, s in splits.items() if s in STORED_SPLITS)
    out.mkdir(parents=True, exist_ok=True)
    stored: dict[str, dict] = {}
    skipped: dict[str, str] = {}

    def one(clip_id: str) -> tuple[str, dict | InputError]:
        clip_dir = data / "clips" / clip_id
        try:
            validate_clip_id(clip_id, data / "splits.csv")
            if not clip_dir.is_dir():
                raise InputError(clip_dir, "listed in splits.csv but the folder does not exist", "missing_clip")
            inputs = clip_parallax_input(clip_dir, curate, out / POSES_DIR)
            write_parallax(out, clip_id, inputs)
        except InputError as err:
            return clip_id, err
        entry = {"split": splits[clip_id], "frames": len(inputs), "mask_source": inputs.mask_source,
                 "no_source": int((inputs.source < 0).sum())}  # fmt: skip
        return clip_id, entry

    # clips in threads (curate.workers): the sweep's numba kernels release the GIL
    with ThreadPoolExecutor(max_workers=max(1, curate.workers)) as pool:
        for clip_id, result in pool.map(one, wanted):
            if isinstance(result, InputError):
                skipped[clip_id] = str(result)
                warn(f"{result}; no parallax input for clip {clip_id}")
            else:
                stored[clip_id] = result
            if progress is not None:
                progress(clip_id)
    for old in sorted(out.glob(f"*{SUFFIX}")):
        if old.name[: -len(SUFFIX)] not in stored:
            old.unlink()
    index = {"format_version": FORMAT_VERSION, "clips": stored, "skipped": skipped}
    write_json(out / INDEX_NAME, index)
    return index

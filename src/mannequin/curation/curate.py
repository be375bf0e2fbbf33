"""Curation of one clip, and of a dataset, as plain functions (the Prefect flow only wraps these).

One clip: open → (test split? skip) → pose sanity → read ``max_frames`` evenly spread frames at
``max_width`` → sharpness → MVS depth and confidence → parallax, static-scene and coverage scores
→ decision → shard for an accepted clip. Every ``InputError`` a reader or the MVS raises becomes a
rejected row carrying the error's code; nothing about one clip can stop the others.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mannequin.clips.clip import clip_id_of
from mannequin.clips.ids import validate_clip_id
from mannequin.config.curate import CurateParams
from mannequin.curation import decisions as rules
from mannequin.curation.overrides import FORCE_ACCEPT, FORCE_REJECT, Override, Overrides, read_overrides
from mannequin.curation.quality import clip_sharpness, depth_scores, even_indices, pose_scores
from mannequin.curation.reuse import copy_shard, find_reusable, shard_scores
from mannequin.curation.shards import SHARDS_DIR, write_shard
from mannequin.curation.table import ClipRow
from mannequin.errors import InputError

# Keys of ``curate`` that change no clip's result (where and how the work runs).
_EXECUTION_KEYS = {"data", "out", "overrides", "reuse", "runner", "workers", "dask_address", "retries", "retry_delay_s"}
# ...and those that change only the accept/reject decision, not a clip's scores or shard.
_DECISION_KEYS = {"accept_all"}
_CODE_PACKAGES = ("clips", "curation")


@dataclass(frozen=True)
class ClipJob:
    """Everything that decides one clip's result; hashable, so it makes a sound cache key."""

    clip_id: str
    clip_dir: str
    split: str  # "" when splits.csv does not list the clip
    fingerprint: str  # content hash of every file in the clip folder
    override: str = ""  # "", FORCE_ACCEPT or FORCE_REJECT
    override_note: str = ""

    def cache_key(self, params_digest: str, code_version: str) -> str:
        parts = [
            self.clip_id,
            self.split,
            self.fingerprint,
            self.override,
            self.override_note,
            params_digest,
            code_version,
        ]
        return f"curate-{self.clip_id}-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _params_json(params: CurateParams, exclude: set[str]) -> str:
    return json.dumps(params.model_dump(mode="json", exclude=exclude), sort_keys=True)


def params_digest(params: CurateParams) -> str:
    """Digest of the curate params that can change a clip's result."""
    return hashlib.sha256(_params_json(params, _EXECUTION_KEYS).encode()).hexdigest()[:16]


def source_key(job: ClipJob, params: CurateParams, code: str) -> str:
    """Key of a clip's scores and shard: its content and split, the params that change them, the code version."""
    parts = [job.clip_id, job.split, job.fingerprint, _params_json(params, _EXECUTION_KEYS | _DECISION_KEYS), code]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def code_version() -> str:
    """Digest of the package version and the source of the clip-reading and curation code."""
    import mannequin

    digest = hashlib.sha256(mannequin.__version__.encode())
    root = Path(mannequin.__file__).parent
    for pkg in _CODE_PACKAGES:
        for f in sorted((root / pkg).glob("*.py")):
            digest.update(f"{pkg}/{f.name}\0".encode() + f.read_bytes())
    return digest.hexdigest()[:16]


def folder_fingerprint(folder: str | Path) -> str:
    """sha256 over the relative names, sizes and bytes of every file under ``folder`` (readable or not as a clip)."""
    folder = Path(folder)
    digest = hashlib.sha256(b"mannequin-clip-folder-v1\0")
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = f.relative_to(folder).as_posix()
        digest.update(f"{rel}\0{f.stat().st_size}\0".encode())
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def plan_curation(data_dir: str | Path, params: CurateParams) -> tuple[list[ClipJob], Overrides]:
    """One job per clip folder in ``data_dir/clips``, with its split, content hash and override."""
    from mannequin.clips.splits import list_clip_dirs, read_splits

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(data_dir, "data folder not found", "missing_data")
    clip_dirs = list_clip_dirs(data_dir)
    splits = read_splits(data_dir)
    overrides = read_overrides(params.overrides)
    jobs = []
    for clip_dir in clip_dirs:
        clip_id = clip_id_of(clip_dir)
        split = splits.get(clip_id, "")
        ov = overrides.get(clip_id)
        if ov is None and params.accept_all and split != "test":
            ov = Override(FORCE_ACCEPT, "curate.accept_all (curation ablation)")
        if ov is not None and ov.action == FORCE_ACCEPT and split == "test":
            raise InputError(
                params.overrides, f"force_accept of {clip_id}: test clips never reach training", "bad_overrides"
            )
        jobs.append(
            ClipJob(
                clip_id,
                str(clip_dir),
                split,
                folder_fingerprint(clip_dir),
                ov.action if ov else "",
                ov.note if ov else "",
            )
        )
    return jobs, overrides


def _problem(err: InputError, clip_dir: Path) -> str:
    """The error message, its path made relative to the clips folder (tables must not depend on where data lives)."""
    if err.path is None:
        return err.problem
    try:
        rel = Path(err.path).resolve().relative_to(clip_dir.resolve().parent).as_posix()
    except ValueError:
        rel = Path(err.path).name
    return f"{rel}: {err.problem}"


def _finish(row: ClipRow, reason: rules.Reason | None, job: ClipJob) -> ClipRow:
    """Apply the automatic decision, then the human override."""
    row.auto_reason = str(reason) if reason else ""
    row.accepted = reason is None
    row.reason = row.auto_reason
    if job.override == FORCE_REJECT:
        row.override = str(Override(FORCE_REJECT, job.override_note))
        row.accepted = False
        row.reason = f"override_reject: {job.override_note or 'rejected by a person'}"
    elif job.override == FORCE_ACCEPT:
        row.override = str(Override(FORCE_ACCEPT, job.override_note))
    return row


def _decide(row: ClipRow, reason: rules.Reason | None, job: ClipJob) -> ClipRow:
    """The decision of a fully scored clip: automatic, then the override (a forced accept wins over any reason)."""
    _finish(row, reason, job)
    if job.override == FORCE_ACCEPT:
        row.accepted, row.reason = True, ""
    return row


def curate_clip(
    job: ClipJob, params: CurateParams, out_dir: str | Path, device: str | None = None, code: str | None = None
) -> ClipRow:
    """Curate one clip: scores, decision, and the shard of an accepted clip under ``out_dir/shards``.

    ``code`` is :func:`code_version`, computed once per run by the caller (else here, per clip).
    """
    clip_dir = Path(job.clip_dir)
    row = ClipRow(clip_id=job.clip_id, split=job.split)
    q = params.quality
    forced_in = job.override == FORCE_ACCEPT
    try:
        validate_clip_id(job.clip_id, clip_dir)
    except InputError as err:
        return _finish(row, rules.Reason(err.code, _problem(err, clip_dir)), job)
    if job.split == "test":
        row.reason = row.auto_reason = str(
            rules.Reason(rules.HELD_OUT_TEST, "test clips are never curated for training")
        )
        return row
    if not job.split:
        reason = rules.Reason(rules.MISSING_SPLIT, "the clip is not listed in splits.csv, so it may be a test clip")
        row.reason = row.auto_reason = str(reason)
        return row
    key = source_key(job, params, code or code_version())
    if params.reuse:
        found = find_reusable(params.reuse, job.clip_id, key)
        if found is not None:
            src, scores = found
            auto = rules.Reason(*scores.auto_reason.split(": ", 1)) if scores.auto_reason else None
            row = _decide(scores, auto, job)
            if row.accepted:
                copy_shard(src, out_dir)
                return row
    first: rules.Reason | None = None
    try:
        from mannequin.curation.sfm_store import POSES_DIR, resolve_clip

        resolved = resolve_clip(clip_dir, params.poses, params.sfm, Path(out_dir) / POSES_DIR)
        clip = resolved.clip
        if resolved.stats is not None:
            s = resolved.stats
            row.sfm_registered, row.sfm_points = s.registered_fraction, s.points
            row.sfm_reprojection_px, row.sfm_focal = s.reprojection_error_px, s.focal
        row.num_frames = len(clip)
        first = rules.frame_count_reason(len(clip), q)
        if first is not None and (not forced_in or len(clip) < 2):
            return _finish(row, first, job)
        ps = pose_scores(clip.cameras)
        row.pose_jump, row.translation, row.rotation_deg = ps.pose_jump, ps.translation, ps.rotation_deg
        first = first or rules.pose_reason(ps, q)
        if first is not None and not forced_in:
            return _finish(row, first, job)
        indices = even_indices(len(clip), params.max_frames)
        images, cameras = clip.read_frames(indices, max_width=params.max_width)
        row.frames_used = len(indices)
        row.sharpness = clip_sharpness(images)
        first = first or rules.sharpness_reason(row.sharpness, q)
        if first is not None and not forced_in:
            return _finish(row, first, job)
        from mannequin.curation.mvs import clip_depth

        result = clip_depth(images, cameras, params.mvs, device=device or params.device)
        scores = depth_scores(
            result.depth, result.median_angle_deg, result.inconsistent_fraction, result.disagreement_fraction
        )
        row.parallax_deg = scores["parallax_deg"]
        row.inconsistent_fraction = scores["inconsistent_fraction"]
        row.disagreement_fraction = scores["disagreement_fraction"]
        row.coverage = scores["coverage"]
        if scores["coverage"] > 0:
            from mannequin.curation.motion import motion_fraction

            scores["motion_fraction"] = row.motion_fraction = motion_fraction(result.depth, images, cameras)
        first = first or rules.depth_reason(scores, q)
        # frames with almost no confident depth carry no targets: they stay out of the shard
        keep = np.isfinite(result.depth).mean(axis=(1, 2)) >= params.gates.min_frame_coverage
        first = first or rules.frames_kept_reason(int(keep.sum()), len(keep), params.gates.min_frame_coverage, q)
    except InputError as err:
        row.frames_used = 0
        return _finish(row, rules.Reason(err.code, _problem(err, clip_dir)), job)
    _decide(row, first, job)
    if row.accepted and not keep.any():
        _finish(row, rules.Reason("low_coverage", "no frame has confident depth"), job)
    if row.accepted:
        row.frames_used = int(keep.sum())
        kept = np.flatnonzero(keep)
        write_shard(
            out_dir,
            job.clip_id,
            images[kept],
            result.depth[kept],
            result.confidence[kept],
            [cameras[i] for i in kept],
            [indices[i] for i in kept],
            provenance={"source_key": key, "scores": shard_scores(row)},
        )
    return row


def shard_present(out_dir: str | Path, clip_id: str) -> bool:
    """Whether a complete shard of ``clip_id`` exists (``meta.json`` is written last)."""
    return (Path(out_dir) / SHARDS_DIR / clip_id / "meta.json").is_file()


def error_row(job: ClipJob, error: BaseException | str) -> ClipRow:
    """The row of a clip whose curation raised an unexpected error even after retries."""
    message = " ".join(str(error).split())[:300] or type(error).__name__
    reason = rules.Reason(
        rules.CURATION_ERROR, f"{type(error).__name__}: {message}" if isinstance(error, BaseException) else message
    )
    return ClipRow(clip_id=job.clip_id, split=job.split, reason=str(reason), auto_reason=str(reason))


@dataclass(frozen=True)
class CurationOutcome:
    """What a curation run wrote: the rows, the summary, and the gate results."""

    rows: list[ClipRow]
    summary: dict
    gates: list  # list[mannequin.curation.gates.GateResult]

    @property
    def passed(self) -> bool:
        return all(g.success for g in self.gates)


def write_outputs(
    out_dir: str | Path,
    rows: list[ClipRow],
    params: CurateParams,
    unknown_overrides: list[str] | None = None,
    timings: dict | None = None,
    run_gates: bool = True,
) -> CurationOutcome:
    """Write ``clips.csv``, ``summary.json``, ``timings.json``, drop stale shards, then run the gates.

    The table and the summary are written before the gates run, so a failed gate leaves them for
    inspection (the stage still fails).
    """
    from mannequin.curation.shards import remove_stale_shards
    from mannequin.curation.table import summarize, write_clip_table, write_json

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    removed = remove_stale_shards(out_dir, keep={r.clip_id for r in rows if r.accepted})
    write_clip_table(out_dir / "clips.csv", rows)
    summary = summarize(rows, {"unknown_override_ids": sorted(unknown_overrides or [])})
    write_json(out_dir / "summary.json", summary)
    write_json(out_dir / "timings.json", {**(timings or {}), "stale_shards_removed": sorted(removed)})
    gates = []
    if run_gates:
        from mannequin.curation.gates import run_gates as run_all_gates

        gates = run_all_gates(out_dir, rows, params.gates)
    return CurationOutcome(rows, summary, gates)


def curate_dataset(
    data_dir: str | Path, out_dir: str | Path, params: CurateParams, progress=None, run_gates: bool = True
) -> CurationOutcome:
    """Curate every clip one after the other, without Prefect (debugging, tests, ``--runner serial``)."""
    import time

    start = time.perf_counter()
    jobs, overrides = plan_curation(data_dir, params)
    code = code_version()
    rows, per_clip = [], {}
    for job in jobs:
        t0 = time.perf_counter()
        rows.append(curate_clip(job, params, out_dir, code=code))
        per_clip[job.clip_id] = round(time.perf_counter() - t0, 3)
        if progress is not None:
            progress(job.clip_id)
    wall = time.perf_counter() - start
    timings = {
        "runner": "serial",
        "wall_s": round(wall, 3),
        "clips_per_s": round(len(jobs) / wall, 4) if wall else 0,
        "clip_s": per_clip,
    }
    unknown = overrides.unknown({j.clip_id for j in jobs})
    return write_outputs(out_dir, rows, params, unknown, timings, run_gates=run_gates)

"""Curation of one clip, and of a dataset, as plain functions (the Prefect flow only wraps these).

One clip: (test split? skip) → the stages of :mod:`mannequin.curation.stages` (open, poses, the frames read
at ``max_width``, MVS depth and confidence), each followed by its rules (:mod:`mannequin.curation.rules`)
→ decision → shard for an accepted clip. Every ``InputError`` a reader or the MVS raises becomes a
rejected row carrying the error's code; nothing about one clip can stop the others.

A dataset: :func:`curate_jobs` is the one loop of every runner; it takes a "map over jobs" callable, serial
here (:func:`serial_map`) or Prefect tasks (:mod:`mannequin.stages.curate_flow`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mannequin.clips.clip import clip_id_of, folder_fingerprint
from mannequin.clips.ids import is_valid_clip_id, validate_clip_id
from mannequin.config.curate import CurateParams
from mannequin.curation import decisions
from mannequin.curation.overrides import FORCE_ACCEPT, FORCE_REJECT, Override, Overrides, read_overrides
from mannequin.curation.parallax import ParallaxInput, parallax_for_clip
from mannequin.curation.reuse import copy_shard, find_reusable, shard_scores
from mannequin.curation.rules import DEFAULT, Registry
from mannequin.curation.sfm_store import POSES_DIR
from mannequin.curation.shards import SHARDS_DIR, naming_a_full_disk, write_shard
from mannequin.curation.stages import ClipState, run_stage
from mannequin.curation.table import ClipRow
from mannequin.errors import InputError, warn

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
    """The params that decide a clip's result, as text; with ``masks.source: auto`` also whether the person
    segmenter's model is installed (``auto`` uses it on clips without ``masks/`` where it is)."""
    text = json.dumps(params.model_dump(mode="json", exclude=exclude), sort_keys=True)
    if params.masks.source == "auto":
        from mannequin.curation.segmenter_model import is_installed

        text += f"\0segmenter installed: {is_installed()}"
    return text


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


warn_line = warn  # a warning on one line of stderr (what a run goes on after)


def plan_curation(
    data_dir: str | Path, params: CurateParams, warn: Callable[[str], None] = warn_line
) -> tuple[list[ClipJob], Overrides]:
    """One job per clip folder in ``data_dir/clips``, with its split, content hash and override.

    No clip folder at all is an error; a ``splits.csv`` row whose clip has no folder is a warning (``warn``),
    so the rest of the batch goes on.
    """
    from mannequin.clips.splits import CLIPS_NAME, SPLITS_NAME, list_clip_dirs, read_splits, require_data_dir

    data_dir = require_data_dir(data_dir)
    clip_dirs = list_clip_dirs(data_dir)
    if not clip_dirs:
        raise InputError(data_dir / CLIPS_NAME, "no clip folders: nothing to curate", "no_clips")
    splits = read_splits(data_dir)
    folders = {clip_id_of(d) for d in clip_dirs}
    for clip_id in sorted(set(splits) - folders):
        warn(
            f"{data_dir / SPLITS_NAME}: clip {clip_id!r} is listed but {data_dir / CLIPS_NAME / clip_id} does not exist"
        )
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
                _fingerprint(clip_dir),
                ov.action if ov else "",
                ov.note if ov else "",
            )
        )
    return jobs, overrides


def check_inside_data(clip_dir: Path) -> None:
    """Refuse a clip folder (``DATA/clips/<id>``) that is a symbolic link to somewhere outside ``DATA``: curation
    reads only what the data folder holds (what DVC versions, and no path that leaves it)."""
    data = clip_dir.parent.parent.resolve()
    target = clip_dir.resolve()
    if clip_dir.is_symlink() and not target.is_relative_to(data):
        raise InputError(
            clip_dir,
            f"is a symbolic link to {target}, outside the data folder: copy the clip into it",
            "outside_data",
        )


def _fingerprint(clip_dir: Path) -> str:
    """The content hash of a clip folder; a link out of the data folder is not read (its target names it)."""
    try:
        check_inside_data(clip_dir)
    except InputError:
        return "outside:" + str(clip_dir.resolve())
    return folder_fingerprint(clip_dir)


def _problem(err: InputError, clip_dir: Path) -> str:
    """The error message, its path made relative to the clips folder (tables must not depend on where data lives)."""
    if err.path is None:
        return err.problem
    try:
        rel = Path(err.path).resolve().relative_to(clip_dir.resolve().parent).as_posix()
    except ValueError:
        rel = Path(err.path).name
    return f"{rel}: {err.problem}"


def _finish(row: ClipRow, reason: decisions.Reason | None, job: ClipJob) -> ClipRow:
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


def _decide(row: ClipRow, reason: decisions.Reason | None, job: ClipJob) -> ClipRow:
    """The decision of a fully scored clip: automatic, then the override (a forced accept wins over any reason)."""
    _finish(row, reason, job)
    if job.override == FORCE_ACCEPT:
        row.accepted, row.reason = True, ""
    return row


def curate_clip(
    job: ClipJob,
    params: CurateParams,
    out_dir: str | Path,
    device: str | None = None,
    code: str | None = None,
    registry: Registry = DEFAULT,
) -> ClipRow:
    """Curate one clip: its stages and their rules, the decision, and the shard of an accepted clip.

    The shard goes under ``out_dir/shards``. ``code`` is :func:`code_version`, computed once per run by the
    caller (else here, per clip). ``registry`` holds the scores and rules (:mod:`mannequin.curation.rules`).
    """
    clip_dir = Path(job.clip_dir)
    row = ClipRow(clip_id=job.clip_id, split=job.split)
    forced_in = job.override == FORCE_ACCEPT
    try:
        validate_clip_id(job.clip_id, clip_dir)
        check_inside_data(clip_dir)
    except InputError as err:
        return _finish(row, decisions.Reason(err.code, _problem(err, clip_dir)), job)
    if job.split == "test":
        reason = decisions.Reason(decisions.HELD_OUT_TEST, "test clips are never curated for training")
        row.reason = row.auto_reason = str(reason)
        return row
    if not job.split:
        reason = decisions.Reason(
            decisions.MISSING_SPLIT, "the clip is not listed in splits.csv, so it may be a test clip"
        )
        row.reason = row.auto_reason = str(reason)
        return row
    key = source_key(job, params, code or code_version())
    if params.reuse:
        found = find_reusable(params.reuse, job.clip_id, key)
        if found is not None:
            src, scores = found
            auto = decisions.Reason(*scores.auto_reason.split(": ", 1)) if scores.auto_reason else None
            row = _decide(scores, auto, job)
            if row.accepted:
                copy_shard(src, out_dir)
                return row
    state = ClipState(clip_dir, params, device or params.device, poses_store=Path(out_dir) / POSES_DIR)
    values: dict = {}
    first: decisions.Reason | None = None
    try:
        for stage in registry.stages:
            produced = run_stage(stage, state, registry)
            values.update(produced)
            for name in ("num_frames", "frames_used"):
                if name in produced:
                    setattr(row, name, produced[name])
            row.scores.update({s.name: values.get(s.name) for s in registry.stage_scores(stage)})
            found = registry.first_failure(stage, values, params.quality) if first is None else None
            if found is not None:
                rule, first = found
                if not forced_in or (rule.binds_forced is not None and rule.binds_forced(values)):
                    return _finish(row, first, job)
    except InputError as err:
        row.frames_used = 0
        return _finish(row, decisions.Reason(err.code, _problem(err, clip_dir)), job)
    _decide(row, first, job)
    keep = state.keep
    if row.accepted and not keep.any():
        _finish(row, decisions.Reason("low_coverage", "no frame has confident depth"), job)
    if row.accepted:
        row.frames_used = int(keep.sum())
        kept = np.flatnonzero(keep)
        try:
            parallax = shard_parallax(state).take(kept)
        except InputError as err:  # e.g. a malformed masks/ folder: the clip is rejected with the file named
            row.accepted, row.frames_used = False, 0
            row.reason = str(decisions.Reason(err.code, _problem(err, clip_dir)))
            return row
        write_shard(
            out_dir,
            job.clip_id,
            state.images[kept],
            state.depth.depth[kept],
            state.depth.confidence[kept],
            [state.cameras[i] for i in kept],
            [state.indices[i] for i in kept],
            provenance={"source_key": key, "scores": shard_scores(row)},
            parallax=parallax,
        )
    return row


def shard_parallax(state: ClipState) -> ParallaxInput:
    """The parallax input of every frame curation read (computed once, stored in the shard): its sweep
    (:func:`~mannequin.curation.parallax.sweep_params`), masked by the clip's ``masks/`` or by the motion
    evidence of curation's own MVS depth (``curate.masks``)."""
    p = state.params
    assert state.clip is not None and state.images is not None and state.cameras is not None
    assert state.indices is not None and state.depth is not None
    return parallax_for_clip(
        state.clip, p.masks, p.mvs, state.images, state.cameras, state.indices, mvs_depth=state.depth.depth,
        max_width=p.max_width, device=state.device,
    )  # fmt: skip


def shard_present(out_dir: str | Path, clip_id: str) -> bool:
    """Whether a complete shard of ``clip_id`` exists (``meta.json`` is written last)."""
    return (Path(out_dir) / SHARDS_DIR / clip_id / "meta.json").is_file()


def error_row(job: ClipJob, error: BaseException | str) -> ClipRow:
    """The row of a clip whose curation raised an unexpected error even after retries."""
    message = " ".join(str(error).split())[:300] or type(error).__name__
    reason = decisions.Reason(
        decisions.CURATION_ERROR, f"{type(error).__name__}: {message}" if isinstance(error, BaseException) else message
    )
    return ClipRow(clip_id=job.clip_id, split=job.split, reason=str(reason), auto_reason=str(reason))


@dataclass(frozen=True)
class CurationOutcome:
    """What a curation run wrote: the rows, the summary, the gate results and the timings."""

    rows: list[ClipRow]
    summary: dict
    gates: list  # list[mannequin.curation.gates.GateResult]
    timings: dict = field(default_factory=dict)

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
    registry: Registry = DEFAULT,
) -> CurationOutcome:
    """Write ``clips.csv``, ``summary.json``, ``timings.json``, drop stale shards, then run the gates.

    The table and the summary are written before the gates run, so a failed gate leaves them for
    inspection (the stage still fails).
    """
    from mannequin.curation.shards import remove_stale_shards
    from mannequin.curation.table import summarize, write_clip_table, write_json

    out_dir = Path(out_dir)
    with naming_a_full_disk(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / POSES_DIR).mkdir(exist_ok=True)  # a DVC output of the stage, also when no clip needed SfM
        removed = remove_stale_shards(out_dir, keep={r.clip_id for r in rows if r.accepted})
        write_clip_table(out_dir / "clips.csv", rows, registry)
        summary = summarize(rows, {"unknown_override_ids": sorted(unknown_overrides or [])})
        write_json(out_dir / "summary.json", summary)
        write_json(out_dir / "timings.json", {**(timings or {}), "stale_shards_removed": sorted(removed)})
    gates = []
    if run_gates:
        from mannequin.curation.gates import accepted_share_warning
        from mannequin.curation.gates import run_gates as run_all_gates

        gates = run_all_gates(out_dir, rows, params.gates, registry)
        warning = accepted_share_warning(summary, params.gates)
        if warning:
            warn_line(warning)
    return CurationOutcome(rows, summary, gates, timings or {})


@dataclass(frozen=True)
class ClipResult:
    """One clip's row, whether it was ``executed``, ``cached`` or ``failed``, its seconds and its process."""

    row: ClipRow
    origin: str
    seconds: float | None = None
    pid: int | None = None


# Runs clip jobs (``refresh``: recompute, ignoring any cache) and yields each job with its result, in any order.
MapJobs = Callable[[list[ClipJob], bool], Iterable[tuple[ClipJob, ClipResult]]]


def serial_map(params: CurateParams, out_dir: str | Path, code: str, registry: Registry = DEFAULT) -> MapJobs:
    """Curate the jobs one after the other in this process (no cache, errors are raised)."""

    def run(jobs: list[ClipJob], refresh: bool) -> Iterator[tuple[ClipJob, ClipResult]]:
        for job in jobs:
            t0 = time.perf_counter()
            row = curate_clip(job, params, out_dir, code=code, registry=registry)
            yield job, ClipResult(row, "executed", round(time.perf_counter() - t0, 3), os.getpid())

    return run


def curate_jobs(
    jobs: list[ClipJob],
    overrides: Overrides,
    out_dir: str | Path,
    params: CurateParams,
    map_jobs: MapJobs,
    runner: str,
    progress: Callable[[str], None] | None = None,
    run_gates: bool = True,
    registry: Registry = DEFAULT,
    started: float | None = None,
) -> CurationOutcome:
    """The curate loop of every runner: map the jobs, recompute accepted clips whose shard is missing, write.

    ``map_jobs`` decides where and how clips run (:func:`serial_map`, or the Prefect tasks of
    :mod:`mannequin.stages.curate_flow`); ``progress(clip_id)`` is called as each clip of the first pass finishes.
    ``started`` is the ``time.perf_counter()`` of the run's start, planning included (default: now), for
    ``timings.json``.
    """
    start = time.perf_counter() if started is None else started
    results: dict[str, ClipResult] = {}
    # a folder whose name is no clip id is one row, decided here: it never reaches a runner's cache keys or tasks
    for job in jobs:
        if not is_valid_clip_id(job.clip_id):
            row = curate_clip(job, params, out_dir, code="-", registry=registry)  # returns at the id check
            results[job.clip_id] = ClipResult(row, "executed")
            if progress is not None:
                progress(job.clip_id)
    for job, result in map_jobs([j for j in jobs if j.clip_id not in results], False):
        results[job.clip_id] = result
        if progress is not None:
            progress(job.clip_id)
    missing = [j for j in jobs if results[j.clip_id].row.accepted and not shard_present(out_dir, j.clip_id)]
    for job, result in map_jobs(missing, True) if missing else ():
        results[job.clip_id] = result
    ordered = [results[j.clip_id] for j in jobs]
    origins = [r.origin for r in ordered]
    pids = {r.pid for r in ordered if r.origin == "executed"}
    wall = time.perf_counter() - start
    timings = {
        "runner": runner,
        "workers": 1 if runner == "serial" else params.workers,
        "wall_s": round(wall, 3),
        "clips": len(jobs),
        "clips_per_s": round(len(jobs) / wall, 4) if wall > 0 else 0.0,
        "executed": origins.count("executed"),
        "cached": origins.count("cached"),
        "failed": origins.count("failed"),
        "worker_processes": len(pids),
        "ran_in_flow_process": os.getpid() in pids,
        "clip_s": {j.clip_id: r.seconds for j, r in zip(jobs, ordered, strict=True) if r.origin == "executed"},
    }
    unknown = overrides.unknown({j.clip_id for j in jobs})
    clips_dir = Path(jobs[0].clip_dir).parent if jobs else None
    for clip_id in unknown:
        warn(f"{params.overrides}: {clip_id} matches no clip folder in {clips_dir} (its override is ignored)")
    rows = [r.row for r in ordered]
    return write_outputs(out_dir, rows, params, unknown, timings, run_gates=run_gates, registry=registry)


def curate_dataset(
    data_dir: str | Path,
    out_dir: str | Path,
    params: CurateParams,
    progress: Callable[[str], None] | None = None,
    run_gates: bool = True,
    registry: Registry = DEFAULT,
) -> CurationOutcome:
    """Curate every clip one after the other, without Prefect (debugging, tests, ``--runner serial``)."""
    started = time.perf_counter()
    jobs, overrides = plan_curation(data_dir, params)
    map_jobs = serial_map(params, out_dir, code_version(), registry)
    return curate_jobs(jobs, overrides, out_dir, params, map_jobs, "serial", progress, run_gates, registry, started)

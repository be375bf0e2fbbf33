"""Commands for real footage: ``poses`` (structure from motion for one clip) and ``ingest`` (videos into clips)."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, user_errors
from mannequin.errors import InputError


def _curate_params(params_path: Path | None, overrides: dict):
    """The curate block of ``params_path`` (defaults without one: this command is a tool, not a stage)."""
    from mannequin.stages.params import load_params

    return load_params(params_path, overrides, missing_ok=False).curate


@app.command()
@user_errors
def poses(
    clip_dir: Path = typer.Argument(..., help="A clip folder with video.mp4 or frames/ (poses.txt is not read)."),
    out: Path = typer.Option(..., "--out", help="Where to write the poses, in the Mannequin Challenge format."),
    params_path: Path | None = typer.Option(None, "--params", help="params.yaml to read curate.sfm from."),
    mapper: str | None = typer.Option(None, "--mapper", help="incremental or global (default: curate.sfm.mapper)."),
) -> None:
    """Structure from motion (pycolmap) for one clip, written as poses.txt.

    One shared camera, estimated unless the clip holds intrinsics.txt. Frames that do not register are
    left out (line 1 says how many); translations are in SfM's arbitrary units.
    """
    from mannequin.atomic import atomic_write_text
    from mannequin.clips.clip import clip_id_of
    from mannequin.curation.sfm_poses import estimate_clip_poses

    sfm = _curate_params(params_path, {"curate.sfm.mapper": mapper} if mapper else {}).sfm
    est = estimate_clip_poses(clip_dir, sfm)
    atomic_write_text(out, est.text(clip_id_of(clip_dir)))
    s = est.stats
    typer.echo(
        f"{out}: {s.registered} of {s.frames} frames registered, {s.points} points, "
        f"reprojection error {s.reprojection_error_px:.2f} px, focal {s.focal:.3f} x width, {s.seconds:.1f} s"
    )
    if est.focal_note:
        from mannequin.errors import warn

        warn(f"{clip_dir}: {est.focal_note}")


@app.command()
@user_errors
def ingest(
    videos: list[Path] = typer.Argument(..., help="Raw video files (anything FFmpeg decodes)."),
    out: Path = typer.Option(..., "--out", help="The data folder: clips/ and splits.csv are added to."),
    split: str = typer.Option("unlabeled", "--split", help="Split of the new clips: unlabeled, labeled or test."),
    form: str = typer.Option("frames", "--form", help="Write clips as frames (frames/*.png) or video (video.mp4)."),
    fps: float | None = typer.Option(None, "--fps", help="Target frame rate within a shot (default 10)."),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Most frames per clip (default 24)."),
    max_width: int | None = typer.Option(None, "--max-width", help="Frames are decoded at most this wide (640)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars on stderr."),
) -> None:
    """Cut raw videos at shot boundaries into clips (no poses) and add them to splits.csv.

    Within a shot: frames at the target rate, near-duplicates and blurred frames dropped, long shots split.
    Clip ids are <file name>-s<shot> (-p<part> for a split shot). Nothing is written when a video cannot
    be decoded or splits.csv is malformed.
    """
    from pydantic import ValidationError

    from mannequin.config.ingest import IngestParams
    from mannequin.ingest.ingest import ingest as run_ingest

    given = {"split": split, "form": form, "fps": fps, "max_frames": max_frames, "max_width": max_width}
    try:
        params = IngestParams(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"--{str(err['loc'][0]).replace('_', '-')}", err["msg"], "bad_option") from None
    summary = run_ingest(videos, out, params, progress=progress)
    for line in summary.lines():
        typer.echo(line)

"""Commands of the data stage."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, user_errors
from mannequin.errors import InputError
from mannequin.sample.plan import (
    DEFAULT_CLIPS,
    DEFAULT_FRAMES,
    DEFAULT_PEOPLE,
    DEFAULT_SIZE,
    PEOPLE_MODES,
    split_counts,
)


def sample_data_help() -> str:
    """The help of ``sample-data``, its defaults taken from the renderer's constants (so they cannot drift)."""
    n = split_counts(DEFAULT_CLIPS)
    (w, h), (lo, hi) = DEFAULT_SIZE, DEFAULT_FRAMES
    return "\n\n".join(
        [
            "Render the embedded sample dataset: furnished rooms filmed by a hand-held camera, with defective clips.",
            f"Default: {DEFAULT_CLIPS} clips of {lo}-{hi} frames at {w}x{h} ({n['defect']} defective +"
            f" {n['clean']} clean unlabeled, {n['labeled']} labeled, {n['test']} test).",
            "Writes OUT_DIR/clips/<id>/ (poses.txt with video.mp4 or frames/) and OUT_DIR/splits.csv.",
            "Sensor depth OUT_DIR/depth/<id>/<i:06d>.png for labeled and test clips only.",
            "Audit-only truth: OUT_DIR/sample_truth.csv (clip_id,defect,pose_scale[,people]),"
            " OUT_DIR/truth/<id>/depth.npz (metres).",
            "--people paper (the default): like the paper's data: every clip also writes"
            " clips/<id>/masks/<i:06d>.png (its figures, frozen ones included); labeled clips and every other test"
            " clip have walking people; the truth gets a people column (frozen|moving). --people frozen: every"
            " figure still, no masks, no people column.",
        ]
    )


@app.command("sample-data", help=sample_data_help())
@user_errors
def sample_data(
    out_dir: Path = typer.Argument(..., help="Where to write clips/, depth/, splits.csv and the audit truth."),
    clips: int = typer.Option(
        DEFAULT_CLIPS, "--clips", min=1, help="Number of clips (defects, labeled and test scale with it)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives byte-identical files."),
    width: int = typer.Option(DEFAULT_SIZE[0], "--width", min=16, max=4096, help="Frame width in pixels."),
    height: int = typer.Option(DEFAULT_SIZE[1], "--height", min=16, max=4096, help="Frame height in pixels."),
    min_frames: int = typer.Option(DEFAULT_FRAMES[0], "--min-frames", min=2, help="Fewest frames per clip."),
    max_frames: int = typer.Option(DEFAULT_FRAMES[1], "--max-frames", min=2, help="Most frames per clip."),
    extra_unlabeled: int = typer.Option(
        0,
        "--extra-unlabeled",
        min=0,
        help="More unlabeled clips after the planned ones (their own random stream: the first --clips clips, the "
        "labeled and test ones included, stay byte-identical).",
    ),
    extra_labeled: int = typer.Option(
        0,
        "--extra-labeled",
        min=0,
        help="More labeled clips (other rooms, with sensor depth) after those, from their own random stream: every "
        "clip before them stays byte-identical.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing sample dataset in OUT_DIR."),
    workers: int = typer.Option(1, "--workers", min=1, help="Render clips in this many processes (same bytes)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
    people: str = typer.Option(
        DEFAULT_PEOPLE,
        "--people",
        help=f"People in the data: {' | '.join(PEOPLE_MODES)} (paper: masks, walking people; frozen: neither).",
    ),
) -> None:
    """Render the embedded sample dataset (the command's help is :func:`sample_data_help`)."""
    from mannequin.sample.dataset import write_sample_data

    if max_frames < min_frames:
        raise InputError(None, f"--max-frames ({max_frames}) is below --min-frames ({min_frames})", "bad_option")
    if people not in PEOPLE_MODES:
        raise InputError(None, f"--people must be one of {', '.join(PEOPLE_MODES)}, got {people!r}", "bad_option")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a directory", "bad_output")
    plans = write_sample_data(
        out_dir,
        clips,
        seed,
        width,
        height,
        (min_frames, max_frames),
        progress,
        overwrite=overwrite,
        workers=workers,
        people=people,
        extra_unlabeled=extra_unlabeled,
        extra_labeled=extra_labeled,
    )
    defects = sum(p.defect != "none" for p in plans)
    print(f"wrote {len(plans)} clips ({defects} defective) to {out_dir}")

"""Commands of the mvs stage."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, user_errors
from mannequin.errors import InputError


@app.command()
@user_errors
def mvs(
    clip_dir: Path = typer.Argument(..., help="A clip folder: video.mp4 or frames/, with poses.txt or not (SfM)."),
    frame: int = typer.Option(..., "--frame", help="Index of the reference frame (pose line, from 0)."),
    out: Path = typer.Option(..., "--out", help="Output .npz with `depth` and `confidence`."),
    params_path: Path | None = typer.Option(
        None,
        "--params",
        help="params.yaml to read curate.mvs, curate.max_width and curate.device from (else defaults).",
    ),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda (default: curate.device)."),
    max_width: int | None = typer.Option(
        None, "--max-width", help="Frames are resized to this width (default: curate.max_width)."
    ),
) -> None:
    """Plane-sweep MVS depth and confidence of one frame of a clip.

    Writes FILE.npz atomically with three arrays:

    `depth`: float32 HxW in pose units, NaN where unconfident.

    `confidence`: float32 HxW in [0,1].

    `K`: the 3x3 intrinsics at the output resolution.
    """
    import numpy as np

    from mannequin.atomic import atomic_path
    from mannequin.config import cli_overrides
    from mannequin.curation.mvs import frame_depth, resolve_device
    from mannequin.curation.sfm_store import resolve_clip
    from mannequin.stages.params import load_params

    if out.is_dir():
        raise InputError(out, "is a folder; --out takes a file name such as depth.npz", "bad_output")
    if device is not None:
        try:
            resolve_device(device)
        except ValueError as exc:
            raise InputError("--device", str(exc), "bad_device") from None
    if max_width is not None and max_width < 16:
        raise InputError("--max-width", f"must be at least 16, got {max_width}", "bad_width")
    # no --params: the defaults, not ./params.yaml (this command is a tool, not a stage)
    overrides = cli_overrides("curate", device=device, max_width=max_width)
    curate = load_params(params_path, overrides, missing_ok=False).curate
    try:
        resolve_device(curate.device)
    except ValueError as exc:
        raise InputError("--device", str(exc), "bad_device") from None
    clip = resolve_clip(clip_dir, curate.poses, curate.sfm, None).clip  # no poses.txt: SfM (curate.poses)
    if not 0 <= frame < len(clip):
        raise InputError(clip_dir, f"frame {frame} out of range (the clip has {len(clip)} frames)", "bad_frame")
    if len(clip) < 2:
        raise InputError(clip_dir, "MVS needs at least 2 frames", "too_few_frames")
    images, cameras = clip.read_frames(max_width=min(curate.max_width, clip.width))
    depth, confidence = frame_depth(images, cameras, frame, curate.mvs, curate.device)
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, depth=depth, confidence=confidence, K=cameras[frame].K.astype(np.float64))
    covered = float(np.isfinite(depth).mean())
    typer.echo(f"{out}: frame {frame}, {depth.shape[1]}x{depth.shape[0]}, {covered:.1%} confident")

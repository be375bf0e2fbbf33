"""Commands of the clip stage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mannequin.cli.app import app, user_errors

if TYPE_CHECKING:
    from mannequin.curation.sfm import SfmStats


@app.command()
@user_errors
def inspect(
    clip_dir: Path = typer.Argument(..., help="A clip folder: video.mp4 or frames/, with poses.txt or not (SfM)."),
    params_path: Path | None = typer.Option(
        None, "--params", help="params.yaml to read curate.poses and curate.sfm from (else defaults)."
    ),
    curated: Path | None = typer.Option(
        None, "--curated", help="Curation outputs whose poses/ holds estimated poses to reuse (else SfM runs)."
    ),
) -> None:
    """Open a clip, decode every paired frame and print a one-screen summary of its frames and cameras.

    Poses come from the one resolver curation uses: poses.txt, or structure from motion (curate.poses).
    """
    import numpy as np

    from mannequin.curation.sfm_store import PoseSource
    from mannequin.stages.params import load_params

    resolved = PoseSource.of(load_params(params_path, {}, missing_ok=False).curate, curated).resolve(clip_dir)
    clip = resolved.clip
    decoded = 0
    brightness = []
    for _, image in clip.iter_frames():
        decoded += 1
        brightness.append(float(image.mean()))
    centres = np.array([c.center for c in clip.cameras])
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=1) if len(centres) > 1 else np.zeros(0)
    fx = float(np.median([c.K[0, 0] for c in clip.cameras]))
    fy = float(np.median([c.K[1, 1] for c in clip.cameras]))
    fov_x = float(np.degrees(2 * np.arctan(clip.width / (2 * fx))))
    fov_y = float(np.degrees(2 * np.arctan(clip.height / (2 * fy))))
    if clip.source == "video":
        assert clip.video is not None
        frames = f"{clip.video.num_frames} in video.mp4, {decoded} paired with poses and decoded"
    else:
        frames = f"{len(clip.frame_files)} files in frames/, all decoded"
    rows = [
        ("clip", clip.clip_id),
        ("path", str(clip.path)),
        ("source", clip.source),
        ("size", f"{clip.width} x {clip.height} px"),
        ("frames", frames),
        ("fps", f"{clip.fps:.3f}" if clip.fps else "- (frames/)"),
        ("duration", f"{clip.duration_s:.3f} s"),
        ("poses", f"{len(clip)} (first {int(clip.timestamps_us[0])} us, last {int(clip.timestamps_us[-1])} us)"),
        ("poses from", "poses.txt" if resolved.stats is None else sfm_summary(resolved.stats)),
        ("path length", f"{float(steps.sum()):.4g} pose units"),
        ("median baseline", f"{float(np.median(steps)) if len(steps) else 0.0:.4g} pose units between frames"),
        ("focal length", f"fx {fx:.1f} px, fy {fy:.1f} px (median)"),
        ("field of view", f"{fov_x:.1f} deg x {fov_y:.1f} deg"),
        ("brightness", f"mean {np.mean(brightness):.1f} / 255 (darkest frame {min(brightness):.1f})"),
        ("content hash", clip.content_hash()[:16]),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key:<{width}}  {value}")


def sfm_summary(stats: SfmStats) -> str:
    """One line of structure-from-motion statistics."""
    return (
        f"structure from motion: {stats.registered} of {stats.frames} frames registered, {stats.points} points, "
        f"{stats.reprojection_error_px:.2f} px, focal {stats.focal:.3f} x width"
    )

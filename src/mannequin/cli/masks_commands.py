"""``mannequin masks``: a clip's ``masks/`` from the person segmenter or motion evidence, to look at before curating."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, user_errors
from mannequin.errors import InputError


@app.command("masks")
@user_errors
def masks(
    clip_dir: Path = typer.Argument(..., help="A clip folder: video.mp4 or frames/, poses.txt optional."),
    source: str = typer.Option("segmenter", "--source", help="segmenter (people) or motion (needs poses or SfM)."),
    out: Path | None = typer.Option(None, "--out", help="The masks folder (default: the clip's own masks/)."),
    params_path: Path | None = typer.Option(None, "--params", help="params.yaml to read curate from (defaults)."),
) -> None:
    """Write masks/<frame:06d>.png (8-bit, 255 where a person or another mover is) for every frame of a clip.

    segmenter: MediaPipe's selfie segmentation, tiled so that small people are found (its model comes with
    make install), plus curation's motion evidence where the clip has poses.txt. motion: curation's motion
    evidence alone. The folder is replaced whole; curation then uses these masks (curate.masks.source auto).
    """
    from typing import get_args

    from mannequin.curation.person_masks import Source
    from mannequin.stages import masks as stage
    from mannequin.stages.params import load_params

    if source not in get_args(Source):
        raise InputError(None, f"--source must be {' or '.join(get_args(Source))}, got {source!r}", "bad_option")
    found, target = stage.run(load_params(params_path, {}, missing_ok=False), clip_dir, source, out)  # type: ignore[arg-type]
    share = float(found.masks.mean()) if found.masks.size else 0.0
    what = "motion evidence" if source == "motion" else "the segmenter" + (" + motion evidence" * found.with_motion)
    typer.echo(f"{target}: {len(found.indices)} masks from {what}, {share:.1%} of the pixels masked")

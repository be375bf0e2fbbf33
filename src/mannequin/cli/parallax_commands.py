"""``mannequin parallax``: the parallax input of every labelled and test clip, stored once (a DVC stage)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mannequin.cli.app import app, params_option, user_errors


@app.command("parallax")
@user_errors
def parallax(
    params_file: Path = params_option(),
    data: Path = typer.Option(None, "--data", help="Data folder with clips/ and splits.csv [params: parallax.data]."),
    out: Path = typer.Option(None, "--out", help="One <clip_id>.npz per clip [params: parallax.out]."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Store the parallax input (plane sweep over nearby frames, masked, normalised) of every labeled and test clip."""
    from mannequin.config import cli_overrides
    from mannequin.stages import parallax as stage
    from mannequin.stages.params import load_params

    p = load_params(params_file, cli_overrides("parallax", data=data, out=out))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=stage.clips_to_store(p), desc="parallax", unit="clip", file=sys.stderr)
    try:
        index = stage.run(p, progress=(lambda _c: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    frames = sum(c["frames"] for c in index["clips"].values())
    print(
        f"parallax: {len(index['clips'])} clips, {frames} frames, {len(index['skipped'])} skipped -> {p.parallax.out}"
    )

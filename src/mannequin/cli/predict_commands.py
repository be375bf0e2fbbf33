"""``mannequin predict``: depth for every frame of a clip with a trained model folder."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, params_option, user_errors
from mannequin.errors import InputError


@app.command("predict")
@user_errors
def predict(
    clip_dir: Path = typer.Argument(..., help="A clip folder: video.mp4 or frames/, poses.txt and masks/ optional."),
    model: Path = typer.Option(..., "--model", help="A model folder, e.g. models/finetune/mvs-8 (with model.json)."),
    out: Path = typer.Option(..., "--out", help="Where <frame:06d>.png, preview.png and predict.json go."),
    masks: str = typer.Option(
        None,
        "--masks",
        help="Masks for rgb+parallax: auto | given | segmenter | motion | none (default: curate.masks.source).",
    ),
    max_width: int = typer.Option(None, "--max-width", min=16, help="Downscale frames to at most this width."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Frames per forward pass."),
    params_file: Path = params_option(),
) -> None:
    """Depth PNGs (16-bit, value/1000 = the model's unit, metres for fine-tuned models) and a preview strip.

    An rgb+parallax model needs the clip's poses: poses.txt, or structure from motion (curate.poses, curate.sfm).
    """
    from typing import get_args

    from mannequin.config import cli_overrides
    from mannequin.config.masks import MaskSource
    from mannequin.stages import predict as stage
    from mannequin.stages.params import load_params

    if masks is not None and masks not in get_args(MaskSource):
        raise InputError(None, f"--masks must be {', '.join(get_args(MaskSource))}, got {masks!r}", "bad_option")
    params = load_params(params_file, cli_overrides("curate.masks", source=masks))
    info = stage.run(params, clip_dir, model, out, max_width=max_width, batch_size=batch_size)
    print(f"predict: {info['frames']} frames ({info['inputs']}, {info['units']}, poses {info['poses']}) -> {out}")

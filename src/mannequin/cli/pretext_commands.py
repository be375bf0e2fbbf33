"""Commands of the pretexts: ``mannequin correspondence-map``."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, user_errors


@app.command("correspondence-map")
@user_errors
def correspondence_map(
    clip_a: str = typer.Argument(..., help="Clip id of frame A (a curated shard)."),
    frame_a: int = typer.Argument(..., help="Frame A's index in its shard."),
    clip_b: str = typer.Argument(..., help="Clip id of frame B."),
    frame_b: int = typer.Argument(..., help="Frame B's index in its shard."),
    run: Path = typer.Option(Path("runs/pretrain-correspondence"), "--run", help="The correspondence pretraining run."),
    curated: Path = typer.Option(Path("curated"), "--curated", help="The curated folder holding the shards."),
    out: Path = typer.Option(Path("correspondence.png"), "--out", help="The PNG to write."),
) -> None:
    """Write the correspondence similarity map of a frame pair (A, B, A overlaid with its best match in B)."""
    from mannequin.learning.pretext_map import correspondence_map as draw

    logit = draw(run, curated, (clip_a, frame_a), (clip_b, frame_b), out)
    print(f"{clip_a}/{frame_a} vs {clip_b}/{frame_b}: logit {logit:.3f} -> {out}")

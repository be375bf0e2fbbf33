"""Commands of the learning stage: ``mannequin pretrain`` and ``mannequin finetune``."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from mannequin.cli.app import app, params_option, user_errors
from mannequin.config.objectives import ObjectiveParams

_EXPECTED_WARNINGS = (
    ".*overridden `on_after_batch_transfer`.*",  # augmentation lives in the module on purpose
    ".*is smaller than the logging interval.*",  # tiny epochs on small curated sets
    ".*Checkpoint directory .* exists and is not empty.*",  # the digest file lives beside last.ckpt
    ".*LeafSpec.*",
)


def _quiet_lightning() -> None:
    """Keep Lightning's banners (GPU/TPU availability, tips) and expected warnings off the terminal."""
    import warnings

    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in _EXPECTED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


def _summary(kind: str, tag: str, result) -> str:  # type: ignore[no-untyped-def]
    losses = ", ".join(f"{split} loss {vals['loss']:.4f}" for split, vals in result.metrics.items() if "loss" in vals)
    resumed = " (resumed)" if result.resumed else ""
    return f"{kind} {tag}: {result.steps} steps{resumed}, {losses} -> {result.out_dir}"


@app.command("pretrain")
@user_errors
def pretrain(
    objective: str = typer.Option(
        ...,
        "--objective",
        help=f"A pretext objective ({', '.join(ObjectiveParams.model_fields)}) or a mix 'mvs+masked'; '-parallax' "
        "after it ('mvs-parallax') trains the rgb+parallax net.",
    ),
    params_file: Path = params_option(),
    curated: Path = typer.Option(None, "--curated", help="Curated folder with shards/ [params: pretrain.curated]."),
    data: Path = typer.Option(None, "--data", help="Data folder with splits.csv [params: pretrain.data]."),
    out: Path = typer.Option(None, "--out", help="Models go to OUT/<objective>/ [params: pretrain.out]."),
    runs: Path = typer.Option(None, "--runs", help="Checkpoints and TensorBoard logs [params: pretrain.runs]."),
    name: str = typer.Option(None, "--name", help="Name the run OUT/<name>/ instead of OUT/<objective>/."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Self-supervised pretraining on curated frames; writes model.pt, backbone.pt, model.json, metrics.json."""
    from mannequin.config import cli_overrides
    from mannequin.config.base import split_parallax
    from mannequin.learning.objectives import parse_objectives
    from mannequin.stages import pretrain as stage
    from mannequin.stages.params import load_params

    p = load_params(params_file, cli_overrides("pretrain", curated=curated, data=data, out=out, runs=runs))
    parse_objectives(split_parallax(objective)[0])
    _quiet_lightning()
    result = stage.run(p, objective, progress=progress, name=name)
    if result.out_dir is not None:
        print(_summary("pretrain", objective, result))


@app.command("finetune")
@user_errors
def finetune(
    init: str = typer.Option(
        ..., "--init", help="'scratch' or a pretraining objective whose model initialises the net."
    ),
    budget: int = typer.Option(..., "--budget", help="Label budget: the number of sensor-depth frames to train on."),
    params_file: Path = params_option(),
    data: Path = typer.Option(
        None, "--data", help="Data folder with labeled clips and depth/ [params: finetune.data]."
    ),
    pretrained: Path = typer.Option(
        None, "--pretrained", help="Pretrained models folder [params: finetune.pretrained]."
    ),
    out: Path = typer.Option(None, "--out", help="Models go to OUT/<init>-<budget>/ [params: finetune.out]."),
    runs: Path = typer.Option(None, "--runs", help="Checkpoints and TensorBoard logs [params: finetune.runs]."),
    seed: int = typer.Option(
        None,
        "--seed",
        min=0,
        help="A repeat with this seed, named OUT/<init>-<budget>-seed<SEED>/ [params: "
        "finetune.seed; without it: finetune.seed, named OUT/<init>-<budget>/].",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Supervised fine-tuning on a label budget of sensor-depth frames from labeled clips."""
    from mannequin.config import cli_overrides
    from mannequin.config.spread import seeded_name
    from mannequin.errors import InputError
    from mannequin.stages import finetune as stage
    from mannequin.stages.params import load_params

    options = cli_overrides("finetune", data=data, pretrained=pretrained, out=out, runs=runs, seed=seed)
    p = load_params(params_file, options)
    if budget < 1:
        raise InputError("--budget", f"must be at least 1, got {budget}", "bad_budget")
    _quiet_lightning()
    name = None if seed is None else seeded_name(f"{init}-{budget}", seed)
    result = stage.run(p, init, budget, progress=progress, name=name)
    if result.out_dir is not None:
        print(_summary("finetune", name or f"{init}-{budget}", result))

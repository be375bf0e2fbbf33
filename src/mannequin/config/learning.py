"""The ``pretrain`` and ``finetune`` blocks of params.yaml."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from mannequin.config.base import Block, Budgets, Inits, ObjectiveName, Objectives, ObjectiveSpec
from mannequin.config.objectives import ObjectiveParams

#: what the network reads: RGB alone, or RGB and the parallax input (normalised depth, confidence, mask)
NetInputs = Literal["rgb", "rgb+parallax"]
#: the training and prediction size of a frame (width, height), in pixels
Side = Annotated[int, Field(ge=16, le=4096)]
ImageSize = tuple[Side, Side]
MAX_CHANNELS = 2048  # the widest level a net may have: width * 2 ** (depth - 1)


class NetParams(Block):
    """The U-Net-style encoder-decoder (log-depth out)."""

    inputs: NetInputs = Field(
        "rgb",
        description="rgb, or rgb+parallax: RGB + the parallax input (normalised parallax depth, confidence, mask), "
        "the Mannequin Challenge model; a pretraining run named <objective>-parallax uses rgb+parallax",
    )
    width: int = Field(16, ge=4, description="channels of the first encoder level (each level doubles them)")
    depth: int = Field(4, ge=2, le=7, description="encoder levels, each halving the resolution")
    head: Literal["value", "bins"] = Field(
        "value", description="depth head: value (log depth) or bins (a distribution over log depth / median)"
    )
    bins: int = Field(32, ge=2, le=1024, description="bins head: number of log-depth bins")
    log_range: float = Field(2.0, gt=0, description="bins head: centres span [-log_range, log_range] of log(d/median)")
    bins_sigma: float = Field(1.0, gt=0, description="bins head: soft-target width in bin widths")
    parallax_gate: bool = Field(
        False,
        description="rgb+parallax nets: a full-resolution learned weight moves the output towards the parallax "
        "input where it has a reading (sharp edges where the input is sure); needs head: value; no effect on rgb",
    )

    @model_validator(mode="after")
    def _buildable(self) -> NetParams:
        """The deepest level has ``width * 2 ** (depth - 1)`` channels: bounded, so no value builds a net that
        cannot fit in memory."""
        widest = self.width * 2 ** (self.depth - 1)
        if widest > MAX_CHANNELS:
            problem = f"width {self.width} at depth {self.depth} gives {widest} channels (at most {MAX_CHANNELS})"
            raise ValueError(problem)
        return self


class TrainerParams(Block):
    """Lightning Trainer settings. ``precision: auto`` is bf16-mixed on a GPU and 32 on CPU."""

    accelerator: str = Field("auto", description="Lightning's accelerator: auto, cpu, gpu, ...")
    devices: int | str = Field(1, description="Lightning's devices: a count, a list such as '0,1', or auto")
    num_nodes: int = Field(1, ge=1, description="machines of a multi-node run")
    strategy: str = Field("auto", description="Lightning's strategy, e.g. ddp")
    precision: str = Field("auto", description="auto: bf16-mixed on a GPU, 32 on CPU; or any Lightning precision")
    max_epochs: int = Field(-1, ge=-1, description="-1: no epoch limit (max_steps decides)")
    max_steps: int = Field(300, ge=-1, description="optimiser steps of the run (-1: no step limit)")
    deterministic: bool = Field(True, description="Lightning's deterministic algorithms")
    log_every_n_steps: int = Field(10, ge=1, description="how often scalars go to TensorBoard")
    image_every_n_steps: int = Field(100, ge=1, description="how often image grids go to TensorBoard")
    val_every_n_epochs: int = Field(4, ge=1, description="validation every this many epochs")
    checkpoint_every_n_steps: int = Field(50, ge=1, description="how often last.ckpt is refreshed (resume point)")
    threads: int = Field(
        1,
        ge=0,
        description="torch intra-op threads; 0 keeps torch's default. params.yaml sets 2 on its 2-core machine (1.65x "
        "the samples/s of 1 on an idle one, bench/bench_training.py --threads); use 1 where other busy work shares "
        "the cores (2 threads beside one busy process ran at ~2 samples/s, 1 thread at ~64)",
    )


class AugmentParams(Block):
    """Geometry-honest augmentation: zoom and flip image+targets together, colour-jitter images only."""

    flip_p: float = Field(0.5, ge=0, le=1, description="chance of a horizontal flip of image and targets together")
    jitter: float = Field(0.2, ge=0, le=1, description="brightness, contrast and saturation jitter (images only)")
    channel_shuffle: bool = Field(True, description="permute RGB channels per image (no colour shortcut)")
    grayscale_p: float = Field(0.3, ge=0, le=1, description="share of images turned grey")
    scale_max: float = Field(
        1.0,
        ge=1,
        le=4,
        description="random zoom: each item cropped to 1/s of each side (s drawn from [1, scale_max]) and resized "
        "back, targets alike; 1 is off (1.5 measured worse: test abs_rel 0.192 against 0.181, docs/experiments.md)",
    )


class PretrainParams(Block):
    """Self-supervised pretraining on curated frames (one run per entry of ``objectives``)."""

    curated: str = Field("curated", description="the curated folder whose shards are trained on")
    data: str = Field("data", description="the data folder (splits.csv)")
    out: str = Field("models/pretrain", description="models go to <out>/<objective>/")
    runs: str = Field("runs", description="checkpoints (last.ckpt, the resume point) and TensorBoard logs")
    objectives: Objectives = Field(default_factory=lambda: ["mvs"], description="one pretraining run per entry")
    weights: dict[ObjectiveName, float] = Field(
        default_factory=dict, description="objective -> weight of its loss in a mix such as mvs+masked (default 1)"
    )
    step_factors: dict[ObjectiveSpec, Annotated[float, Field(gt=0, le=100)]] = Field(
        default_factory=dict,
        description="run (an entry of objectives, e.g. mvs-parallax) -> its steps as a multiple of trainer.max_steps"
        " (default 1): the minutes go where they buy the most (docs/experiments.md)",
    )
    seed: int = Field(0, description="seeds the split, the draws and the initialisation")
    batch_size: int = Field(8, ge=1, description="frames per step")
    lr: float = Field(2e-3, gt=0, description="learning rate")
    weight_decay: float = Field(1e-4, ge=0, description="weight decay")
    image_size: ImageSize = Field((128, 96), description="(width, height) the frames are resized to")
    val_fraction: float = Field(0.2, ge=0, lt=1, description="share of the curated clips held out for validation")
    num_workers: int = Field(1, ge=0, description="loader processes; 1 keeps data wait under 10% on 2 cores")
    objective: ObjectiveParams = ObjectiveParams()
    augment: AugmentParams = AugmentParams()
    net: NetParams = NetParams()
    backbone: str | None = Field(
        None,
        description="a model folder whose backbone.pt initialises the encoder; an rgb backbone loads into an "
        "rgb+parallax net's rgb path (its parallax weights start at zero)",
    )
    trainer: TrainerParams = TrainerParams(max_steps=1000)

    def steps_for(self, run: str) -> int:
        """The optimiser steps of the pretraining run ``run`` (an objective spec): ``trainer.max_steps`` times its
        entry of ``step_factors``, at least 1; -1 (no step limit) stays -1."""
        factor = self.step_factors.get(run, 1.0)
        if self.trainer.max_steps < 0 or factor == 1.0:
            return self.trainer.max_steps
        return max(1, round(self.trainer.max_steps * factor))


class FinetuneParams(Block):
    """Supervised fine-tuning on a label budget of sensor-depth frames.

    From scratch the network is built with ``pretrain.net``; from a pretraining run it takes
    that run's architecture, its backbone, and its depth decoder when the run trained one.
    """

    data: str = Field("data", description="the data folder: labeled clips and their sensor depth")
    pretrained: str = Field("models/pretrain", description="where the pretrained models of the inits are")
    parallax: str = Field("parallax", description="the parallax store (mannequin parallax), for rgb+parallax inits")
    out: str = Field("models/finetune", description="models go to <out>/<init>-<budget>/")
    runs: str = Field("runs", description="checkpoints (last.ckpt, the resume point) and TensorBoard logs")
    inits: Inits = Field(
        default_factory=lambda: ["mvs"],
        description="pretraining runs to fine-tune from, each one of pretrain.objectives; scratch always runs",
    )
    budgets: Budgets = Field(
        default_factory=lambda: [2, 8, 32], description="label budgets: labelled frames of each fine-tune"
    )
    seed: int = Field(0, description="seeds the label draw, the head's initialisation and the batch order")
    batch_size: int = Field(4, ge=1, description="frames per step")
    lr: float = Field(1e-3, gt=0, description="learning rate of new weights (see pretrained_lr_scale)")
    weight_decay: float = Field(1e-4, ge=0, description="weight decay")
    image_size: ImageSize = Field((128, 96), description="(width, height) the frames are resized to")
    val_frames: int = Field(8, ge=0, description="labelled frames held out for validation, besides the budget")
    gradient_weight: float = Field(0.5, ge=0, description="weight of the gradient-matching term of the loss")
    init_decoder: bool = Field(True, description="also load the depth decoder of a pretraining that trained one")
    pretrained_lr_scale: float = Field(0.02, ge=0, description="LR factor for weights loaded from pretraining")
    calibrate_offset: bool = Field(
        True, description="before training, shift the log-depth offset to the labelled frames' median residual"
    )
    epochs: float = Field(
        0.0,
        ge=0,
        description="passes over the budget's frames: steps = ceil(epochs x budget / batch_size), at least min_steps"
        " and at most trainer.max_steps (0: trainer.max_steps whatever the budget)",
    )
    min_steps: int = Field(60, ge=1, description="with epochs: the fewest steps of a fine-tune")
    select: Literal["val", "last"] = Field(
        "val",
        description="val: export the weights that score best (abs_rel) on the held-out labelled frames among the"
        " start, the best validated checkpoint and the end; last: the end (also without val_frames)",
    )
    num_workers: int = Field(0, ge=0, description="loader processes")
    augment: AugmentParams = AugmentParams()
    trainer: TrainerParams = TrainerParams(max_steps=60, val_every_n_epochs=1, image_every_n_steps=30)

    def steps_for(self, budget: int) -> int:
        """The optimiser steps of a fine-tune on ``budget`` labelled frames (see ``epochs``)."""
        if self.epochs <= 0:
            return self.trainer.max_steps
        wanted = max(self.min_steps, math.ceil(self.epochs * budget / self.batch_size))
        return wanted if self.trainer.max_steps < 0 else min(wanted, self.trainer.max_steps)

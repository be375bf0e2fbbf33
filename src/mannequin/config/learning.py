"""The ``pretrain`` and ``finetune`` blocks of params.yaml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mannequin.config.base import Block, Budgets, Inits, ObjectiveName, Objectives
from mannequin.config.objectives import ObjectiveParams

#: what the network reads: RGB alone, or RGB and the parallax input (normalised depth, confidence, mask)
NetInputs = Literal["rgb", "rgb+parallax"]


class NetParams(Block):
    """The U-Net-style encoder-decoder (log-depth out)."""

    inputs: NetInputs = Field(
        "rgb",
        description="rgb, or rgb+parallax: RGB + the parallax input (normalised parallax depth, confidence, mask), "
        "the Mannequin Challenge model; a pretraining run named <objective>-parallax uses rgb+parallax",
    )
    width: int = Field(16, ge=4)
    depth: int = Field(4, ge=2, le=7)
    head: Literal["value", "bins"] = Field(
        "value", description="depth head: value (log depth) or bins (a distribution over log depth / median)"
    )
    bins: int = Field(32, ge=2, description="bins head: number of log-depth bins")
    log_range: float = Field(2.0, gt=0, description="bins head: centres span [-log_range, log_range] of log(d/median)")
    bins_sigma: float = Field(1.0, gt=0, description="bins head: soft-target width in bin widths")


class TrainerParams(Block):
    """Lightning Trainer settings. ``precision: auto`` is bf16-mixed on a GPU and 32 on CPU."""

    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = Field(1, ge=1)
    strategy: str = "auto"
    precision: str = "auto"
    max_epochs: int = Field(-1, ge=-1)
    max_steps: int = Field(300, ge=-1)
    deterministic: bool = True
    log_every_n_steps: int = Field(10, ge=1)
    image_every_n_steps: int = Field(100, ge=1)
    val_every_n_epochs: int = Field(4, ge=1)
    checkpoint_every_n_steps: int = Field(50, ge=1, description="how often last.ckpt is refreshed (resume point)")
    threads: int = Field(
        1,
        ge=0,
        description="torch intra-op threads; 0 keeps torch's default. 1: on the shared 2-core box torch's 2 threads "
        "ran pretraining at ~2 samples/s beside one busy process, 1 thread at ~64 samples/s",
    )


class AugmentParams(Block):
    """Geometry-honest augmentation: flip image+targets together, colour-jitter images only."""

    flip_p: float = Field(0.5, ge=0, le=1)
    jitter: float = Field(0.2, ge=0, le=1)
    channel_shuffle: bool = Field(True, description="permute RGB channels per image (no colour shortcut)")
    grayscale_p: float = Field(0.3, ge=0, le=1, description="share of images turned grey")


class PretrainParams(Block):
    """Self-supervised pretraining on curated frames (one run per entry of ``objectives``)."""

    curated: str = "curated"
    data: str = "data"
    out: str = "models/pretrain"
    runs: str = "runs"
    objectives: Objectives = Field(default_factory=lambda: ["mvs"], description="one pretraining run per entry")
    weights: dict[ObjectiveName, float] = Field(default_factory=dict)
    seed: int = 0
    batch_size: int = Field(8, ge=1)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    image_size: tuple[int, int] = (128, 96)
    val_fraction: float = Field(0.2, ge=0, lt=1)
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


class FinetuneParams(Block):
    """Supervised fine-tuning on a label budget of sensor-depth frames.

    From scratch the network is built with ``pretrain.net``; from a pretraining run it takes
    that run's architecture, its backbone, and its depth decoder when the run trained one.
    """

    data: str = "data"
    pretrained: str = "models/pretrain"
    parallax: str = Field("parallax", description="the parallax store (mannequin parallax), for rgb+parallax inits")
    out: str = "models/finetune"
    runs: str = "runs"
    inits: Inits = Field(
        default_factory=lambda: ["mvs"],
        description="pretraining runs to fine-tune from, each one of pretrain.objectives; scratch always runs",
    )
    budgets: Budgets = Field(default_factory=lambda: [2, 8, 32])
    seed: int = 0
    batch_size: int = Field(4, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    image_size: tuple[int, int] = (128, 96)
    val_frames: int = Field(8, ge=0)
    gradient_weight: float = Field(0.5, ge=0)
    init_decoder: bool = True
    pretrained_lr_scale: float = Field(0.02, ge=0, description="LR factor for weights loaded from pretraining")
    calibrate_offset: bool = True
    num_workers: int = Field(0, ge=0)
    augment: AugmentParams = AugmentParams()
    trainer: TrainerParams = TrainerParams(max_steps=60, val_every_n_epochs=2, image_every_n_steps=30)

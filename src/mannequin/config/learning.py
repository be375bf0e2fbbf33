"""The ``pretrain`` and ``finetune`` blocks of params.yaml."""

from __future__ import annotations

from pydantic import Field

from mannequin.config.base import Block


class NetParams(Block):
    """The U-Net-style encoder-decoder."""

    width: int = Field(16, ge=4)
    depth: int = Field(4, ge=2)


class TrainerParams(Block):
    """Lightning Trainer settings."""

    accelerator: str = "auto"
    devices: int | str = 1
    num_nodes: int = Field(1, ge=1)
    strategy: str = "auto"
    precision: str = "auto"
    max_epochs: int = Field(10, ge=1)
    max_steps: int = -1
    deterministic: bool = True
    log_every_n_steps: int = Field(10, ge=1)
    image_every_n_steps: int = Field(100, ge=1)


class PretrainParams(Block):
    """Self-supervised pretraining on curated frames."""

    curated: str = "curated"
    out: str = "models/pretrain"
    objectives: list[str] = ["mvs"]
    weights: dict[str, float] = {}
    seed: int = 0
    batch_size: int = Field(16, ge=1)
    lr: float = Field(1e-3, gt=0)
    image_size: tuple[int, int] = (128, 96)
    val_fraction: float = Field(0.2, ge=0, lt=1)
    num_workers: int = Field(0, ge=0)
    net: NetParams = NetParams()
    trainer: TrainerParams = TrainerParams()


class FinetuneParams(Block):
    """Supervised fine-tuning on a label budget of sensor-depth frames."""

    data: str = "data"
    pretrained: str = "models/pretrain"
    out: str = "models/finetune"
    inits: list[str] = ["scratch", "mvs"]
    budgets: list[int] = [4, 16, 64]
    seed: int = 0
    batch_size: int = Field(8, ge=1)
    lr: float = Field(1e-3, gt=0)
    image_size: tuple[int, int] = (128, 96)
    num_workers: int = Field(0, ge=0)
    trainer: TrainerParams = TrainerParams()

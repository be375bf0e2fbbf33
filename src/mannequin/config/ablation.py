"""The ``ablation`` block of params.yaml: the curation ablation stages of dvc.yaml."""

from __future__ import annotations

from pydantic import Field

from mannequin.config.base import Block, Budgets, ObjectiveSpec


class AblationParams(Block):
    """Pretrain on every readable clip (curation's decisions ignored) and fine-tune at these budgets.

    The models are ``models/pretrain/<objective>-uncurated`` and ``models/finetune/<objective>-uncurated-<budget>``;
    the report sets them against the curated ``<objective>`` models at the same budgets and seed.
    """

    objective: ObjectiveSpec = Field("mvs", description="the objective pretrained on the uncurated clips")
    budgets: Budgets = Field(default_factory=lambda: [2], description="label budgets of the uncurated fine-tunes")

"""The ``spread`` block of params.yaml: fine-tunes repeated with other seeds, so that every comparison has a spread.

Each listed seed repeats, at each listed budget, the fine-tune of scratch, of every ``finetune.inits`` entry and of
the curation ablation's ``<objective>-uncurated`` init (stages ``finetune-*-seeds`` of ``dvc.yaml``), with
``finetune.seed`` set to it: another label draw, head initialisation and batch order, from the same pretraining.
A repeat is named ``<init>-<budget>-seed<seed>`` (:func:`seeded_name`); the model without the suffix is the one of
``finetune.seed``. The report sets the models of one ``(init, budget)`` side by side over all their seeds.
"""

from __future__ import annotations

import re

from pydantic import Field

from mannequin.config.base import Block, Budgets, Seeds

#: the suffix of a repeated model's name: ``mvs-2-seed1`` is ``mvs-2`` fine-tuned with seed 1
SEED_SUFFIX = "-seed"
_SEEDED = re.compile(rf"^(?P<base>.+){re.escape(SEED_SUFFIX)}(?P<seed>\d+)$")


def seeded_name(base: str, seed: int) -> str:
    """The name of ``base`` (a model folder name such as ``mvs-2``) repeated with ``seed``."""
    return f"{base}{SEED_SUFFIX}{seed}"


def split_seed(name: str) -> tuple[str, int | None]:
    """``(base, seed)`` of a repeated model's name; ``(name, None)`` for a model of ``finetune.seed``."""
    m = _SEEDED.match(name)
    return (m.group("base"), int(m.group("seed"))) if m else (name, None)


class SpreadParams(Block):
    """Seeds (besides ``finetune.seed``) and label budgets at which every fine-tune is repeated; ``seeds: []``
    repeats nothing (the report then states that no spread was measured)."""

    seeds: Seeds = Field(default_factory=lambda: [1, 2], description="fine-tunes repeated with each of these seeds")
    budgets: Budgets = Field(default_factory=lambda: [2], description="the label budgets repeated")

"""The strict base model every params block derives from, and the value types ``dvc.yaml`` puts in commands."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationInfo


class Block(BaseModel):
    """A params.yaml block: unknown keys are errors, values are validated, models are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


#: an objective's name: what ``dvc.yaml`` interpolates into a command line, so nothing a shell would act on.
_NAME = re.compile(r"[a-z][a-z0-9_]*")

#: the key of the validation context that lists the registered objectives (``mannequin.stages.params`` fills it
#: from the registry, which lives with the torch code in ``mannequin.learning.objectives``)
OBJECTIVES_CONTEXT = "objectives"


def _check_name(name: str, info: ValidationInfo, within: str) -> None:
    """An objective's name: its syntax always; its membership in the registry when the validation context lists the
    registered objectives (:data:`OBJECTIVES_CONTEXT`)."""
    which = f" {name!r}" if within != name else ""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an objective name{which} (lower-case letters, digits, _)")
    known = (info.context or {}).get(OBJECTIVES_CONTEXT)
    if known is not None and name not in known:
        raise ValueError(f"unknown objective{which} (known: {', '.join(sorted(known))})")


def _registered(name: str, info: ValidationInfo) -> str:
    _check_name(name, info, name)
    return name


#: a pretraining run named ``<objective or mix>-parallax`` trains the ``rgb+parallax`` net (``net.inputs``)
PARALLAX_SUFFIX = "-parallax"


def split_parallax(spec: str) -> tuple[str, bool]:
    """``("mvs", True)`` for ``mvs-parallax``, ``("mvs", False)`` for ``mvs``: the objectives, and whether the run
    reads the parallax input."""
    if spec.endswith(PARALLAX_SUFFIX):
        return spec[: -len(PARALLAX_SUFFIX)], True
    return spec, False


def _objective_spec(spec: str, info: ValidationInfo) -> str:
    """One objective or a ``+``-joined mix of distinct ones, e.g. ``mvs+masked``, optionally ``-parallax`` after."""
    parts = split_parallax(spec)[0].split("+")
    if len(set(parts)) != len(parts):
        raise ValueError("names an objective twice")
    for part in parts:
        _check_name(part, info, spec)
    return spec


def _not_scratch(spec: str) -> str:
    if spec == "scratch":
        raise ValueError("scratch is always fine-tuned (stage finetune-scratch): list pretraining objectives only")
    return spec


def _distinct(values: list) -> list:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"{seen[0]!r} is listed twice (each entry is one DVC stage)")
    return values


ObjectiveName = Annotated[str, AfterValidator(_registered)]
ObjectiveSpec = Annotated[str, AfterValidator(_objective_spec)]
#: objective names or mixes, each the name of one pretraining stage and model folder
Objectives = Annotated[list[ObjectiveSpec], Field(min_length=1), AfterValidator(_distinct)]
#: pretraining runs to fine-tune from: objective names or mixes
Inits = Annotated[list[Annotated[str, AfterValidator(_not_scratch), AfterValidator(_objective_spec)]],
                  Field(min_length=1), AfterValidator(_distinct)]  # fmt: skip
#: label budgets (frames), each the name of one fine-tuning stage and model folder
Budgets = Annotated[list[Annotated[StrictInt, Field(gt=0)]], Field(min_length=1), AfterValidator(_distinct)]
#: seeds of repeated runs, each the name of one fine-tuning stage and model folder (none: no repeats)
Seeds = Annotated[list[Annotated[StrictInt, Field(ge=0)]], AfterValidator(_distinct)]

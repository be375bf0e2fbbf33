"""Pretext objectives: one module each, and the registry that maps a name to its objective.

A method is backbone + head + loss (solo-learn style): each objective takes the shared
:class:`~mannequin.learning.nets.DepthNet` and a batch, and returns its loss and log values; it reads its own
params block, ``pretrain.objective.<name>`` (:class:`mannequin.config.objectives.ObjectiveParams`).

To add an objective: a module here with its :class:`~mannequin.learning.objectives.base.Objective` subclass, its
entry in :data:`OBJECTIVES`, its params block in :mod:`mannequin.config.objectives` (and ``params.yaml``).
"""

from __future__ import annotations

from mannequin.config.objectives import ObjectiveParams
from mannequin.errors import InputError
from mannequin.learning.nets import DepthNet
from mannequin.learning.objectives.base import Gather, Objective
from mannequin.learning.objectives.colorize import ColorizeObjective
from mannequin.learning.objectives.contrastive import ContrastiveObjective
from mannequin.learning.objectives.correspondence import CorrespondenceObjective
from mannequin.learning.objectives.masked import MaskedObjective
from mannequin.learning.objectives.mvs import MvsObjective
from mannequin.learning.objectives.selfie import SelfieObjective

__all__ = ["OBJECTIVES", "Gather", "Objective", "build_objective", "objective_names", "parse_objectives"]

#: every pretext objective by name; the name is also its params block's (``pretrain.objective.<name>``)
OBJECTIVES: dict[str, type[Objective]] = {
    "mvs": MvsObjective,
    "masked": MaskedObjective,
    "contrastive": ContrastiveObjective,
    "colorize": ColorizeObjective,
    "selfie": SelfieObjective,
    "correspondence": CorrespondenceObjective,
}


def objective_names() -> list[str]:
    return sorted(OBJECTIVES)


def parse_objectives(spec: str | list[str], option: str = "--objective") -> list[str]:
    """``"mvs+masked"`` or ``["mvs", "masked"]`` -> validated, de-duplicated names in given order.

    ``option`` is what an error names (the command-line option the spec came from).
    """
    names = spec.split("+") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise InputError(option, "no objective given", "unknown_objective")
    for n in names:
        if n not in OBJECTIVES:
            raise InputError(
                option, f"unknown objective {n!r} (known: {', '.join(objective_names())})", "unknown_objective"
            )
    return list(dict.fromkeys(names))


def build_objective(name: str, net: DepthNet, params: ObjectiveParams) -> Objective:
    """The objective ``name`` for ``net``, given its own block of ``params``; a head that does not fit the backbone is
    an error naming it, as is an ``rgb+parallax`` net for an objective that reads RGB only."""
    parse_objectives([name])
    if net.inputs != "rgb" and not OBJECTIVES[name].reads_parallax:
        takers = ", ".join(n for n in objective_names() if OBJECTIVES[n].reads_parallax)
        raise InputError(
            f"pretrain.objective ({name})",
            f"{name} reads RGB only and cannot train a net with inputs {net.inputs} (objectives that can: {takers})",
            "bad_inputs",
        )
    try:
        return OBJECTIVES[name](net, getattr(params, name))
    except (RuntimeError, ValueError) as exc:
        raise InputError(
            f"pretrain.objective ({name})",
            f"the {name} head does not fit the backbone (width {net.encoder.out_channels}): {exc}",
            "bad_head",
        ) from None

"""``params.yaml`` as the stages read it: validated by :mod:`mannequin.config`, objective names against the registry.

:mod:`mannequin.config` checks an objective name's syntax; whether it is a registered objective is known only where
the registry lives (:data:`mannequin.learning.objectives.OBJECTIVES`), so :func:`load_params` hands the registered
names to the validation as its context. Every command that reads ``params.yaml`` goes through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.config import DEFAULT_PARAMS, Params
from mannequin.config import load_params as load_config
from mannequin.config.base import OBJECTIVES_CONTEXT


def registry_context() -> dict[str, Any]:
    """The validation context naming the registered objectives."""
    from mannequin.learning.objectives import objective_names

    return {OBJECTIVES_CONTEXT: objective_names()}


def load_params(
    path: str | Path | None = DEFAULT_PARAMS,
    overrides: dict[str, Any] | None = None,
    *,
    missing_ok: bool | None = None,
) -> Params:
    """:func:`mannequin.config.load_params` with objective names checked against the registry."""
    return load_config(path, overrides, missing_ok=missing_ok, context=registry_context())

"""The ``params`` stage of ``dvc.yaml``: ``mannequin check-params params.yaml --out runs/checked-params.json``.

``dvc.yaml`` writes some params into stage commands (``${...}``, :data:`COMMAND_VALUES`); this stage validates the
params file first, so a value no model accepts (not a registered objective, not a positive budget) never reaches a
shell. Its stamp holds the same bytes whatever the values: stages depend on it for their order, not to rerun.
"""

from __future__ import annotations

import json
from pathlib import Path

from mannequin.atomic import atomic_write_text
from mannequin.config import Params
from mannequin.stages.params import load_params

#: the params dvc.yaml writes into stage commands (``${...}``); its ``params`` stage lists them as its params
COMMAND_VALUES = (
    "pretrain.objectives", "finetune.inits", "finetune.budgets", "ablation.objective", "ablation.budgets",
    "spread.seeds", "spread.budgets",
)  # fmt: skip


def run(path: str | Path, out: str | Path | None = None) -> Params:
    """Validate the params file ``path`` (it must exist); with ``out``, write the stamp. Returns the params."""
    params = load_params(path, missing_ok=False)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, json.dumps({"valid": list(COMMAND_VALUES)}, indent=2) + "\n")
    return params

"""The composition root: one module per ``dvc.yaml`` stage, the experiment drivers and the flows' bodies.

Only this package knows :class:`mannequin.config.Params`, DVC's stage names and the run folders: each stage module
has a ``run(params, ...)`` that builds the parts of its stage from their params blocks and runs them; the packages
below take those blocks (or plain typed arguments) and never import from here. The CLI, ``flows/`` and the
benchmarks' experiment scripts call these modules.

:data:`STAGE_MODULES` maps every stage of ``dvc.yaml`` to its module (a test checks that each stage's code deps in
``dvc.yaml`` cover the import closure of its module, so a change to code a stage runs always reruns it).
"""

from __future__ import annotations

#: dvc.yaml stage name -> the module whose ``run`` the stage's command calls
STAGE_MODULES: dict[str, str] = {
    "params": "mannequin.stages.check_params",
    "data-digest": "mannequin.stages.data_digest",
    "curate": "mannequin.stages.curate",
    "curate-all": "mannequin.stages.curate",
    "parallax": "mannequin.stages.parallax",
    "pretrain": "mannequin.stages.pretrain",
    "pretrain-uncurated": "mannequin.stages.pretrain",
    "finetune-scratch": "mannequin.stages.finetune",
    "finetune": "mannequin.stages.finetune",
    "finetune-uncurated": "mannequin.stages.finetune",
    "finetune-scratch-seeds": "mannequin.stages.finetune",
    "finetune-seeds": "mannequin.stages.finetune",
    "finetune-uncurated-seeds": "mannequin.stages.finetune",
    "evaluate": "mannequin.stages.evaluate",
    "report": "mannequin.stages.report",
}

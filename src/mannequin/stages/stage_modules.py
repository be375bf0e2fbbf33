"""Which module runs each stage of ``dvc.yaml``: the one table that names DVC's stages in the code.

``dvc.yaml`` lists, as a stage's code deps, every file its module imports (directly or not, imports inside functions
included), so that DVC reruns the stage when any of them changes; ``tests/stages/test_dvc_deps.py`` checks it against
this table.
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

"""The composition root: one module per ``dvc.yaml`` stage, the experiment drivers and the flows' bodies.

Only this package knows :class:`mannequin.config.Params`, DVC's stage names and the run folders: each stage module
has a ``run(params, ...)`` that builds the parts of its stage from their params blocks and runs them; the packages
below take those blocks (or plain typed arguments) and never import from here. The CLI, ``flows/`` and the
benchmarks' experiment scripts call these modules.

:data:`mannequin.stages.stage_modules.STAGE_MODULES` maps every stage of ``dvc.yaml`` to its module (a test checks
that each stage's code deps in ``dvc.yaml`` cover the import closure of its module, so a change to code a stage runs
always reruns it).
"""

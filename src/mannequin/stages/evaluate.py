"""The ``evaluate`` stage of ``dvc.yaml``: ``mannequin evaluate``.

Every model under ``evaluate.models`` (or the given model folders) scored on ``evaluate.data``'s test clips into
``evaluate.out`` (:func:`mannequin.evaluation.evaluate.evaluate_dirs`): one metrics JSON per model, the example
frames, and with ``evaluate.people`` the people evaluation (the rgb+parallax models reading the ``parallax`` store).
"""

from __future__ import annotations

from pathlib import Path

from mannequin.config import Params
from mannequin.errors import InputError
from mannequin.evaluation.evaluate import evaluate_dirs, find_model_dirs, load_predictor


def run(
    params: Params, model_dirs: list[Path] | None = None, loader=load_predictor, progress: bool = False
) -> dict[str, dict]:
    """The evaluate stage from validated params: ``model_dirs``, or every model under ``evaluate.models``, scored on
    ``evaluate.data``'s test clips into ``evaluate.out``; returns each model's results by name."""
    p = params.evaluate
    dirs = [Path(d) for d in model_dirs] if model_dirs else find_model_dirs(p.models)
    if not dirs:
        raise InputError(p.models, "no model to evaluate (no model.json in it or two levels below)", "missing_models")
    for d in dirs:
        if not (d / "model.json").is_file():
            raise InputError(d / "model.json", "file not found (not a model directory)", "missing_model")
    curated = Path(p.curated)
    try:
        return evaluate_dirs(
            dirs,
            p.data,
            p.out,
            alignment=p.alignment,
            min_depth=p.min_depth,
            max_depth=p.max_depth,
            batch_size=p.batch_size,
            examples=p.examples,
            curated_dir=curated if curated.is_dir() else None,
            mvs_curate_params=params.curate if p.example_mvs else None,
            loader=loader,
            progress=progress,
            people_curate=params.curate if p.people else None,
            parallax_store=params.parallax.out,
        )
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(p.data, str(exc), "evaluation_failed") from None

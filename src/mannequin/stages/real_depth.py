"""``make real-depth``'s experiment, beside ``dvc.yaml``: real scenes with true depth as test clips, every model
scored on them, and the tables written (``mannequin real-data`` then ``mannequin real-depth``).

:func:`run_data` converts the sources of ``real_depth`` (:mod:`mannequin.ingest.real_data`) into ``real_depth.data``;
:func:`run` scores every model under ``real_depth.models`` and the baselines on its clips
(:mod:`mannequin.evaluation.real_depth`: poses from ``poses.txt`` or SfM with ``curate.sfm``, stored in
``<real_depth.out>/poses``; the parallax input swept as the ``parallax`` stage does), writes
``<real_depth.out>/real_depth.json`` and, when asked, its copy in ``bench/results`` and the table of the results
page (:mod:`mannequin.evaluation.real_depth_report`). The report reads that file (``report.real_depth``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.config import Params
from mannequin.errors import InputError
from mannequin.evaluation.evaluate import ModelRun, dumps, find_model_dirs, load_predictor, model_info
from mannequin.ingest.real_data import CASTEL, MOTORCYCLE, RealDataSummary, read_manifest, write_real_data


def run_data(params: Params, only: tuple[str, ...] | None = None) -> RealDataSummary:
    """``mannequin real-data``: the clips of ``real_depth.castel`` and ``real_depth.middlebury`` (``only``: those
    named) written into ``real_depth.data``."""
    p = params.real_depth
    return write_real_data(p.data, p.castel, p.middlebury, only or (CASTEL, MOTORCYCLE))


def run(
    params: Params,
    model_dirs: list[Path] | None = None,
    results: str | Path | None = None,
    page: str | Path | None = None,
    loader: Any = load_predictor,
) -> dict[str, Any]:
    """``mannequin real-depth``: every model under ``real_depth.models`` (or ``model_dirs``) and the baselines on
    every clip of ``real_depth.data``; ``results``: a copy of the JSON; ``page``: a markdown page whose real-depth
    table is rewritten. ``loader(model_dir)`` builds a predictor."""
    from mannequin.atomic import atomic_write_text
    from mannequin.curation.parallax import sweep_params
    from mannequin.curation.sfm_store import PoseSource
    from mannequin.evaluation.real_depth import ALIGNMENT, evaluate_real_depth
    from mannequin.evaluation.real_depth_report import RESULT_FILE, update_results_page

    p, curate = params.real_depth, params.curate
    if not (Path(p.data) / "splits.csv").is_file():
        raise InputError(Path(p.data) / "splits.csv", "file not found (run mannequin real-data first)", "missing_data")
    dirs = [Path(d) for d in model_dirs] if model_dirs else find_model_dirs(p.models)
    if not dirs:
        raise InputError(p.models, "no model to evaluate (no model.json in it or two levels below)", "missing_models")
    runs = []
    for d in dirs:
        predictor = loader(d)
        runs.append(ModelRun(model_info(d, getattr(predictor, "meta", {}) or {}), predictor, ALIGNMENT))
    try:
        result = evaluate_real_depth(
            runs,
            p.data,
            poses=PoseSource("auto", curate.sfm, Path(p.out) / "poses"),
            mvs=sweep_params(curate.mvs, curate.masks),
            sweep_width=p.sweep_width or curate.max_width,
            min_depth=p.min_depth,
            max_depth=p.max_depth,
            batch_size=p.batch_size,
            device="cpu" if curate.device == "auto" else curate.device,
            manifest=read_manifest(p.data),
        )
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(p.data, str(exc), "evaluation_failed") from None
    text = dumps(result)
    atomic_write_text(Path(p.out) / RESULT_FILE, text)
    if results is not None:
        atomic_write_text(results, text)
    if page is not None:
        update_results_page(page, result)
    return result

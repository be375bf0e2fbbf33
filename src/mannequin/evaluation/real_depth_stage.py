"""``make real-depth`` composed from params: real test clips written, every model scored on them, tables written.

(Until the ``mannequin.stages`` package exists, this module is where the real-depth work is composed from a
``Params``; it will move there.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mannequin.errors import InputError


def run_real_data(params: Any, only: tuple[str, ...] | None = None) -> Any:
    """``mannequin real-data``: the real test clips of ``real_depth.castel`` and ``real_depth.middlebury`` written
    into ``real_depth.data`` (a :class:`mannequin.ingest.real_data.RealDataSummary`)."""
    from mannequin.ingest.real_data import CASTEL, MOTORCYCLE, write_real_data

    p = params.real_depth
    return write_real_data(p.data, p.castel, p.middlebury, only or (CASTEL, MOTORCYCLE))


def run_real_depth(
    params: Any,
    model_dirs: list[Path] | None = None,
    results: str | Path | None = None,
    readme: str | Path | None = None,
    loader: Any = None,
) -> dict[str, Any]:
    """``mannequin real-depth``: every model under ``real_depth.models`` (or ``model_dirs``) and the baselines on
    every clip of ``real_depth.data``; writes ``<real_depth.out>/real_depth.json`` and, when given, a copy to
    ``results`` (bench/results) and the README block of ``readme``. ``loader(model_dir)`` builds a predictor."""
    from mannequin.atomic import atomic_write_text
    from mannequin.curation.parallax import single_source
    from mannequin.curation.sfm_store import PoseSource
    from mannequin.evaluation.evaluate import ModelRun, dumps, find_model_dirs, load_predictor, model_info
    from mannequin.evaluation.real_depth import ALIGNMENT, evaluate_real_depth
    from mannequin.evaluation.real_depth_report import RESULT_FILE, update_readme

    p, curate = params.real_depth, params.curate
    if not (Path(p.data) / "splits.csv").is_file():
        raise InputError(Path(p.data) / "splits.csv", "file not found (run mannequin real-data first)", "missing_data")
    dirs = [Path(d) for d in model_dirs] if model_dirs else find_model_dirs(p.models)
    if not dirs:
        raise InputError(p.models, "no model to evaluate (no model.json in it or two levels below)", "missing_models")
    load = loader or load_predictor
    runs = []
    for d in dirs:
        predictor = load(d)
        runs.append(ModelRun(model_info(d, getattr(predictor, "meta", {}) or {}), predictor, ALIGNMENT))
    poses = PoseSource("auto", curate.sfm, Path(p.out) / "poses")
    result = evaluate_real_depth(
        runs,
        p.data,
        poses=poses,
        mvs=single_source(curate.mvs, curate.masks.parallax_planes),
        sweep_width=p.sweep_width or curate.max_width,
        min_depth=p.min_depth,
        max_depth=p.max_depth,
        batch_size=p.batch_size,
        device="cpu" if curate.device == "auto" else curate.device,
    )
    text = dumps(result)
    atomic_write_text(Path(p.out) / RESULT_FILE, text)
    if results is not None:
        atomic_write_text(results, text)
    if readme is not None:
        update_readme(readme, result)
    return result

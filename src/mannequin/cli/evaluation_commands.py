"""Commands of the evaluation stage: ``mannequin evaluate`` and ``mannequin report``."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, user_errors
from mannequin.errors import InputError


@app.command("evaluate")
@user_errors
def evaluate(
    model_dir: list[Path] = typer.Option(
        None,
        "--model-dir",
        help="A model directory (with model.json); repeatable. Default: all under --models.",
    ),
    models: Path = typer.Option(None, "--models", help="Evaluate all models in this folder (params: evaluate.models)."),
    data: Path = typer.Option(None, "--data", help="The data folder with the test clips (params: evaluate.data)."),
    curated: Path = typer.Option(None, "--curated", help="Curated folder, for MVS panels (params: evaluate.curated)."),
    out: Path = typer.Option(None, "--out", help="Where metrics/<model>.json go (params: evaluate.out)."),
    params: Path = typer.Option(Path("params.yaml"), "--params", help="The params file (missing: defaults)."),
) -> None:
    """Score models on every test-split frame with sensor depth; write one metrics JSON per model."""
    from mannequin.config import load_params
    from mannequin.evaluation.evaluate import evaluate_dirs, find_model_dirs

    all_params = load_params(params)
    p = all_params.evaluate
    data = data or Path(p.data)
    out = out or Path(p.out)
    dirs = [Path(d) for d in model_dir] if model_dir else find_model_dirs(models or Path(p.models))
    for d in dirs:
        if not (d / "model.json").is_file():
            raise InputError(d / "model.json", "file not found (not a model directory)", "missing_model")
    curated_dir = curated or Path(p.curated)
    try:
        results = evaluate_dirs(
            dirs,
            data,
            out,
            alignment=p.alignment,
            min_depth=p.min_depth,
            max_depth=p.max_depth,
            batch_size=p.batch_size,
            examples=p.examples,
            curated_dir=curated_dir if curated_dir.is_dir() else None,
            mvs_curate_params=all_params.curate if p.example_mvs else None,
        )
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(data, str(exc), "evaluation_failed") from None
    for name, r in sorted(results.items()):
        m = r["metrics"]
        print(
            f"{name}: abs_rel {m['abs_rel']:.4f}  rmse {m['rmse']:.4f}  a1 {m['a1']:.4f}  "
            f"({r['alignment']}, {r['num_frames']} frames, {r['num_pixels']} pixels)"
        )


@app.command("report")
@user_errors
def report(
    metrics: Path = typer.Option(None, "--metrics", help="Metrics folder from evaluate (params: report.metrics)."),
    out: Path = typer.Option(None, "--out", help="Where the report goes (params: report.out)."),
    data: Path = typer.Option(None, "--data", help="Data folder, for the curation audit (params: report.data)."),
    curated: Path = typer.Option(None, "--curated", help="Curated folder, for the audit (params: report.curated)."),
    params: Path = typer.Option(Path("params.yaml"), "--params", help="The params file (missing: defaults)."),
) -> None:
    """Summary table, label-efficiency plot, example frames and curation audit, from the metrics files."""
    from mannequin.config import load_params
    from mannequin.evaluation.report import write_report

    p = load_params(params).report
    summary = write_report(
        metrics or Path(p.metrics),
        out or Path(p.out),
        data_dir=data or Path(p.data),
        curated_dir=curated or Path(p.curated),
        params=p,
    )
    print(f"report: {len(summary['models'])} models -> {out or p.out}/summary.md")

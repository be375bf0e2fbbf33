"""Commands of the evaluation stage: ``mannequin evaluate`` and ``mannequin report``."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, params_option, user_errors


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
    params_file: Path = params_option(),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar over models x clips."),
) -> None:
    """Score models on every test-split frame with sensor depth; write one metrics JSON per model."""
    from mannequin.config import cli_overrides
    from mannequin.stages import evaluate as stage
    from mannequin.stages.params import load_params

    params = load_params(params_file, cli_overrides("evaluate", models=models, data=data, curated=curated, out=out))
    results = stage.run(params, model_dir or None, progress=progress)
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
    params_file: Path = params_option(),
) -> None:
    """Summary table, label-efficiency plot, example frames and curation audit, from the metrics files."""
    from mannequin.config import cli_overrides
    from mannequin.stages import report as stage
    from mannequin.stages.params import load_params

    params = load_params(params_file, cli_overrides("report", metrics=metrics, out=out, data=data, curated=curated))
    summary = stage.run(params)
    print(f"report: {len(summary['models'])} models -> {params.report.out}/summary.md")

"""Commands for real scenes with true depth: ``real-data`` (convert them) and ``real-depth`` (score every model)."""

from __future__ import annotations

from pathlib import Path

import typer

from mannequin.cli.app import app, params_option, user_errors
from mannequin.errors import InputError


@app.command("real-data")
@user_errors
def real_data(
    out: Path = typer.Argument(None, help="Where to write the real test clips (params: real_depth.data)."),
    castel: Path = typer.Option(
        None, "--castel", help="ViSP's castel folder (params: real_depth.castel; default: visp-images-data's)."
    ),
    middlebury: Path = typer.Option(
        None, "--middlebury", help="A folder with the Motorcycle pair (params: real_depth.middlebury; scikit-image's)."
    ),
    only: list[str] = typer.Option(None, "--only", help="Write only this clip (castel or motorcycle); repeatable."),
    params_file: Path = params_option(),
) -> None:
    """Convert real scenes with true depth into test clips of the data layout.

    castel: ViSP's real RGB-D sequence (Debian visp-images-data, GPL-2: never commit it), depth registered to the
    grey camera, its unit found from the castle's CAD model; skipped with one line when the package is absent.
    motorcycle: the Middlebury 2014 pair scikit-image ships, depth from its ground-truth disparity.
    """
    from mannequin.config import cli_overrides
    from mannequin.ingest.real_data import CASTEL, MOTORCYCLE
    from mannequin.stages import real_depth as stage
    from mannequin.stages.params import load_params

    bad = [o for o in only or [] if o not in (CASTEL, MOTORCYCLE)]
    if bad:
        raise InputError("--only", f"{bad[0]!r} is not {CASTEL} or {MOTORCYCLE}", "bad_option")
    params = load_params(params_file, cli_overrides("real_depth", data=out, castel=castel, middlebury=middlebury))
    summary = stage.run_data(params, tuple(only) if only else None)
    for line in summary.lines(Path(params.real_depth.data)):
        typer.echo(line)


@app.command("real-depth")
@user_errors
def real_depth(
    model_dir: list[Path] = typer.Option(
        None, "--model-dir", help="A model directory (with model.json); repeatable. Default: all under --models."
    ),
    models: Path = typer.Option(None, "--models", help="Score every model in this folder (params: real_depth.models)."),
    data: Path = typer.Option(None, "--data", help="The folder real-data wrote (params: real_depth.data)."),
    out: Path = typer.Option(None, "--out", help="Where real_depth.json goes (params: real_depth.out)."),
    results: Path = typer.Option(None, "--results", help="Also write the result here (bench/results/real_depth.json)."),
    results_page: Path = typer.Option(
        None, "--results-page", help="Rewrite the real-depth table of this page (docs/results.md)."
    ),
    params_file: Path = params_option(),
) -> None:
    """Score every model, a constant depth and the raw parallax input on the real test clips (median-aligned)."""
    from mannequin.config import cli_overrides
    from mannequin.evaluation.real_depth_report import real_depth_body
    from mannequin.stages import real_depth as stage
    from mannequin.stages.params import load_params

    params = load_params(params_file, cli_overrides("real_depth", models=models, data=data, out=out))
    result = stage.run(params, model_dir or None, results, results_page)
    typer.echo("\n".join(real_depth_body(result)).rstrip())
    typer.echo(f"wrote {Path(params.real_depth.out) / 'real_depth.json'}")

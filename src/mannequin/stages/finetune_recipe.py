"""Two fine-tuning recipes on the same pretrained models, labels and test clips
(the entry point is ``bench/bench_finetune_recipe.py``).

For a sample (``data``, ``curated``, ``parallax``), ``mvs`` and ``mvs-parallax`` are pretrained once (or taken from
``pretrained``), then every init (scratch too) is fine-tuned at ``finetune.budgets`` with each recipe (params
overrides: the defaults are ``{}``) and scored on the sample's test clips. Everything goes under ``out``:
``pretrain/``, ``<recipe>/{models,runs,metrics}``; runs resume.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mannequin.stages import finetune, pretrain
from mannequin.stages.compare import ensure_parallax_store
from mannequin.stages.finetune import SCRATCH
from mannequin.stages.learning_scale import scored_metrics
from mannequin.stages.params import load_params

#: the pretrained inits compared beside scratch
INITS = ("mvs", "mvs-parallax")


def run_recipes(
    params_path: str | Path | None,
    out: Path,
    recipes: Mapping[str, dict[str, Any]],
    sample: Mapping[str, str | Path],
    pretrained: Path | None = None,
    overrides: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fine-tune and score every init and budget with each recipe; returns ``{recipe: {"<init>-<budget>": row}}``.

    ``sample`` has ``data``, ``curated`` and ``parallax`` folders; ``overrides`` apply to every run."""
    from mannequin.evaluation.evaluate import evaluate_dirs

    folders = {
        "curate.data": str(sample["data"]), "pretrain.data": str(sample["data"]), "finetune.data": str(sample["data"]),
        "evaluate.data": str(sample["data"]), "pretrain.curated": str(sample["curated"]),
        "parallax.data": str(sample["data"]), "parallax.out": str(sample["parallax"]),
        "finetune.parallax": str(sample["parallax"]),
        "pretrain.out": str(pretrained or out / "pretrain" / "models"), "pretrain.runs": str(out / "pretrain" / "runs"),
        "finetune.pretrained": str(pretrained or out / "pretrain" / "models"),
    }  # fmt: skip
    base = load_params(params_path, {**(overrides or {}), **folders})
    if pretrained is None:
        for objective in INITS:
            log(f"pretrain {objective}: {pretrain.run(base, objective).steps} steps")
    ensure_parallax_store(base, log)
    table: dict[str, Any] = {}
    for recipe, recipe_overrides in recipes.items():
        root = out / recipe
        params = load_params(params_path, {
            **(overrides or {}), **recipe_overrides, **folders,
            "finetune.out": str(root / "models"), "finetune.runs": str(root / "runs"),
        })  # fmt: skip
        dirs = []
        for init in (SCRATCH, *INITS):
            for budget in params.finetune.budgets:
                result = finetune.run(params, init, budget)
                log(f"{recipe}: {init}-{budget}: {result.steps} steps")
                dirs.append(result.out_dir)
        e = params.evaluate
        scored = evaluate_dirs(
            dirs, e.data, root / "metrics", alignment=e.alignment, min_depth=e.min_depth, max_depth=e.max_depth,
            batch_size=e.batch_size, examples=0, people_curate=params.curate, parallax_store=params.parallax.out,
        )  # fmt: skip
        table[recipe] = {name.removeprefix("finetune-"): scored_metrics(r) for name, r in sorted(scored.items())}
    return table

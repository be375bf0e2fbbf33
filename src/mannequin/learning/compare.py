"""Every registered pretext compared on the same data: pretrain each, fine-tune each (and scratch), score, report.

For each seed, under ``<out>/seed-<seed>/``: ``models/pretrain/<pretext>`` (same steps, seed and curated shards
for every pretext), ``models/finetune/<init>-<budget>`` at ``finetune.budgets``, ``runs/`` and ``metrics/``
(``mannequin evaluate``'s files). Then ``<out>/report/pretexts_compared.{md,json,png}`` from those metrics files.
Runs resume: a finished run is reused (its digest matches), so a second call only redoes what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mannequin.config import Params, load_params
from mannequin.learning.objectives import objective_names

SCRATCH = "scratch"


def pretexts() -> list[str]:
    """Every registered objective: the pretexts compared."""
    return objective_names()


def seed_params(params_path: str | Path | None, seed: int, root: Path, overrides: dict[str, Any]) -> Params:
    """The params of one seed: both seeds set, every folder under ``root``, all pretexts listed."""
    names = pretexts()
    return load_params(params_path, {
        **overrides,
        "pretrain.seed": seed, "finetune.seed": seed,
        "pretrain.objectives": names, "finetune.inits": names,
        "pretrain.out": str(root / "models" / "pretrain"), "pretrain.runs": str(root / "runs"),
        "finetune.pretrained": str(root / "models" / "pretrain"),
        "finetune.out": str(root / "models" / "finetune"), "finetune.runs": str(root / "runs"),
        "evaluate.out": str(root / "metrics"),
    })  # fmt: skip


def run_compare(
    params_path: str | Path | None,
    seeds: list[int],
    out: str | Path,
    overrides: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Pretrain, fine-tune and evaluate every pretext for each seed, then write the comparison; returns it."""
    from mannequin.evaluation.evaluate import evaluate_dirs
    from mannequin.evaluation.report import write_pretext_report
    from mannequin.learning.train import run_finetune, run_pretrain

    out = Path(out)
    seed_metrics = {}
    for seed in seeds:
        root = out / f"seed-{seed}"
        params = seed_params(params_path, seed, root, overrides or {})
        for name in pretexts():
            result = run_pretrain(params, name)
            log(f"seed {seed}: pretrain {name}: {result.steps} steps")
        dirs = []
        for init in [SCRATCH, *pretexts()]:
            for budget in params.finetune.budgets:
                result = run_finetune(params, init, budget)
                log(f"seed {seed}: finetune {init}-{budget}: {result.steps} steps")
                dirs.append(result.out_dir)
        e = params.evaluate
        evaluate_dirs(dirs, e.data, e.out, alignment=e.alignment, min_depth=e.min_depth, max_depth=e.max_depth,
                      batch_size=e.batch_size, examples=0)  # fmt: skip
        seed_metrics[seed] = Path(e.out)
    return write_pretext_report(seed_metrics, out / "report")

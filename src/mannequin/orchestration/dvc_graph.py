"""The order in which ``dvc repro`` would run the stages, read from DVC's own graph."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from mannequin.env import dvc_site_cache_dir
from mannequin.errors import InputError


def _site_cache(root: Path) -> dict[str, dict[str, str]]:
    return {"core": {"site_cache_dir": str(dvc_site_cache_dir(root))}}


def stage_order(repo: str | Path = ".", targets: Sequence[str] | None = None) -> list[str]:
    """Addresses of the pipeline stages ``dvc repro [targets]`` would visit, dependencies first.

    Expanded ``foreach``/``matrix`` stages appear as ``name@key``; stages of a ``dvc.yaml`` outside
    the repository root as ``path/dvc.yaml:name``. Data-only stages (``.dvc`` files) have no
    command and are left out. An unknown target is an :class:`InputError`.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo
    from dvc.repo.reproduce import get_active_graph, plan_repro
    from dvc.stage import PipelineStage

    root = Path(repo).resolve()
    if not (root / ".dvc").is_dir():
        raise InputError(root, "not a DVC repository (no .dvc/ folder)", "not_dvc_repo")
    try:
        # DVC resolves targets against the working directory, as its CLI does.
        with contextlib.chdir(root), Repo(str(root), config=_site_cache(root)) as dvc_repo:
            stages = []
            for target in targets or ["dvc.yaml"]:
                stages.extend(dvc_repo.stage.collect(target))
            graph = get_active_graph(dvc_repo.index.graph)
            planned = plan_repro(graph, stages)
            return [stage.addressing for stage in planned if isinstance(stage, PipelineStage)]
    except DvcException as exc:
        where = ", ".join(targets) if targets else "dvc.yaml"
        raise InputError(root / "dvc.yaml", f"cannot plan stages {where}: {exc}", "bad_stage") from None

"""The import graph of ``mannequin`` (grimp: imports inside functions count) and the files a module's import
closure runs, checked against ``dvc.yaml``'s code deps."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import grimp
import yaml

REPO = Path(__file__).resolve().parents[2]
#: where a stage's code deps live in dvc.yaml (data and outputs are other deps)
CODE_ROOTS = ("src/", "flows/")


def import_graph() -> grimp.ImportGraph:
    """Every import between modules of ``mannequin``, those inside functions and under TYPE_CHECKING included."""
    return grimp.build_graph("mannequin", cache_dir=None)


def module_file(module: str, root: Path = REPO) -> str:
    """The source file of ``module`` relative to ``root``: ``src/mannequin/.../name.py`` or ``.../__init__.py``."""
    base = Path("src", *module.split("."))
    file = base.with_suffix(".py")
    return (file if (root / file).is_file() else base / "__init__.py").as_posix()


def closure_files(graph: grimp.ImportGraph, module: str) -> set[str]:
    """The files that run when ``module`` is imported: it, every module it imports directly or not, the packages that
    hold them (their ``__init__.py`` runs first) and what those import in turn."""
    modules: set[str] = set()
    todo = {module}
    while todo:
        modules |= todo
        found = set()
        for name in todo:
            parts = name.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts)))
            found.update(graph.find_upstream_modules(name))
        todo = found - modules
    return {module_file(m) for m in modules}


def stage_code_deps(dvc_yaml: Path) -> dict[str, list[str]]:
    """Each stage of ``dvc_yaml`` (``foreach``/``matrix`` ones by name) -> its deps under ``src/`` or ``flows/``."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    deps = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        deps[name] = [str(d) for d in body.get("deps", []) if str(d).startswith(CODE_ROOTS)]
    return deps


def covered(file: str, deps: Iterable[str]) -> bool:
    """Whether a dep of ``deps`` is ``file`` or a folder holding it."""
    return any(file == d.rstrip("/") or file.startswith(d.rstrip("/") + "/") for d in deps)


def uncovered_files(dvc_yaml: Path, stage_modules: dict[str, str], graph: grimp.ImportGraph) -> dict[str, list[str]]:
    """Stage -> the files of its module's import closure that none of its code deps in ``dvc_yaml`` covers; a stage of
    ``dvc_yaml`` missing from ``stage_modules`` (or the reverse) is reported under ``<unmapped>``."""
    deps = stage_code_deps(dvc_yaml)
    missing: dict[str, list[str]] = {}
    unmapped = sorted(set(deps) ^ set(stage_modules))
    if unmapped:
        missing["<unmapped>"] = unmapped
    for stage, module in stage_modules.items():
        if stage not in deps:
            continue
        lost = sorted(f for f in closure_files(graph, module) if not covered(f, deps[stage]))
        if lost:
            missing[stage] = lost
    return missing

"""The package's shape: no import cycle (imports inside functions count), the layers of import-linter's contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.imports import REPO, import_graph


def cycles(graph) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_import_cycle_among_the_modules() -> None:
    graph = import_graph()
    assert len(graph.modules) > 100  # the whole package, not an empty graph
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = import_graph()
    graph.add_import(importer="mannequin.config.base", imported="mannequin.learning.objectives")
    found = cycles(graph)
    assert any({"mannequin.config.base", "mannequin.learning.objectives"} <= set(group) for group in found)


def test_the_layers_contract_holds() -> None:
    """``lint-imports`` (what ``make lint`` runs) with the contract in pyproject.toml."""
    exe = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 1 kept, 0 broken." in done.stdout

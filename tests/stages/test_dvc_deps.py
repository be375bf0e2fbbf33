"""Every stage of dvc.yaml lists, as code deps, every file its stage module runs: a change to any of them reruns it.

The stage -> module table is :data:`mannequin.stages.stage_modules.STAGE_MODULES`; the closure is grimp's (imports
inside functions count). A dep that is missing means a stale cache: DVC would keep an output the new code would not
write.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mannequin.stages.stage_modules import STAGE_MODULES
from tests.helpers.imports import REPO, closure_files, import_graph, uncovered_files


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_every_stage_lists_the_code_it_imports(graph) -> None:
    missing = uncovered_files(REPO / "dvc.yaml", STAGE_MODULES, graph)
    assert missing == {}, "dvc.yaml stages miss code deps (stage: files its module imports):\n" + "\n".join(
        f"  {stage}: {', '.join(files)}" for stage, files in missing.items()
    )


def test_the_check_fails_when_a_dep_is_missing(graph, tmp_path: Path) -> None:
    """pretrain's deps without src/mannequin/curation (it reads curated shards): the check names those files."""
    dag = yaml.safe_load((REPO / "dvc.yaml").read_text())
    deps = dag["stages"]["pretrain"]["do"]["deps"]
    assert "src/mannequin/curation" in deps
    deps.remove("src/mannequin/curation")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(dag))
    missing = uncovered_files(tmp_path / "dvc.yaml", STAGE_MODULES, graph)
    assert set(missing) == {"pretrain"}
    assert "src/mannequin/curation/shards.py" in missing["pretrain"]
    assert all(f.startswith("src/mannequin/curation/") for f in missing["pretrain"])


def test_the_check_fails_when_a_stage_module_imports_more(graph, tmp_path: Path) -> None:
    """A stage module that starts importing a package its deps do not list (a synthetic import in the graph)."""
    graph.add_import(importer="mannequin.stages.report", imported="mannequin.ingest.ingest")
    try:
        missing = uncovered_files(REPO / "dvc.yaml", STAGE_MODULES, graph)
    finally:
        graph.remove_import(importer="mannequin.stages.report", imported="mannequin.ingest.ingest")
    assert "src/mannequin/ingest/ingest.py" in missing["report"]


def test_an_unmapped_stage_is_reported(graph, tmp_path: Path) -> None:
    dag = yaml.safe_load((REPO / "dvc.yaml").read_text())
    dag["stages"]["new-stage"] = {"cmd": "mannequin new", "deps": ["src/mannequin/stages/new.py"]}
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(dag))
    assert uncovered_files(tmp_path / "dvc.yaml", STAGE_MODULES, graph)["<unmapped>"] == ["new-stage"]


def test_the_closure_counts_imports_inside_functions(graph) -> None:
    """``stages.curate`` imports the Prefect flow inside a function (Prefect's log level is read at import)."""
    assert "src/mannequin/stages/curate_flow.py" in closure_files(graph, "mannequin.stages.curate")
    assert "src/mannequin/learning/objectives/__init__.py" in closure_files(graph, "mannequin.stages.check_params")

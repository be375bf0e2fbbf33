"""The generated references of the docs site hold every command and every params key; the README stays short.

The generators are the site's MkDocs hooks (``docs/hooks/references.py``); these tests walk the typer app and the
params models on their own and check the generators' markdown against that walk, and render it with the same
Markdown library the site uses.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import markdown
import pytest
import typer
from pydantic import BaseModel

from mannequin.cli import app
from mannequin.config import Params

REPO = Path(__file__).resolve().parents[2]
#: the commands of the fixed command-line contract: the reference must hold them whatever the walk finds
CONTRACT_COMMANDS = {"sample-data", "curate", "mvs", "pretrain", "finetune", "evaluate", "report", "pipeline",
                     "poses", "ingest", "predict"}  # fmt: skip


def load_hooks() -> Any:
    spec = importlib.util.spec_from_file_location("docs_hooks_references", REPO / "docs" / "hooks" / "references.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()


def app_commands(command: Any, prefix: str = "") -> list[str]:
    """Every visible command of a click group, recursively, as ``group command``."""
    found = []
    for name, sub in getattr(command, "commands", {}).items():
        if not getattr(sub, "hidden", False):
            found.append(prefix + name)
            found += app_commands(sub, f"{prefix}{name} ")
    return found


def params_defaults(model: type[BaseModel], dumped: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> default of every leaf of the params models."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out |= params_defaults(annotation, dumped[name], f"{prefix}{name}.")
        else:
            out[f"{prefix}{name}"] = dumped[name]
    return out


COMMANDS = app_commands(typer.main.get_command(app))
DEFAULTS = params_defaults(Params, Params().model_dump(mode="json"))


def test_the_walks_find_the_contract() -> None:
    assert set(COMMANDS) >= CONTRACT_COMMANDS
    assert len(DEFAULTS) > 150 and "curate.mvs.planes" in DEFAULTS and "spread.seeds" in DEFAULTS


def test_every_command_has_a_section_in_the_cli_reference() -> None:
    text = hooks.cli_reference()
    headings = set(re.findall(r"^#{2,6} `mannequin ([a-z0-9 -]+)`$", text, flags=re.M))
    assert headings == set(COMMANDS)
    assert hooks.command_paths() == COMMANDS
    for command in COMMANDS:  # and in the table at the top, linked to its section
        assert f"| [`{command}`](#mannequin-{command.replace(' ', '-')}) |" in text


def test_the_cli_reference_shows_options_and_help() -> None:
    text = hooks.cli_reference()
    curate = text.split("## `mannequin curate`", 1)[1].split("\n## ", 1)[0]
    assert "$ mannequin curate [OPTIONS]" in curate
    assert "| `--data <path>` |" in curate and "| `--params <path>` |" in curate and "`params.yaml`" in curate
    html = markdown.markdown(text, extensions=["tables", "fenced_code"])
    # help text with paths like clips/<id>/ is text, never markup
    assert "clips/&lt;id&gt;/" in html and "<id>" not in html


def test_every_params_key_has_a_row_with_its_default() -> None:
    text = hooks.params_reference()
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([a-z0-9_.]+)` \| (.+?) \| `(.*)` \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2), json.loads(m.group(3)), m.group(4))
    assert set(rows) == set(DEFAULTS)
    assert hooks.params_keys() == list(DEFAULTS)
    for key, default in DEFAULTS.items():
        kind, shown, _ = rows[key]
        assert shown == default, key
        assert kind.strip(), key
    assert [key for key, (_, _, description) in rows.items() if not description.strip()] == []  # every key described
    # the defaults are the model's, not the field's: the trainer field says 300 steps, pretraining 1000, fine-tuning 60
    assert rows["pretrain.trainer.max_steps"][1] == 1000 and rows["finetune.trainer.max_steps"][1] == 60
    assert rows["curate.mvs.planes"][0] == "int (≥ 4)"
    assert rows["curate.mvs.backend"][0] == '"auto" \\| "numba" \\| "torch"'


def test_every_block_has_a_heading() -> None:
    text = hooks.params_reference()
    parts = [key.split(".") for key in DEFAULTS]
    blocks = {".".join(p[:i]) for p in parts for i in range(1, len(p))}  # every block, nested ones included
    headings = set(re.findall(r"^#{2,6} `([a-z0-9_.]+)`$", text, flags=re.M))
    assert headings == blocks


def test_the_build_check_refuses_a_reference_that_misses_a_command() -> None:
    """The hook that fails ``mkdocs build`` when a command or key has no entry, on pages built by hand."""
    page = SimpleNamespace(file=SimpleNamespace(src_uri=hooks.CLI_PAGE))
    headings = "".join(f'<h2 id="x"><code>mannequin {c}</code><a class="headerlink">¶</a></h2>' for c in COMMANDS)
    assert hooks.on_page_content(headings, page=page) == headings
    missing_one = headings.replace("<code>mannequin curate</code>", "<code>curate</code>")
    with pytest.raises(Exception, match="misses curate"):
        hooks.on_page_content(missing_one, page=page)
    params_page = SimpleNamespace(file=SimpleNamespace(src_uri=hooks.PARAMS_PAGE))
    cells = "".join(f"<tr><td><code>{k}</code></td><td>x</td></tr>" for k in DEFAULTS if k != "spread.seeds")
    with pytest.raises(Exception, match=r"misses spread\.seeds"):
        hooks.on_page_content(cells, page=params_page)


def test_markdown_text_is_literal() -> None:
    html = markdown.markdown("| a |\n|---|\n| " + hooks.md_text("threads | dask, *.png, [x], <id>") + " |",
                             extensions=["tables"])  # fmt: skip
    assert "<td>threads | dask, *.png, [x], &lt;id&gt;</td>" in html


def test_the_readme_is_short_and_its_links_resolve() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "make demo" in readme and "make test" in readme and "docs/people_frame.png" in readme
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert len(local) >= 10
    assert [t for t in local if not (REPO / t).exists()] == []

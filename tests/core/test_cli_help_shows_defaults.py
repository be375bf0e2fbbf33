"""Issue 12: ``--help`` of every command shows its defaults and every bracketed note of its options.

With typer's rich markup, help text such as ``[params: pretrain.out]`` was read as a style tag and vanished.
"""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from mannequin.cli import app

GROUP = typer.main.get_command(app)  # typer's own (vendored) click group: duck-typed below


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # line wrapping aside


def _has_default(param: object) -> bool:
    is_option = getattr(param, "param_type_name", "") == "option"
    return (
        is_option and getattr(param, "name", "") != "help" and getattr(param, "default", None) not in (None, False, ())
    )


@pytest.mark.parametrize("name", sorted(GROUP.commands))  # type: ignore[attr-defined]
def test_help_shows_every_default_and_bracketed_note(name: str) -> None:
    command = GROUP.commands[name]  # type: ignore[attr-defined]
    shown = _help(name)
    for param in command.params:
        for note in re.findall(r"\[[^\]]*\]", getattr(param, "help", None) or ""):
            assert " ".join(note.split()) in shown, (name, note)
    assert shown.count("[default: ") >= sum(_has_default(p) for p in command.params), shown
    if any(p.name == "params_file" for p in command.params):
        assert "[default: params.yaml]" in shown


def test_known_defaults_show() -> None:
    assert "--curated <path> Curated folder with shards/ [params: pretrain.curated]." in _help("pretrain")
    assert "--progress / --no-progress Show a progress bar. [default: progress]" in _help("pretrain")
    assert len(GROUP.commands) >= 10 and all(name in _help() for name in GROUP.commands)  # type: ignore[attr-defined]  # the root help lists every command

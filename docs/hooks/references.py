"""MkDocs hooks: the params reference generated from the pydantic models, and a check of both references.

``reference/params.md`` holds the marker :data:`PARAMS_MARKER`; :func:`on_page_markdown` replaces it with one
table per params block, walked from :class:`mannequin.config.Params` (type, default and description of every
key). ``reference/cli.md`` holds :data:`CLI_MARKER`, replaced by a section per command of the typer app: typer's own
markdown docs of the app (``typer.cli.get_docs_for_click``, in process), read into mkdocs-typer2's command tree and
written out with the help text escaped. (mkdocs-typer2's ``:::`` directive is not used: its native engine does not
read typer 0.29's commands, and its legacy engine puts help text such as ``clips/<id>/`` into the page as HTML.)
:func:`on_page_content` fails the build when a command of the app or a params key has no entry in the built page,
so neither reference can fall behind the code. The tests in ``tests/docs`` call the same functions.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from html import escape
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

CLI_MARKER = "<!-- generated: cli reference -->"
PARAMS_MARKER = "<!-- generated: params reference -->"
CLI_PAGE = "reference/cli.md"
PARAMS_PAGE = "reference/params.md"
PROGRAM = "mannequin"

_BOUNDS = ((annotated_types.Ge, "ge", "≥"), (annotated_types.Gt, "gt", ">"),
           (annotated_types.Le, "le", "≤"), (annotated_types.Lt, "lt", "<"))  # fmt: skip


# ---- the command line -------------------------------------------------------------------------------------------


def _app(app: Any = None) -> Any:
    """The typer app with every command module registered (importing ``mannequin.cli`` registers them)."""
    if app is None:
        from mannequin.cli import app
    return app


def command_paths(app: Any = None) -> list[str]:
    """Every command of the typer app, sub-commands as ``group command``, hidden ones left out."""
    import typer

    return list(_walk_commands(typer.main.get_command(_app(app)), ()))


def _walk_commands(group: Any, prefix: tuple[str, ...]) -> Iterator[str]:
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "hidden", False):
            continue
        path = (*prefix, name)
        yield " ".join(path)
        yield from _walk_commands(command, path)


def cli_tree(app: Any = None) -> Any:
    """The app's commands as mkdocs-typer2's tree, read from typer's own markdown docs of the app (in process)."""
    import typer
    from mkdocs_typer2.pretty import parse_markdown_to_tree
    from typer.cli import get_docs_for_click

    command = typer.main.get_command(_app(app))
    docs = get_docs_for_click(obj=command, ctx=typer.Context(command, info_name=PROGRAM), name=PROGRAM)
    return parse_markdown_to_tree(docs)


_MARKDOWN_SPECIALS = "\\`*_[]|"


def md_text(text: str) -> str:
    """Text as literal markdown: no HTML (``clips/<id>/`` stays text), no emphasis, links or table-column breaks."""
    text = escape(text, quote=False)
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in text)


def cli_reference(app: Any = None) -> str:
    """Markdown: the commands at a glance, then a section per command with its usage, arguments and options."""
    tree = cli_tree(app)
    out = [md_text(" ".join(tree.description.split())) + "\n", f"```console\n$ {tree.usage}\n```\n"]
    out += _params_table("option", tree.options)
    out += ["| command | does |\n|---|---|"]
    glance = [f"| [`{name}`](#{_anchor(name)}) | {md_text(does)} |" for name, does in _at_a_glance(tree)]
    out += ["\n".join(glance) + "\n"]
    for sub in tree.subcommands:
        out += _command_section(sub, level=2)
    return "\n".join(out)


def _at_a_glance(tree: Any) -> list[tuple[str, str]]:
    """Each command and the first paragraph of its help (typer's own list cuts it at 45 characters)."""
    rows = []
    for sub in tree.subcommands:
        name = sub.name.strip().strip("`").removeprefix(f"{PROGRAM} ")
        rows.append((name, " ".join(sub.description.strip().split("\n\n")[0].split())))
    return rows


def _anchor(name: str) -> str:
    """The heading id mkdocs' toc gives ``## `mannequin <name>```."""
    return f"{PROGRAM}-{name}".replace(" ", "-")


def _command_section(node: Any, level: int) -> list[str]:
    name = node.name.strip().strip("`")
    out = [f"{'#' * level} `{name}`\n"]
    out += [md_text(" ".join(p.split())) + "\n" for p in node.description.strip().split("\n\n") if p.strip()]
    out += [f"```console\n$ {node.usage}\n```\n"]
    out += _params_table("argument", node.arguments)
    out += _params_table("option", node.options)
    for sub in node.subcommands:
        out += _command_section(sub, min(level + 1, 6))
    return out


def _params_table(kind: str, params: list[Any]) -> list[str]:
    if not params:
        return []
    rows = [f"| {kind} | description | {'required' if kind == 'argument' else 'default'} |", "|---|---|---|"]
    for p in params:
        last = ("yes" if p.required else "no") if kind == "argument" else (f"`{p.default}`" if p.default else "")
        rows.append(f"| `{p.name}` | {md_text(p.description)} | {last} |")
    return ["\n".join(rows) + "\n"]


# ---- the params -------------------------------------------------------------------------------------------------


def _block_type(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (directly or as ``Model | None``), else ``None``."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def params_keys(model: type[BaseModel] | None = None, prefix: str = "") -> list[str]:
    """Every leaf key of the params, dotted (``curate.mvs.planes``), in declaration order."""
    model = model or _params_model()
    keys = []
    for name, field in model.model_fields.items():
        block = _block_type(field.annotation)
        keys += params_keys(block, f"{prefix}{name}.") if block else [f"{prefix}{name}"]
    return keys


def _params_model() -> type[BaseModel]:
    from mannequin.config import Params

    return Params


def type_name(annotation: Any) -> str:
    """A short, readable name of a field's type: ``int``, ``list[float]``, ``"auto" | "cpu"``, ``str | None``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        inner, bounds = type_name(args[0]), _bounds(args[1:])
        return f"{inner} ({bounds})" if bounds else inner
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if _is_union(annotation):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(metadata: Any) -> str:
    """``≥ 4, ≤ 7`` from a field's constraints (annotated-types objects or a nested ``Field``)."""
    words = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            words.append(_bounds(item.metadata))
            continue
        for kind, attr, sign in _BOUNDS:
            if isinstance(item, kind):
                words.append(f"{sign} {getattr(item, attr)}")
        if isinstance(item, annotated_types.MinLen):
            words.append(f"at least {item.min_length} item{'s' if item.min_length != 1 else ''}")
    return ", ".join(w for w in words if w)


def doc_text(text: str) -> str:
    """A docstring on one line of markdown: its ````code```` spans kept as code, the rest literal text."""
    parts = " ".join(text.split()).split("``")
    return "".join(f"`{p}`" if i % 2 else md_text(p) for i, p in enumerate(parts))


def _default_text(value: Any) -> str:
    """A default as YAML-ish JSON (``null``, ``true``, ``[2, 8, 32]``), for a code span."""
    return json.dumps(value, ensure_ascii=False)


def params_reference(model: type[BaseModel] | None = None) -> str:
    """Markdown: one section per params block with a row per key (type, default, description)."""
    model = model or _params_model()
    defaults = model().model_dump(mode="json")
    return "\n".join(_block_sections(model, defaults, "", 2))


def _block_sections(model: type[BaseModel], defaults: dict[str, Any], prefix: str, level: int) -> Iterator[str]:
    rows, nested = [], []
    for name, field in model.model_fields.items():
        block = _block_type(field.annotation)
        if block is not None and defaults.get(name) is not None:
            nested.append((name, block))
            continue
        kind = type_name(field.annotation)
        bounds = _bounds(field.metadata)
        if bounds:
            kind = f"{kind} ({bounds})"
        description = field.description or ""
        rows.append(f"| `{prefix}{name}` | {md_text(kind)} | `{_default_text(defaults.get(name))}` | "
                    f"{doc_text(description)} |")  # fmt: skip
    if prefix:
        yield f"{'#' * level} `{prefix.rstrip('.')}`\n"
    if prefix and model.__doc__:
        yield f"{doc_text(model.__doc__)} (`{model.__module__}.{model.__qualname__}`)\n"
    if rows:
        yield "| key | type | default | description |\n|---|---|---|---|"
        yield "\n".join(rows) + "\n"
    for name, block in nested:
        yield from _block_sections(block, defaults[name], f"{prefix}{name}.", min(level + 1, 4) if prefix else level)


# ---- the hooks --------------------------------------------------------------------------------------------------


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Put the generated references in place of their markers."""
    if page.file.src_uri == CLI_PAGE:
        if CLI_MARKER not in markdown:
            raise _error(f"{CLI_PAGE}: the marker {CLI_MARKER!r} is missing")
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if page.file.src_uri == PARAMS_PAGE:
        if PARAMS_MARKER not in markdown:
            raise _error(f"{PARAMS_PAGE}: the marker {PARAMS_MARKER!r} is missing")
        markdown = markdown.replace(PARAMS_MARKER, params_reference())
    return markdown


_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.S)
_CELL = re.compile(r"<td>(.*?)</td>", re.S)


def documented_commands(html: str) -> set[str]:
    """The commands a built CLI page has a heading for (``<h2 ...><code>mannequin curate</code>...</h2>``)."""
    prefix = f"<code>{PROGRAM} "
    return {h.split(prefix, 1)[1].split("</code>", 1)[0] for h in _HEADING.findall(html) if prefix in h}


def documented_keys(html: str) -> set[str]:
    """The params keys a built params page has a table row for (the first cell, ``<td><code>key</code></td>``)."""
    cells = _CELL.findall(html)
    return {c.removeprefix("<code>").removesuffix("</code>") for c in cells if c.startswith("<code>")}


#: a Sphinx role before a code span, as the docstrings write cross-references (``:func:`reconstruct```)
_SPHINX_ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|exc|obj):(?=<code>)")


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    """Drop the Sphinx roles of docstrings shown by mkdocstrings; fail the build when a reference page misses a
    command or a params key."""
    html = _SPHINX_ROLE.sub("", html)
    if page.file.src_uri == CLI_PAGE:
        missing = [path for path in command_paths() if path not in documented_commands(html)]
        if missing:
            raise _error(f"{CLI_PAGE}: the generated CLI reference misses {', '.join(missing)}")
    if page.file.src_uri == PARAMS_PAGE:
        missing = [key for key in params_keys() if key not in documented_keys(html)]
        if missing:
            raise _error(f"{PARAMS_PAGE}: the generated params reference misses {', '.join(missing)}")
    return html


def _error(message: str) -> Exception:
    from mkdocs.exceptions import PluginError

    return PluginError(message)

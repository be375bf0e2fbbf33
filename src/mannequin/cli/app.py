"""The typer application and the error boundary every command goes through."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup

from mannequin.errors import InputError, is_out_of_space

# typer vendors its own click: its usage-error classes, from a public exception's ancestry
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """The command group: a usage error (a bad option value, a missing argument) is one line and exit code 2, like
    every other bad input, instead of click's usage block."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None, standalone_mode: bool = True,
             **extra: Any) -> Any:  # fmt: skip
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _USAGE_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `mannequin` alone: the help, as click shows it
                exc.show()
            else:
                print(f"mannequin: error: {' '.join(exc.format_message().split())}", file=sys.stderr)
            code = exc.exit_code
        except _CLICK_ERROR as exc:
            exc.show()
            code = exc.exit_code
        except typer.Abort:
            print("mannequin: error: aborted", file=sys.stderr)
            code = 1
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    name="mannequin",
    help="Learn monocular depth from video of frozen scenes: curate, pretrain, fine-tune, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: with rich markup, help text in brackets ("[params: pretrain.out]") was read as a style tag
    # and vanished from --help
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


def params_option() -> Any:
    """The ``--params`` option of every command: a given file must exist, only the default may be missing."""
    return typer.Option(
        Path("params.yaml"), "--params", help="The params file; only the default params.yaml may be missing (defaults)."
    )


def _print_version(value: bool) -> None:
    """``--version``: print the version and exit while the options are parsed (no command needed)."""
    if value:
        from mannequin import __version__

        print(__version__)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Learn monocular depth from video of frozen scenes: curate, pretrain, fine-tune, evaluate."""


def fail(message: str, code: int = 2) -> None:
    """Print ``mannequin: error: <message>`` on one line and exit with ``code``."""
    print(f"mannequin: error: {' '.join(str(message).split())}", file=sys.stderr)
    raise typer.Exit(code)


def user_errors(func: F) -> F:
    """Turn bad-input exceptions into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            fail(str(exc))
        except FileNotFoundError as exc:
            fail(f"{exc.filename}: file not found")
        except OSError as exc:
            if not is_out_of_space(exc):
                raise
            fail(f"{exc.filename or 'an output file'}: no space left on device")  # where no writer named its file
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


@app.command("check-params")
@user_errors
def check_params(
    path: str = typer.Argument("params.yaml", help="The params file to validate."),
    out: Path = typer.Option(
        None, "--out", help="When valid, write a stamp naming the keys checked (dvc.yaml's params stage)."
    ),
) -> None:
    """Validate params.yaml against the config models and print the resolved values."""
    import yaml

    from mannequin.stages import check_params as stage

    params = stage.run(path, out)
    if out is None:
        print(yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False), end="")
        return
    print(f"{path}: valid -> {out}")

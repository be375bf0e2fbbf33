"""Errors that reach the user as one line naming the file and the problem."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input: a file, a clip or a config value that cannot be used.

    ``str(err)`` is the one-line message shown to the user: ``<path>: <problem>``.
    ``code`` is a short machine-readable reason used in clip tables.
    """

    def __init__(self, path: str | Path | None, problem: str, code: str = "bad_input") -> None:
        self.path = str(path) if path is not None else None
        self.problem = " ".join(str(problem).split())
        self.code = code
        super().__init__(f"{self.path}: {self.problem}" if self.path else self.problem)


def decode_utf8(path: str | Path, data: bytes, kind: str, encoding: str = "utf-8") -> str:
    """``data`` decoded; bytes that are not UTF-8 are ``bad_<kind>`` naming the first bad byte and its line."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = f"not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line})"
        raise InputError(path, problem, f"bad_{kind}") from None


def read_user_text(path: str | Path, kind: str, encoding: str = "utf-8") -> str:
    """The text of a user's file; a missing one is ``missing_<kind>``, an unreadable one ``bad_<kind>`` (one line)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found", f"missing_{kind}") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file", f"bad_{kind}") from None
    except OSError as exc:
        raise InputError(path, f"unreadable ({exc.strerror or exc.__class__.__name__})", f"bad_{kind}") from None
    return decode_utf8(path, data, kind, encoding)

"""Errors that reach the user as one line naming the file and the problem."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Iterator
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


def warn(line: str) -> None:
    """Print ``mannequin: warning: <line>`` on one line of stderr: something the run goes on after."""
    print(f"mannequin: warning: {' '.join(str(line).split())}", file=sys.stderr, flush=True)


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"))  # fmt: skip


def not_a_file(path: str | Path) -> str | None:
    """Why ``path`` is not a regular file a command can read (None when it is one): missing, a directory, a
    dangling link, a link loop, a pipe or a device, each said as such."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        return "file not found"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link loop"
        return f"unreadable ({exc.strerror or exc.__class__.__name__})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    kind = next((name for test, name in _KINDS if test(mode)), "something else")
    return f"is not a regular file ({kind})"


def require_file(path: str | Path, kind: str) -> Path:
    """``path`` when it is a regular file; else an InputError saying what it is (``missing_<kind>`` when absent,
    ``bad_<kind>`` otherwise)."""
    problem = not_a_file(path)
    if problem is None:
        return Path(path)
    raise InputError(path, problem, f"missing_{kind}" if problem == "file not found" else f"bad_{kind}")


def require_output_dir(path: str | Path) -> Path:
    """``path`` when it can be an output folder: absent or a directory, and no part of the way to it a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(path, "exists and is not a directory", "bad_output")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(parent, f"is a file, so {path} cannot be a folder in it", "bad_output")
            break
    return path


#: numpy's message when a write comes up short (a full disk, without an errno)
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
#: errno of a write refused for space: no space left (ENOSPC), past RLIMIT_FSIZE or the filesystem's limit
#: (EFBIG), over quota (EDQUOT)
_NO_SPACE = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class OutOfSpace(InputError):
    """The output disk is full: the run stops, nothing half-written is left (one line, exit code 2)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "no space left on device", "no_space")


def is_out_of_space(exc: BaseException) -> bool:
    """Whether ``exc`` is a write refused for lack of space (errno, or numpy's short write)."""
    return isinstance(exc, OSError) and (exc.errno in _NO_SPACE or bool(_SHORT_WRITE.search(str(exc))))


@contextlib.contextmanager
def naming_a_full_disk(path: str | Path) -> Iterator[None]:
    """Turn an out-of-space ``OSError`` raised in the block into :class:`OutOfSpace` naming ``path``."""
    try:
        yield
    except OSError as exc:
        if is_out_of_space(exc):
            raise OutOfSpace(path) from None
        raise

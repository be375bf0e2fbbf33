"""Atomic writes: write beside the target, then rename, so readers never see half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask is process-wide and not thread-safe


def _umask() -> int:
    return _UMASK


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path, tmp_dir: str | Path | None = None, tag: str = "") -> Iterator[Path]:
    """Yield a temp directory; on success it replaces ``path`` whole.

    The temp directory (``.<tag><name>.<random>``, and the ``.old`` copy of a replaced ``path``) live in ``tmp_dir``,
    default beside ``path``; a ``tag`` lets a writer recognise the leftovers of its own killed runs.
    A ``tmp_dir`` keeps them out of a folder that is hashed as a whole (a DVC output); it must be on the same
    filesystem as ``path`` for the rename to be atomic.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = Path(tmp_dir) if tmp_dir is not None else path.parent
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tag}{path.name}.", dir=base))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        replace_path(tmp, path, old_dir=base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_path(src: str | Path, dst: str | Path, old_dir: str | Path | None = None) -> None:
    """Move ``src`` onto ``dst``, replacing a file or a whole directory.

    A directory is first moved aside to a hidden ``.<name>.old`` in ``old_dir`` (default: beside ``dst``).
    """
    src, dst = Path(src), Path(dst)
    if dst.is_dir() and not dst.is_symlink():
        old = (Path(old_dir) if old_dir is not None else dst.parent) / f".{dst.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)

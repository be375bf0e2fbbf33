"""Atomic writes leave either the old file or the new one, never half of either."""

from __future__ import annotations

from pathlib import Path

import pytest

from mannequin.atomic import atomic_dir, atomic_path, atomic_write_text


def test_atomic_write_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_dir_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "shard"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "x.npy").write_text("partial")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "shard"
    with atomic_dir(target) as tmp:
        (tmp / "old.txt").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard"]


def test_permissions_follow_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mannequin import atomic

    monkeypatch.setattr(atomic, "_UMASK", 0o022)
    atomic_write_text(tmp_path / "a.txt", "x")
    with atomic_dir(tmp_path / "d"):
        pass
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755

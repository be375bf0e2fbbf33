"""poses.txt: exact round trip and one-line errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.poses import format_poses, read_pose_table, read_poses, write_poses
from mannequin.errors import InputError


def test_round_trip_is_exact(tmp_path: Path, cameras) -> None:
    cams = cameras(7, seed=3)
    path = tmp_path / "poses.txt"
    write_poses(path, cams, "https://example.com/video")
    table = read_pose_table(path)
    assert table.note == "https://example.com/video"
    assert format_poses(table.cameras(cams[0].width, cams[0].height), table.note) == path.read_text()
    back = read_poses(path, cams[0].width, cams[0].height)
    for a, b in zip(cams, back, strict=True):
        assert np.array_equal(a.R, b.R) and np.array_equal(a.t, b.t)  # repr() round-trips floats exactly
        np.testing.assert_allclose(a.K, b.K, rtol=1e-15, atol=1e-12)
        assert a.timestamp_us == b.timestamp_us


def _good_line(ts: int = 0) -> list[str]:
    return [
        str(ts),
        "0.9",
        "1.2",
        "0.5",
        "0.5",
        "0",
        "0",
        *["1", "0", "0", "0.1", "0", "1", "0", "0.2", "0", "0", "1", "0.3"],
    ]


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda v: v[:-1], "expected 19 numbers, got 18"),
        (lambda v: [*v, "1"], "expected 19 numbers, got 20"),
        (lambda v: [*v[:7], "nan", *v[8:]], "non-finite"),
        (lambda v: [*v[:7], "2", *v[8:]], "not orthonormal"),
        (lambda v: ["500", *v[1:]], "is not after"),
        (lambda v: [*v[:3], "abc", *v[4:]], "not a number"),
    ],
    ids=["short", "long", "nan", "non-orthonormal", "decreasing-time", "text"],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, edit, needle: str) -> None:
    path = tmp_path / "poses.txt"
    lines = ["note", " ".join(_good_line(0)), " ".join(_good_line(1000)), " ".join(edit(_good_line(2000)))]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        read_pose_table(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: line 4: ") and needle in msg and "\n" not in msg
    assert err.value.code == "bad_poses"


def test_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_pose_table(tmp_path / "poses.txt")
    (tmp_path / "poses.txt").write_text("just a note\n")
    with pytest.raises(InputError, match="no pose lines"):
        read_pose_table(tmp_path / "poses.txt")

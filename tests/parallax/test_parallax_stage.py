"""``mannequin parallax``: every labelled and test clip's parallax input stored once, a bad clip skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.clip import open_clip
from mannequin.clips.poses import write_poses
from mannequin.clips.splits import read_splits
from mannequin.curation.parallax_store import read_parallax


def _run(data: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["parallax", "--params", "nothing.yaml", "--data", str(data), "--out", str(out),
                                      "--no-progress"])  # fmt: skip
    return result.exit_code, result.output


def test_the_stage_stores_every_labelled_and_test_clip(paper_data, tmp_path: Path, monkeypatch) -> None:
    root, _plans = paper_data
    data = Path(shutil.copytree(root, tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nothing.yaml").write_text("curate:\n  device: cpu\n")
    splits = read_splits(data)
    wanted = sorted(c for c, s in splits.items() if s in ("labeled", "test"))
    assert len(wanted) >= 2
    # a labelled clip whose poses cannot be read is skipped with one warning; the others go on
    broken = wanted[0]
    (data / "clips" / broken / "poses.txt").write_text("note\n1 2 3\n")
    # the copy of another with its pose translations x37 gives the same stored input (the scale never shows)
    scaled = "scaled_copy"
    shutil.copytree(data / "clips" / wanted[1], data / "clips" / scaled)
    cams = open_clip(data / "clips" / wanted[1]).cameras
    write_poses(data / "clips" / scaled / "poses.txt", [c.scaled(37.0) for c in cams], "x37")
    with (data / "splits.csv").open("a") as fh:
        fh.write(f"{scaled},test\n")
    out = tmp_path / "parallax"
    out.mkdir()
    (out / "gone.npz").write_bytes(b"from a clip no longer listed")

    code, output = _run(data, out)
    assert code == 0, output
    index = json.loads((out / "index.json").read_text())
    assert sorted(index["clips"]) == sorted({*wanted, scaled} - {broken})
    assert list(index["skipped"]) == [broken] and "poses.txt" in index["skipped"][broken]
    assert "mannequin: warning: " in output and f"no parallax input for clip {broken}" in output
    assert not (out / "gone.npz").exists() and not (out / f"{broken}.npz").exists()
    for clip_id, entry in index["clips"].items():
        stored = read_parallax(out, clip_id)
        clip = open_clip(data / "clips" / clip_id)
        assert stored is not None and len(stored) == len(clip) == entry["frames"]
        assert stored.parallax.shape == (len(clip), clip.height, clip.width)
        np.testing.assert_array_equal(stored.frames, np.arange(len(clip)))
        assert stored.mask_source == entry["mask_source"] == "given"  # the paper-like sample has masks/
        assert not stored.confidence[stored.mask].any() and np.isnan(stored.depth[stored.mask]).all()
    one, big = read_parallax(out, wanted[1]), read_parallax(out, scaled)
    assert np.isfinite(one.depth).mean() > 0.05
    np.testing.assert_allclose(big.parallax, one.parallax, atol=2e-3)  # float16 storage
    np.testing.assert_allclose(big.shift - one.shift, np.log(37.0), atol=1e-4)

    before = {p.name: p.read_bytes() for p in out.glob("*.npz")}
    assert _run(data, out)[0] == 0  # the same inputs give the same bytes (a DVC output)
    assert {p.name: p.read_bytes() for p in out.glob("*.npz")} == before

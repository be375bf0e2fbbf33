"""Converting a ViSP castel-layout sequence: the depth unit found from the CAD model, depth registered to colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.depth_png import read_depth_png
from mannequin.clips.intrinsics import read_intrinsics
from mannequin.clips.splits import read_splits
from mannequin.ingest.castel import estimate_depth_unit, open_castel, transform
from mannequin.ingest.depth_registration import render_faces
from mannequin.ingest.real_data import read_manifest
from tests.helpers.castel import DEPTH_M_COLOUR, K_COLOUR, SIZE, UNIT, model_faces, pose_matrix, write_castel


@pytest.mark.parametrize("unit", [UNIT, 1e-4])
def test_the_depth_unit_is_found_from_the_model_at_its_pose(tmp_path: Path, unit: float) -> None:
    seq = open_castel(write_castel(tmp_path / "castel", frames=1, unit=unit))
    found = estimate_depth_unit(seq)
    assert found.metres_per_count == pytest.approx(unit, rel=2e-3)
    assert found.pixels > 2000 and found.ratio_p75 / found.ratio_p25 < 1.01


def test_a_wrong_pose_cannot_tell_the_unit(castel_folder: Path) -> None:
    (castel_folder / "chateau.0.pos").write_text("0 0 -1 0 0 0\n")  # behind the camera: the model meets no pixel
    with pytest.raises(Exception, match="cannot tell the depth unit"):
        estimate_depth_unit(open_castel(castel_folder))


def test_real_data_writes_a_test_clip_with_registered_depth(castel_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "real"
    result = CliRunner().invoke(app, ["real-data", str(out), "--castel", str(castel_folder), "--only", "castel"])
    assert result.exit_code == 0, result.output
    assert "castel: 3 frames of 160x120" in result.output and "depth unit 0.1250 mm per count" in result.output
    assert read_splits(out) == {"castel": "test"}
    clip = out / "clips" / "castel"
    assert sorted(p.name for p in (clip / "frames").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    assert not (clip / "poses.txt").exists()  # poses come from SfM at evaluation
    fx, fy, cx, cy = read_intrinsics(clip / "intrinsics.txt")
    pixels = (fx * SIZE[0], fy * SIZE[1], cx * SIZE[0], cy * SIZE[1])
    assert pixels == pytest.approx((K_COLOUR[0, 0], K_COLOUR[1, 1], K_COLOUR[0, 2], K_COLOUR[1, 2]))
    # the registered depth is what the colour camera sees of the model (its own render), not the depth camera's view
    seen = render_faces([transform(f, pose_matrix()) for f in model_faces(castel_folder)], K_COLOUR, SIZE)
    registered = read_depth_png(out / "depth" / "castel" / "000000.png")
    both = np.isfinite(seen) & np.isfinite(registered)
    assert both.sum() > 0.9 * np.isfinite(seen).sum()
    err = np.abs(registered[both] - seen[both]) / seen[both]
    assert np.median(err) < 0.005 and np.mean(err < 0.02) > 0.9
    manifest = read_manifest(out)
    assert manifest["clips"]["castel"]["depth_unit"]["metres_per_count"] == pytest.approx(UNIT, rel=2e-3)


def test_registration_moves_depth_by_the_camera_offset(castel_folder: Path) -> None:
    from mannequin.ingest.depth_registration import register_depth
    from mannequin.ingest.visp import read_depth_bin

    seq = open_castel(castel_folder)
    metres = read_depth_bin(seq.depths[0]) * UNIT
    metres = np.where(metres > 0, metres, np.nan)
    seen = render_faces([transform(f, pose_matrix()) for f in model_faces(castel_folder)], K_COLOUR, SIZE)

    def errors(colour_T_depth: np.ndarray) -> np.ndarray:
        out = register_depth(metres, seq.K_depth, K_COLOUR, colour_T_depth, SIZE)
        both = np.isfinite(seen) & np.isfinite(out)
        return np.abs(out[both] - seen[both]) / seen[both]

    right, ignored = errors(np.linalg.inv(DEPTH_M_COLOUR)), errors(np.eye(4))  # the 2.5 cm offset ignored
    assert right.mean() < 0.01 and np.mean(right < 0.01) > 0.9
    assert ignored.mean() > 3 * right.mean() and np.mean(ignored < 0.01) < 0.8


def test_identity_registration_is_the_input() -> None:
    from mannequin.ingest.depth_registration import register_depth

    rng = np.random.default_rng(1)
    depth = rng.uniform(0.5, 2.0, (12, 16))
    depth[3, 4] = np.nan
    K = np.array([[20.0, 0, 8], [0, 20.0, 6], [0, 0, 1]])
    out = register_depth(depth, K, K, np.eye(4), (16, 12))
    assert np.isnan(out[3, 4])
    assert np.allclose(np.nan_to_num(out), np.nan_to_num(depth.astype(np.float32)))


def test_render_faces_gives_the_plane_depth() -> None:
    K = np.array([[100.0, 0, 50], [0, 100.0, 40], [0, 0, 1]])
    square = np.array([[-0.5, -0.5, 2.0], [0.5, -0.5, 2.0], [0.5, 0.5, 2.0], [-0.5, 0.5, 2.0]])
    tilted = square + np.array([0, 0, 1.0]) * square[:, :1]  # z = 2 + x: depth 2 at the centre, 1.5..2.5 across
    depth = render_faces([tilted], K, (100, 80))
    assert depth[40, 50] == pytest.approx(2.0)
    assert depth[40, 60] == pytest.approx(2 / 0.9)  # column 60: the ray x = 0.1 z meets z = 2 + x at z = 2 / 0.9
    assert np.isnan(depth[0, 0]) and np.isnan(depth[79, 99])


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda seq: (seq / "depth_image_0001.bin").unlink(), "depth_image_0001.bin: file not found (1 of 3 frames"),
        (lambda seq: (seq / "depth_image_0002.bin").write_bytes(b"\xe0\x01\x00\x00\x80\x02\x00\x00\x00"), "truncated"),
        (lambda seq: (seq / "depth_image_0000.bin").write_bytes(b"\x01\x02"), "shorter than the 8-byte header"),
        (lambda seq: (seq.parent / "depth_M_color.txt").write_text("1 0 0\n"), "expected 16 numbers"),
        (lambda seq: (seq.parent / "chateau.xml").write_text("<conf></conf>"), "no <camera> element"),
    ],
)
def test_a_broken_castel_folder_is_one_line_exit_2(castel_folder: Path, tmp_path: Path, damage, said: str) -> None:
    damage(castel_folder / "castel")
    out = tmp_path / "real"
    result = CliRunner().invoke(app, ["real-data", str(out), "--castel", str(castel_folder), "--only", "castel"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mannequin: error: ") and said in lines[0], result.output
    assert not out.exists()  # nothing half-written


def test_without_visp_images_data_castel_is_skipped_in_one_line(tmp_path: Path, monkeypatch) -> None:
    import mannequin.ingest.castel as castel

    monkeypatch.setattr(castel, "DEFAULT_CASTEL", tmp_path / "not-installed")
    out = tmp_path / "real"
    result = CliRunner().invoke(app, ["real-data", str(out)])
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.output.splitlines() if line.startswith("castel: skipped")]
    assert len(skipped) == 1 and "apt-get install visp-images-data" in skipped[0]
    assert read_splits(out) == {"motorcycle": "test"}
    assert "castel" in read_manifest(out)["skipped"]

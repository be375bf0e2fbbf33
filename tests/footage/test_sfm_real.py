"""Real pycolmap runs: a rendered clip's true poses come back; clips SfM cannot reconstruct fail in one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mannequin.clips.poses import read_pose_table
from mannequin.config.sfm import SfmParams
from mannequin.curation import sfm
from mannequin.curation.sfm_accuracy import pose_errors
from mannequin.curation.sfm_poses import clip_with_poses, estimate_clip_poses
from mannequin.errors import InputError
from tests.helpers.footage import textured_frame, true_cameras

MAIN = "from mannequin.cli import main; main()"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MAIN, *args], capture_output=True, text=True, timeout=600)


def _frames_clip(root: Path, name: str, frames: list[np.ndarray]) -> Path:
    clip = root / name
    (clip / "frames").mkdir(parents=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(clip / "frames" / f"{i:06d}.png"), f)
    return clip


def test_sfm_recovers_the_true_poses_of_a_rendered_clip(rendered_clip):
    root, clip_dir, clip_id = rendered_clip
    est = estimate_clip_poses(clip_dir, SfmParams())
    true = true_cameras(root, clip_id)
    assert est.stats.registered == len(true) == est.stats.frames
    assert est.unregistered == 0
    err = pose_errors(est.cameras(), [true[i] for i in est.source_indices])
    assert err.ate_ratio < 0.02, err
    assert err.max_rotation_deg < 1.0, err
    f_true = true[0].K[0, 0] / true[0].width
    assert est.stats.focal == pytest.approx(f_true, rel=0.05)
    clip = clip_with_poses(clip_dir, est.table, est.source_indices)
    images, cams = clip.read_frames([0, len(clip) - 1], max_width=80)
    assert images.shape[2] == 80 and cams[0].width == 80


def test_poses_command_writes_the_mannequin_challenge_format(rendered_clip, tmp_path):
    _, clip_dir, _ = rendered_clip
    out = tmp_path / "poses.txt"
    proc = _cli("poses", str(clip_dir), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "frames registered" in proc.stdout
    table = read_pose_table(out)
    assert len(table) >= 3 and "frames registered" in table.note
    assert not (clip_dir / "poses.txt").exists()  # the clip folder is not written


def test_given_intrinsics_fix_the_camera(rendered_clip, tmp_path):
    root, clip_dir, clip_id = rendered_clip
    clip = tmp_path / clip_id
    shutil.copytree(clip_dir, clip)
    true = true_cameras(root, clip_id)[0]
    K = true.K
    (clip / "intrinsics.txt").write_text(
        f"{K[0, 0] / true.width} {K[1, 1] / true.height} {K[0, 2] / true.width} {K[1, 2] / true.height}\n"
    )
    est = estimate_clip_poses(clip, SfmParams())
    np.testing.assert_allclose(est.cameras()[0].K, K, rtol=1e-9)


@pytest.mark.parametrize("values", ["0.7 0.9 0.5", "0.7 0.9 0.5 0.5 0.1", "a b c d"])
def test_intrinsics_with_the_wrong_values_is_one_line(rendered_clip, tmp_path, values):
    _, clip_dir, clip_id = rendered_clip
    clip = tmp_path / clip_id
    shutil.copytree(clip_dir, clip)
    (clip / "intrinsics.txt").write_text(values + "\n")
    proc = _cli("poses", str(clip), "--out", str(tmp_path / "p.txt"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "intrinsics.txt" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_single_frame_clip_is_no_poses(tmp_path):
    rng = np.random.default_rng(0)
    clip = _frames_clip(tmp_path, "one", [textured_frame(rng, 96, 128)[:96, :128]])
    with pytest.raises(InputError) as info:
        estimate_clip_poses(clip, SfmParams())
    assert info.value.code == "no_poses" and "at least 3 frames, got 1" in str(info.value)


def test_static_camera_is_no_poses_before_mapping(tmp_path, monkeypatch):
    """Identical frames: the matching report shows a camera that does not move, and the mapping phase never runs."""
    rng = np.random.default_rng(1)
    frame = np.ascontiguousarray(textured_frame(rng, 96, 128)[:96, :128])
    clip = _frames_clip(tmp_path, "static", [frame] * 6)
    phases = _worker_phases(monkeypatch)
    with pytest.raises(InputError) as info:
        estimate_clip_poses(clip, SfmParams())
    assert info.value.code == "no_poses" and "does not move" in str(info.value), str(info.value)
    assert "features shift a median 0.00 px" in str(info.value)
    assert phases == ["match"]


def _worker_phases(monkeypatch) -> list[str]:
    """The phases of the SfM worker that run (the real worker, each run recorded)."""
    phases: list[str] = []
    real = sfm._run_worker

    def recorded(job, work, where):
        phases.append(job["phase"])
        return real(job, work, where)

    monkeypatch.setattr(sfm, "_run_worker", recorded)
    return phases


def test_a_clip_rejected_by_matching_is_never_mapped(tmp_path, monkeypatch):
    """Textureless frames: SfM's matching report rejects them and the mapping phase never runs."""
    clip = _frames_clip(tmp_path, "wall", [np.full((96, 128, 3), 90 + i, dtype=np.uint8) for i in range(6)])
    phases = _worker_phases(monkeypatch)
    with pytest.raises(InputError, match="too little texture"):
        estimate_clip_poses(clip, SfmParams())
    assert phases == ["match"]


def test_textureless_clip_is_no_poses_one_line(tmp_path):
    frames = [np.full((96, 128, 3), 90 + i, dtype=np.uint8) for i in range(6)]
    clip = _frames_clip(tmp_path, "wall", frames)
    proc = _cli("poses", str(clip), "--out", str(tmp_path / "p.txt"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "too little texture" in proc.stderr, proc.stderr
    assert not (tmp_path / "p.txt").exists()


def test_frames_of_mixed_sizes_is_one_line(tmp_path):
    rng = np.random.default_rng(2)
    frames = [np.ascontiguousarray(textured_frame(rng, 96, 128)[:96, :128]) for _ in range(4)]
    frames[2] = cv2.resize(frames[2], (64, 48))
    clip = _frames_clip(tmp_path, "mixed", frames)
    proc = _cli("poses", str(clip), "--out", str(tmp_path / "p.txt"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "000002.png" in proc.stderr and "64x48" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_incremental_mapping_recovers_the_true_poses_too(rendered_clip):
    root, clip_dir, clip_id = rendered_clip
    est = estimate_clip_poses(clip_dir, SfmParams(mapper="incremental"))
    assert est.stats.method.startswith("incremental mapping")
    true = true_cameras(root, clip_id)
    assert est.stats.registered == len(true)
    err = pose_errors(est.cameras(), [true[i] for i in est.source_indices])
    assert err.ate_ratio < 0.02 and err.max_rotation_deg < 1.0, err

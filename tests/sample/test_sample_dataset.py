"""The written sample dataset: layout, depth only where labelled, round-trips, defects, determinism, CLI."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from mannequin.cli import app
from mannequin.clips.clip import open_clip
from mannequin.clips.depth_png import read_depth_png
from mannequin.errors import InputError
from mannequin.sample.dataset import build_clip_scene, render_clip, write_clip, write_sample_data
from mannequin.sample.plan import ClipPlan, make_plan


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def test_layout_csvs_and_depth_only_for_labelled(tiny_dataset: tuple[Path, list[ClipPlan]]) -> None:
    out, plans = tiny_dataset
    assert sorted(p.name for p in out.iterdir()) == ["clips", "depth", "sample_truth.csv", "splits.csv", "truth"]
    assert [(r["clip_id"], r["split"]) for r in _rows(out / "splits.csv")] == [(p.clip_id, p.split) for p in plans]
    truth = _rows(out / "sample_truth.csv")
    assert [(r["clip_id"], r["defect"], float(r["pose_scale"])) for r in truth] == [
        (p.clip_id, p.defect, p.pose_scale) for p in plans
    ]
    labelled = {p.clip_id for p in plans if p.split in ("labeled", "test")}
    assert labelled and sorted(d.name for d in (out / "depth").iterdir()) == sorted(labelled)
    for p in plans:
        pngs = sorted((out / "depth" / p.clip_id).glob("*.png")) if p.clip_id in labelled else []
        exact = np.load(out / "truth" / p.clip_id / "depth.npz")["depth"]
        assert exact.dtype == np.float32 and exact.shape == (p.n_frames, p.height, p.width)
        assert np.isfinite(exact).all() and exact.min() > 0.3 and exact.max() < 12.0
        if p.clip_id in labelled:
            assert [f.name for f in pngs] == [f"{i:06d}.png" for i in range(p.n_frames)]
            np.testing.assert_allclose(read_depth_png(pngs[-1]), exact[-1], atol=0.0006)
        form = "video.mp4" if p.form == "video" else "frames"
        assert sorted(f.name for f in (out / "clips" / p.clip_id).iterdir()) == sorted(["poses.txt", form])


def test_clips_round_trip_through_the_reader(tiny_dataset: tuple[Path, list[ClipPlan]]) -> None:
    out, plans = tiny_dataset
    assert {p.form for p in plans} == {"video", "frames"}
    for plan in plans:
        clip = open_clip(out / "clips" / plan.clip_id)
        frames, cams = clip.read_frames()
        rendered = render_clip(plan)
        assert len(clip) == plan.n_frames and (clip.width, clip.height) == (plan.width, plan.height)
        if plan.form == "frames":
            np.testing.assert_array_equal(frames, rendered.frames)
        else:  # H.264 (yuv444, crf 18) is close to lossless at this size
            assert np.abs(frames.astype(float) - rendered.frames).mean() < 4.0
        scale = plan.pose_scale
        for cam, true in zip(cams, rendered.cameras):
            np.testing.assert_allclose(cam.K, true.K, atol=1e-9)
            np.testing.assert_allclose(cam.R, true.R, atol=1e-9)
            np.testing.assert_allclose(cam.t, true.t * scale, atol=1e-9)
        np.testing.assert_array_equal(clip.timestamps_us, [round(i * 1e6 / plan.fps) for i in range(plan.n_frames)])


def test_same_seed_gives_identical_files(
    tiny_dataset: tuple[Path, list[ClipPlan]], tiny_options: dict, tmp_path: Path
) -> None:
    out, _ = tiny_dataset
    again = tmp_path / "again"
    write_sample_data(again, progress=False, **tiny_options)
    hashes = _hashes(out)
    assert len(hashes) > 30 and _hashes(again) == hashes
    other = tmp_path / "other"
    write_sample_data(other, progress=False, **{**tiny_options, "seed": 12, "n_clips": 2})
    assert not set(_hashes(other).items()) & {k: v for k, v in hashes.items() if k.startswith("truth")}.items()


def _plan(defect: str, trajectory: str, form: str = "video") -> ClipPlan:
    base = make_plan(1, seed=21, width=48, height=36, frames=(5, 5), people="frozen")[0]
    return replace(base, defect=defect, trajectory=trajectory, form=form)


def _sharpness(frames: np.ndarray) -> float:
    return float(np.mean([cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() for f in frames]))


def test_static_and_rotation_only_cameras() -> None:
    static = render_clip(_plan("static_camera", "static"))
    assert all(np.array_equal(c.extrinsic, static.written[0].extrinsic) for c in static.written)
    assert all(np.array_equal(f, static.frames[0]) for f in static.frames)
    rot = render_clip(_plan("rotation_only", "rotation"))
    centres = np.array([c.center for c in rot.written])
    assert np.abs(centres - centres[0]).max() < 1e-9
    angle = np.degrees(np.arccos((np.trace(rot.written[0].R @ rot.written[-1].R.T) - 1) / 2))
    assert angle > 10.0


def test_moving_objects_blur_and_mismatched_poses() -> None:
    scene, _, _ = build_clip_scene(_plan("moving", "sweep"))
    moving = [o for o in scene.objects if o.moving]
    assert moving and max(np.linalg.norm(o.motion) for o in moving) >= 1.0
    assert any(o.kind == "figure" for o in moving)
    sharp = render_clip(_plan("none", "fast"))
    blurred = render_clip(_plan("blur", "fast"))
    assert _sharpness(blurred.frames) < 0.6 * _sharpness(sharp.frames)
    mismatch = render_clip(_plan("pose_mismatch", "sweep"))
    true_t = np.array([c.t * mismatch.plan.pose_scale for c in mismatch.cameras])
    written_t = np.array([c.t for c in mismatch.written])
    assert np.abs(written_t - true_t).max() > 0.1 * mismatch.plan.pose_scale
    assert [c.timestamp_us for c in mismatch.written] == [c.timestamp_us for c in mismatch.cameras]


def test_corrupt_video_is_rejected_by_the_reader(tmp_path: Path) -> None:
    plan = _plan("corrupt_video", "sweep")
    write_clip(render_clip(plan), tmp_path)
    assert sorted(f.name for f in (tmp_path / "clips" / plan.clip_id).iterdir()) == ["poses.txt", "video.mp4"]
    with pytest.raises(InputError):
        open_clip(tmp_path / "clips" / plan.clip_id)


def test_cli_writes_a_dataset_and_rejects_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "data"
    args = ["--clips", "2", "--seed", "4", "--width", "32", "--height", "24", "--min-frames", "2", "--max-frames", "3"]
    result = runner.invoke(app, ["sample-data", str(out), *args, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert len(_rows(out / "splits.csv")) == 2 and "wrote 2 clips" in result.stdout
    first = _hashes(out)
    # an existing dataset is not replaced silently; --overwrite with parallel workers gives the same bytes
    again = runner.invoke(app, ["sample-data", str(out), *args, "--no-progress"])
    assert again.exit_code == 2 and "--overwrite" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    again = runner.invoke(app, ["sample-data", str(out), *args, "--overwrite", "--workers", "2"])
    assert again.exit_code == 0, again.output
    assert _hashes(out) == first
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    (tmp_path / "file").write_text("x")
    bad = runner.invoke(app, ["sample-data", str(tmp_path / "file"), *args])
    assert bad.exit_code == 2 and "not a directory" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    bad = runner.invoke(app, ["sample-data", str(out), "--min-frames", "5", "--max-frames", "3"])
    assert bad.exit_code == 2 and "--max-frames" in bad.stderr


@pytest.mark.parametrize(("option", "split"), [("--extra-unlabeled", "unlabeled"), ("--extra-labeled", "labeled")])
def test_cli_extra_clips_leave_the_planned_ones_byte_identical(tmp_path: Path, option: str, split: str) -> None:
    runner = CliRunner()
    args = ["--clips", "2", "--seed", "4", "--width", "32", "--height", "24", "--min-frames", "2", "--max-frames", "2"]
    plain, grown = tmp_path / "plain", tmp_path / "grown"
    assert runner.invoke(app, ["sample-data", str(plain), *args, "--no-progress"]).exit_code == 0
    result = runner.invoke(app, ["sample-data", str(grown), *args, option, "2", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "wrote 4 clips" in result.stdout
    rows = _rows(grown / "splits.csv")
    assert [r["split"] for r in rows[2:]] == [split, split] and rows[:2] == _rows(plain / "splits.csv")
    before, after = _hashes(plain), _hashes(grown)
    clips = {k: v for k, v in before.items() if k.startswith(("clips/", "depth/", "truth/"))}
    assert clips and all(after[k] == v for k, v in clips.items())
    assert {k.split("/")[1] for k in after if k.startswith("clips/")} == {f"clip_{i:04d}" for i in range(4)}
    for row in rows[2:]:  # sensor depth for every frame of a new labeled clip, none for an unlabeled one
        assert len(list((grown / "depth" / row["clip_id"]).glob("*.png"))) == (2 if split == "labeled" else 0)
    bad = runner.invoke(app, ["sample-data", str(tmp_path / "bad"), *args, option, "-1"])
    assert bad.exit_code == 2 and option in bad.output


def test_cli_help_states_the_defaults_the_code_renders() -> None:
    plans = make_plan()  # the renderer's own defaults
    defects = sum(p.defect != "none" for p in plans)
    clean = sum(p.defect == "none" and p.split == "unlabeled" for p in plans)
    labeled, test = (sum(p.split == s for p in plans) for s in ("labeled", "test"))
    frames = sorted({p.n_frames for p in plans})
    ((width, height),) = {(p.width, p.height) for p in plans}
    result = CliRunner().invoke(app, ["sample-data", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    help_text = " ".join(result.stdout.split())
    expected = (
        f"Default: {len(plans)} clips of {frames[0]}-{frames[-1]} frames at {width}x{height} ({defects} defective +"
        f" {clean} clean unlabeled, {labeled} labeled, {test} test)."
    )
    assert expected in help_text, help_text
    # plain click help (issue 12) writes a range after the default: "[default: 128; x>=1]"
    assert re.search(rf"\[default: {len(plans)}[;\]]", help_text) and re.search(rf"\[default: {width}[;\]]", help_text)


def test_texture_lookups_are_exact_at_texel_centres_and_wrap_around() -> None:
    from mannequin.sample import textures

    level = textures.texture_bank()[0].levels[2]
    p = level.shape[0]
    j, i = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    centres = textures._bilinear(level, i.ravel() + 0.5, j.ravel() + 0.5)
    np.testing.assert_array_equal(centres, level.reshape(-1, 3).astype(np.float32))
    wrapped = textures._bilinear(level, i.ravel() + 0.5 + 3 * p, j.ravel() + 0.5 - 2 * p)
    np.testing.assert_array_equal(wrapped, centres)
    # halfway between the last texel and the first of the next period: their mean
    half = textures._bilinear(level, np.array([float(p)]), np.array([0.5]))
    np.testing.assert_allclose(half[0], (level[0, -1].astype(float) + level[0, 0]) / 2, atol=1e-4)


def test_resizing_matches_opencv_and_keeps_known_values() -> None:
    import cv2

    from mannequin.sample import textures

    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    ours = textures.area_resize(img, 256).astype(int)
    assert np.abs(ours - cv2.resize(img, (256, 256), interpolation=cv2.INTER_AREA)).max() <= 1
    flat = np.full((40, 40, 3), 77, np.uint8)
    assert (textures.area_resize(flat, 16) == 77).all() and (textures.half_size(flat) == 77).all()
    np.testing.assert_array_equal(textures.half_size(np.array([[0, 1], [1, 2]], np.uint8)), [[1]])  # 4/4 -> 1
    grid = rng.random((8, 8))
    tiled = cv2.resize(np.tile(grid, (3, 3)).astype(np.float32), (96, 96), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_allclose(textures.periodic_cubic_upsample(grid, 32), tiled[32:64, 32:64], atol=1e-5)
    np.testing.assert_allclose(textures.periodic_cubic_upsample(grid, 8), grid, atol=1e-12)  # on the grid itself

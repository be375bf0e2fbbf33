"""``sample-data --people paper``: masks of the figures, walking people in test and labeled clips."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.cameras import Camera
from mannequin.clips.clip import open_clip
from mannequin.clips.masks import mask_indices, mask_path, read_mask_png, read_masks
from mannequin.sample.dataset import build_clip_scene, intrinsics, movable_objects, render_clip, write_sample_data
from mannequin.sample.plan import make_plan
from mannequin.sample.render import render, render_layers
from tests.helpers.people import PAPER


def _hashes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _truth(root: Path) -> dict[str, dict[str, str]]:
    with (root / "sample_truth.csv").open(newline="") as fh:
        return {row["clip_id"]: row for row in csv.DictReader(fh)}


def test_paper_plan_draws_the_same_clips_and_mixes_test_people() -> None:
    default, paper = make_plan(128, people="frozen"), make_plan(128, people="paper")
    assert make_plan(128) == paper  # the paper-like data is the default
    assert [replace(p, walking=False, write_masks=False) for p in paper] == default
    assert all(p.write_masks for p in paper) and not any(p.write_masks or p.walking for p in default)
    tests = [p for p in paper if p.split == "test"]
    assert sorted(p.people for p in tests) == ["frozen"] * 5 + ["moving"] * 5
    assert all(p.people == "moving" for p in paper if p.split == "labeled")
    assert all(p.trajectory in ("sweep", "arc", "forward", "diagonal") for p in tests)
    with pytest.raises(ValueError, match="people must be one of"):
        make_plan(8, people="crowd")


def test_render_layers_matches_render() -> None:
    plan = replace(make_plan(8, people="paper")[0], width=40, height=30)
    scene, traj, _ = build_clip_scene(plan)
    centre, R = traj.pose(0.3)
    cam = Camera(intrinsics(plan), R, -R @ centre, plan.width, plan.height)
    colour, depth = render(scene, cam, 0.3)
    colour2, depth2, objects = render_layers(scene, cam, 0.3)
    assert np.array_equal(colour, colour2) and np.array_equal(depth, depth2)
    assert objects.min() >= 0 and objects.max() < len(scene.objects)  # a closed room: every ray hits something


def test_masks_are_the_figures_pixels(paper_dataset) -> None:
    root, plans = paper_dataset
    figure_pixels = 0
    for plan in plans:
        clip_dir = root / "clips" / plan.clip_id  # read file by file: the corrupt_video clip does not open
        masks = [read_mask_png(mask_path(clip_dir, i), plan.width, plan.height) for i in range(plan.n_frames)]
        assert len(mask_indices(clip_dir)) == plan.n_frames
        scene, _, _ = build_clip_scene(plan)
        movable = movable_objects(scene)
        rendered = render_clip(plan)
        for i, cam in enumerate(rendered.cameras):
            _, depth, objects = render_layers(scene, cam, float(np.linspace(0, 1, plan.n_frames)[i]))
            truth = np.isin(objects, movable)
            assert np.array_equal(masks[i], truth), f"{plan.clip_id} frame {i}"
            figures = np.isin(objects, [k for k, o in enumerate(scene.objects) if o.kind == "figure"])
            assert masks[i][figures].all()
            assert np.array_equal(depth, rendered.depth[i])  # the mask and the exact depth see the same scene
            figure_pixels += int(figures.sum())
    assert figure_pixels > 0


def test_walking_people_move_in_test_clips(paper_dataset) -> None:
    root, plans = paper_dataset
    truth = _truth(root)
    tests = [p for p in plans if p.split == "test"]
    assert {truth[p.clip_id]["people"] for p in tests} == {"frozen", "moving"}
    for plan in tests:
        masks = read_masks(open_clip(root / "clips" / plan.clip_id))
        centroids = [np.argwhere(m).mean(axis=0) for m in masks if m.any()]
        shift = float(np.linalg.norm(centroids[-1] - centroids[0]))
        scene, _, _ = build_clip_scene(plan)
        walkers = [o for o in scene.objects if o.kind == "figure" and o.moving]
        if truth[plan.clip_id]["people"] == "moving":
            assert walkers and shift > 3.0, plan.clip_id
        else:
            assert not any(o.moving for o in scene.objects)
        assert (root / "depth" / plan.clip_id / "000000.png").is_file()  # exact sensor depth, people included


def test_paper_option_changes_only_masks_people_and_truth(paper_dataset, tmp_path: Path) -> None:
    """Clips that do not walk are byte-identical to the frozen data; the frozen data writes no masks."""
    root, plans = paper_dataset
    default = tmp_path / "frozen"
    write_sample_data(default, progress=False, **{**PAPER, "people": "frozen"})
    assert not list(default.glob("clips/*/masks"))
    assert (default / "sample_truth.csv").read_text().splitlines()[0] == "clip_id,defect,pose_scale"
    assert (root / "sample_truth.csv").read_text().splitlines()[0] == "clip_id,defect,pose_scale,people"
    assert (root / "splits.csv").read_bytes() == (default / "splits.csv").read_bytes()
    for plan in plans:
        files = sorted(p.relative_to(default) for p in default.rglob("*") if p.is_file() and plan.clip_id in p.parts)
        same = {str(rel): (root / rel).read_bytes() == (default / rel).read_bytes() for rel in files}
        if plan.walking:  # the same camera path; the figures walk, so images and depth differ
            assert same.pop(f"clips/{plan.clip_id}/poses.txt") and not all(same.values()), plan.clip_id
        else:
            assert all(same.values()), plan.clip_id


def test_cli_people_option(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mannequin.cli.app import app

    runner = CliRunner()
    args = ["--clips", "3", "--seed", "2", "--width", "32", "--height", "24", "--min-frames", "2", "--max-frames", "3"]
    out = tmp_path / "paper"
    result = runner.invoke(app, ["sample-data", str(out), *args, "--people", "paper", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("clips/*/masks"))) == 3
    assert "people" in (out / "sample_truth.csv").read_text().splitlines()[0]
    plain = tmp_path / "plain"  # no --people: the paper-like data
    assert runner.invoke(app, ["sample-data", str(plain), *args, "--no-progress"]).exit_code == 0
    assert _hashes(plain) == _hashes(out)
    frozen = tmp_path / "frozen"
    assert runner.invoke(app, ["sample-data", str(frozen), *args, "--people", "frozen", "--no-progress"]).exit_code == 0
    assert not list(frozen.glob("clips/*/masks"))
    bad = runner.invoke(app, ["sample-data", str(tmp_path / "x"), *args, "--people", "crowd"])
    assert bad.exit_code == 2 and "--people" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()

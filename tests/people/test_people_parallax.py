"""The parallax input: a plane sweep over nearby frames, each pixel from its best source, masked, normalised so the
pose scale never shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mannequin.clips.clip import open_clip
from mannequin.clips.poses import write_poses
from mannequin.config.curate import MvsParams
from mannequin.config.masks import MaskParams
from mannequin.curation.motion import motion_masks
from mannequin.curation.parallax import (
    CHANNELS,
    apply_mask,
    clip_masks,
    clip_parallax,
    denormalise_depth,
    normalise_depth,
    sweep_params,
)
from mannequin.sample.dataset import render_clip
from mannequin.sample.plan import make_plan


def test_normalise_known_answer() -> None:
    g = np.random.default_rng(0).normal(0.0, 0.3, (6, 8))
    depth = (3.0 * np.exp(g)).astype(np.float32)
    depth[0, 0] = np.nan
    out, shift = normalise_depth(depth)
    known = np.isfinite(depth)
    assert shift == pytest.approx(np.log(3.0) + np.median(g[known]), abs=1e-6)
    np.testing.assert_allclose(out[known], g[known] - np.median(g[known]), atol=1e-5)
    assert out[0, 0] == 0.0
    np.testing.assert_allclose(denormalise_depth(out, shift)[known], depth[known], rtol=1e-5)
    scaled, shift37 = normalise_depth(depth * 37)
    np.testing.assert_allclose(scaled, out, atol=1e-5)
    assert shift37 - shift == pytest.approx(np.log(37.0), abs=1e-5)
    empty, zero = normalise_depth(np.full((2, 2), np.nan))
    assert zero == 0.0 and not empty.any()


def test_apply_mask_and_the_sweep_params() -> None:
    depth = np.array([[1.0, 2.0], [np.nan, 4.0]], np.float32)
    conf = np.array(
        [
            [
                0.9,
                0.8,
            ],
            [0.3, 0.7],
        ],
        np.float32,
    )
    d, c = apply_mask(depth, conf, np.array([[False, True], [False, False]]))
    assert np.isnan(d[0, 1]) and c[0, 1] == 0 and c[1, 0] == 0 and d[1, 1] == 4.0 and c[0, 0] == pytest.approx(0.9)
    params = sweep_params(MvsParams(planes=32, num_sources=4, best_k=2), MaskParams(parallax_planes=40))
    assert (params.num_sources, params.best_k, params.planes) == (3, 1, 40)
    one = sweep_params(MvsParams(), MaskParams(parallax_sources=1))
    assert (one.num_sources, one.best_k) == (1, 1)  # the paper's input


@pytest.fixture(scope="module")
def scaled_clips(paper_dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    """A clean frames/ clip with frozen people, and its copy whose pose translations are 37 times larger."""
    root, plans = paper_dataset
    plan = next(p for p in plans if p.form == "frames" and p.defect == "none" and p.split == "unlabeled")
    tmp = tmp_path_factory.mktemp("scaled")
    one = Path(shutil.copytree(root / "clips" / plan.clip_id, tmp / "one" / plan.clip_id))
    big = Path(shutil.copytree(one, tmp / "big" / plan.clip_id))
    clip = open_clip(one)
    write_poses(big / "poses.txt", [c.scaled(37.0) for c in clip.cameras], "translations x37")
    return one, big, plan


@pytest.fixture(scope="module")
def parallax_runs(scaled_clips):
    one, big, _ = scaled_clips
    runs = {}
    for name, folder in (("one", one), ("big", big)):
        clip = open_clip(folder)
        images, cameras = clip.read_frames()
        runs[name] = clip_parallax(images, cameras, None)
    clip = open_clip(one)
    images, cameras = clip.read_frames()
    masks = np.zeros(images.shape[:3], bool)
    masks[:, 10:30, 20:44] = True
    runs["masked"] = clip_parallax(images, cameras, masks)
    runs["paper"] = clip_parallax(images, cameras, None, sweep_params(MvsParams(), MaskParams(parallax_sources=1)))
    return runs


def test_mask_removes_the_parallax_input(parallax_runs) -> None:
    free, masked = parallax_runs["one"], parallax_runs["masked"]
    inside = masked.mask
    assert inside.any() and np.isfinite(free.depth[inside]).mean() > 0.2  # there was parallax depth to remove
    assert np.isnan(masked.depth[inside]).all()
    assert (masked.parallax[inside] == 0).all() and (masked.confidence[inside] == 0).all()
    outside = ~inside
    np.testing.assert_array_equal(masked.depth[outside], free.depth[outside])
    np.testing.assert_array_equal(masked.confidence[outside], free.confidence[outside])
    channels = masked.channels()
    assert channels.shape == (len(inside), len(CHANNELS), *inside.shape[1:]) and channels.dtype == np.float32
    np.testing.assert_array_equal(channels[:, 2], inside.astype(np.float32))


def test_normalised_input_ignores_a_pose_scale_of_37(parallax_runs) -> None:
    one, big = parallax_runs["one"], parallax_runs["big"]
    assert np.isfinite(one.depth).mean() > 0.1  # a tiny 64x48 clip: few confident pixels, but some
    np.testing.assert_array_equal(one.source, big.source)
    np.testing.assert_allclose(big.parallax, one.parallax, atol=1e-4)
    np.testing.assert_allclose(big.confidence, one.confidence, atol=1e-4)
    np.testing.assert_allclose(big.shift - one.shift, np.log(37.0), atol=1e-4)


def test_parallax_depth_is_close_to_the_truth(parallax_runs, scaled_clips, paper_dataset) -> None:
    root, _ = paper_dataset
    _, _, plan = scaled_clips
    truth = np.load(root / "truth" / plan.clip_id / "depth.npz")["depth"]
    run = parallax_runs["one"]
    known = np.isfinite(run.depth)
    rel = np.abs(run.depth[known] / plan.pose_scale - truth[known]) / truth[known]
    assert np.median(rel) < 0.05 and np.mean(rel < 0.15) > 0.85
    assert (run.source >= 0).all() and (run.source != np.arange(len(run.source))).all()


def test_the_default_sources_cover_more_of_the_frame_than_one_as_accurately(
    parallax_runs, scaled_clips, paper_dataset
) -> None:
    root, _ = paper_dataset
    _, _, plan = scaled_clips
    truth = np.load(root / "truth" / plan.clip_id / "depth.npz")["depth"]
    errors = {}
    for name in ("paper", "one"):  # one source view (the paper's input), the default three
        run = parallax_runs[name]
        known = np.isfinite(run.depth)
        rel = np.abs(run.depth[known] / plan.pose_scale - truth[known]) / truth[known]
        errors[name] = (known.mean(), np.median(rel))
    (cover_1, err_1), (cover_n, err_n) = errors["paper"], errors["one"]
    assert MaskParams().parallax_sources > 1
    assert cover_n > cover_1 + 0.03, errors
    assert err_n < 0.05 and err_n < err_1 + 0.01, errors
    np.testing.assert_array_equal(parallax_runs["paper"].source, parallax_runs["one"].source)  # the same first source


def test_motion_masks_find_walking_people_not_frozen_ones() -> None:
    plans = {p.clip_id: p for p in make_plan(people="paper")}
    moving, frozen = render_clip(plans["clip_0019"]), render_clip(plans["clip_0014"])
    assert plans["clip_0019"].people == "moving" and plans["clip_0014"].people == "frozen"
    for clip, want in ((moving, True), (frozen, False)):
        depth = clip.depth.copy()
        depth[clip.masks] = np.nan  # like MVS, no confident depth on the people
        found = motion_masks(depth, clip.frames, clip.cameras)
        recall = (found & clip.masks).sum() / clip.masks.sum()
        if want:
            assert recall > 0.4 and found.mean() < 0.3
        else:
            assert found.mean() < 0.01


def test_clip_masks_sources(scaled_clips) -> None:
    one, _, _ = scaled_clips
    clip = open_clip(one)
    images, cameras = clip.read_frames(max_width=32)
    given, source = clip_masks(clip, MaskParams(), images, cameras, None, max_width=32)
    assert source == "given" and given.shape == images.shape[:3]
    none, source = clip_masks(clip, MaskParams(source="none"), images, cameras, None)
    assert source == "none" and not none.any()
    depth = np.full(images.shape[:3], np.nan, np.float32)
    motion, source = clip_masks(clip, MaskParams(source="motion"), images, cameras, depth)
    assert source == "motion" and not motion.any()  # no depth, no evidence

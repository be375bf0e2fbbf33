"""The compiled (numba) CPU sweep against the torch reference (the CUDA path) and a hand-worked SGM path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mannequin.config.curate import MvsParams
from mannequin.curation import mvs_cost, mvs_numba
from mannequin.curation.mvs import clip_depth, resolve_backend
from mannequin.curation.mvs_consistency import forward_backward
from tests.helpers import mvs_numba_views as views
from tests.helpers.mvs_numba_views import frame_inputs

# tolerances: SGM and winner-take-all repeat the reference's float32 operations in the same order (exact up to
# the last bit); the sweep's bilinear taps round differently from grid_sample's (up to 5e-4 in ZNCC, in faint texture)
SGM_ATOL, WTA_ATOL, SWEEP_ATOL = 1e-6, 1e-5, 5e-4


def _random_volume(seed: int, shape=(9, 13, 11)) -> np.ndarray:
    """A random (H,W,D) score volume in [-1,1], smoothed along D so it has a few peaks per pixel."""
    rng = np.random.default_rng(seed)
    raw = rng.uniform(-1, 1, shape)
    return ((raw + np.roll(raw, 1, axis=2) + np.roll(raw, -1, axis=2)) / 3).astype(np.float32)


def _to_dhw(volume: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(volume.transpose(2, 0, 1)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sgm_matches_torch_on_random_volumes(seed):
    volume = _random_volume(seed)
    ours = views.aggregate_paths(volume, 0.03, 0.25, paths=4)
    ref = mvs_cost.aggregate_paths(_to_dhw(volume), 0.03, 0.25).numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=SGM_ATOL)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_winner_take_all_matches_torch_on_random_volumes(seed):
    volume = _random_volume(seed, (17, 19, 24))
    inv = np.linspace(0.05, 1.3, volume.shape[2]).astype(np.float32)
    ours = views.winner_take_all(volume, inv)
    ref = mvs_cost.winner_take_all(_to_dhw(volume), torch.from_numpy(inv))
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=0, atol=WTA_ATOL)
    assert (ours[2] > 0).mean() > 0.3  # the comparison covers confident pixels, not only zeros


def test_one_path_against_a_hand_worked_answer():
    """Cost C(x, d) on one row of 3 pixels and 3 planes, P1 = 0.1, P2 = 0.3, worked out by hand:

    L(x, d) = C(x, d) + min(L(x-1, d), L(x-1, d+-1) + P1, min L(x-1) + P2) - min L(x-1).
    """
    cost = np.array([[[0.0, 0.5, 1.0], [1.0, 0.0, 1.0], [0.2, 1.0, 0.0]]], np.float32)
    scores = 1 - 2 * cost
    left_to_right = [[0.0, 0.5, 1.0], [1.0, 0.1, 1.3], [0.3, 1.0, 0.1]]
    right_to_left = [[0.1, 0.5, 1.1], [1.2, 0.1, 1.0], [0.2, 1.0, 0.0]]
    for (dy, dx), want in (((0, 1), left_to_right), ((0, -1), right_to_left)):
        np.testing.assert_allclose(views.path_costs(scores, dy, dx, 0.1, 0.3)[0], want, atol=1e-6)
        column = np.ascontiguousarray(scores.transpose(1, 0, 2))  # the same row as a column, top-down/bottom-up
        np.testing.assert_allclose(views.path_costs(column, dx, 0, 0.1, 0.3)[:, 0], want, atol=1e-6)
    diagonal = np.full((3, 3, 3), 1.0, np.float32)  # the row on the diagonal of a 3x3 image, path down-right
    for k in range(3):
        diagonal[k, k] = scores[0, k]
    np.testing.assert_allclose(views.path_costs(diagonal, 1, 1, 0.1, 0.3)[[0, 1, 2], [0, 1, 2]], left_to_right,
                               atol=1e-6)  # fmt: skip


def test_sgm_is_the_mean_of_its_paths():
    volume = _random_volume(4)
    for paths, directions in ((4, [(0, 1), (0, -1), (1, 0), (-1, 0)]), (8, [(1, 1), (-1, -1), (1, -1), (-1, 1)])):
        if paths == 8:
            directions = [(0, 1), (0, -1), (1, 0), (-1, 0), *directions]
        total = sum(views.path_costs(volume, dy, dx, 0.03, 0.25) for dy, dx in directions)
        np.testing.assert_allclose(views.aggregate_paths(volume, 0.03, 0.25, paths), 1 - 2 * total / paths,
                                   atol=SGM_ATOL)  # fmt: skip


def test_eight_paths_add_the_diagonals():
    volume = _random_volume(3)
    four = views.aggregate_paths(volume, 0.03, 0.25, paths=4)
    eight = views.aggregate_paths(volume, 0.03, 0.25, paths=8)
    assert eight.shape == four.shape and not np.allclose(eight, four)
    flat = np.zeros_like(volume)  # a volume constant along D aggregates to itself whatever the paths
    flat[:] = 0.4
    np.testing.assert_allclose(views.aggregate_paths(flat, 0.03, 0.25, paths=8), flat, atol=1e-5)
    with pytest.raises(ValueError, match="4 or 8"):
        views.aggregate_paths(volume, 0.03, 0.25, paths=6)


def test_sweep_matches_torch_on_the_test_scene(scene):
    mvs, src, geometry, inv = frame_inputs(scene)
    ref, sources = mvs.gray[2], mvs.gray[src]
    eps = (MvsParams().min_texture / 2) ** 2
    want = mvs_cost.sweep_scores(ref, sources[:, None], geometry, inv, 5, 2, eps).numpy().transpose(1, 2, 0)
    args = (geometry.A.numpy(), geometry.q.numpy(), inv.to(torch.float32).numpy(), 5, 2, eps, geometry.bound)
    ours = views.sweep_volume(ref.numpy(), sources.numpy(), *args)
    assert (want > -1).mean() > 0.8
    np.testing.assert_allclose(ours, want, rtol=0, atol=SWEEP_ATOL)


def test_consistency_and_zncc_match_torch(scene, scene_depth):
    mvs, src, _, _ = frame_inputs(scene)
    rig = mvs.rig
    depth = torch.from_numpy(scene_depth.depth[2] / mvs.scale)
    for j in src:
        R, t = rig.relative(2, j)
        nb = torch.from_numpy(scene_depth.depth[j] / mvs.scale)
        checked, consistent = mvs_numba.forward_backward(depth.numpy(), rig.K[2], nb.numpy(), rig.K[j], R, t, 1.5, 0.05)
        want = forward_backward(depth, rig.K[2], nb, rig.K[j], R, t, 1.5, 0.05)
        assert want.checked.float().mean() > 0.3
        assert (checked != want.checked.numpy()).mean() < 1e-3
        assert (consistent != want.consistent.numpy()).mean() < 1e-3
        eps = (MvsParams().min_texture / 2) ** 2
        zncc = mvs_numba.zncc_at_depth(mvs.gray[2].numpy(), mvs.gray[j].numpy(), rig.K[2], rig.K[j], R, t,
                                       depth.numpy(), 5, eps)  # fmt: skip
        ref = mvs_cost.zncc_at_depth(mvs.gray[2], mvs.gray[j], rig.K[2], rig.K[j], R, t, depth, 5, eps).numpy()
        np.testing.assert_array_equal(np.isnan(zncc), np.isnan(ref))
        ok = np.isfinite(ref)
        np.testing.assert_allclose(zncc[ok], ref[ok], rtol=0, atol=SWEEP_ATOL)


def test_clip_depth_agrees_with_the_torch_path(scene, scene_depth, mvs_params):
    """Depth within 0.1 % where both have one; confidence within 1e-3 at all but 0.1 % of the pixels."""
    torch_run = clip_depth(scene.images, scene.cameras, mvs_params.model_copy(update={"backend": "torch"}))
    ours = scene_depth  # the default backend on the CPU is numba
    assert resolve_backend(mvs_params.backend, torch.device("cpu")) == "numba"
    same = np.isfinite(ours.depth) == np.isfinite(torch_run.depth)
    assert same.mean() > 0.999
    both = np.isfinite(ours.depth) & np.isfinite(torch_run.depth)
    np.testing.assert_allclose(ours.depth[both], torch_run.depth[both], rtol=1e-3)
    assert (np.abs(ours.confidence - torch_run.confidence) > 1e-3).mean() < 1e-3
    np.testing.assert_allclose(ours.inconsistent_fraction, torch_run.inconsistent_fraction, atol=2e-3)
    np.testing.assert_allclose(ours.disagreement_fraction, torch_run.disagreement_fraction, atol=2e-3)
    np.testing.assert_allclose(ours.median_angle_deg, torch_run.median_angle_deg, rtol=1e-3)


def test_backend_choice():
    assert resolve_backend("auto", torch.device("cpu")) == "numba"
    assert resolve_backend("auto", torch.device("cuda")) == "torch"
    assert resolve_backend("torch", torch.device("cpu")) == "torch"
    with pytest.raises(ValueError, match="CPU"):
        resolve_backend("numba", torch.device("cuda"))
    with pytest.raises(ValueError, match="4 SGM paths"):
        MvsParams(backend="torch", sgm_paths=8)


@pytest.mark.parametrize("paths", [4, 8])
def test_fused_aggregation_and_selection_is_the_two_steps(paths):
    volume = _random_volume(5, (15, 17, 20))
    inv = np.linspace(0.1, 0.9, volume.shape[2]).astype(np.float32)
    fused = views.aggregate_and_select(volume, inv, 0.03, 0.25, paths)
    apart = views.winner_take_all(views.aggregate_paths(volume, 0.03, 0.25, paths), inv)
    for a, b in zip(fused, apart, strict=True):
        np.testing.assert_array_equal(a, b)

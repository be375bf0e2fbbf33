"""MVS against the exact depth of an analytic scene; shapes, ranges and the NaN/confidence contract."""

from __future__ import annotations

import numpy as np

from mannequin.curation.mvs import clip_depth


def _abs_rel(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    ok = np.isfinite(pred)
    return float(np.mean(np.abs(pred[ok] - true[ok]) / true[ok])), float(ok.mean())


def test_depth_is_accurate_and_dense(scene, scene_depth):
    abs_rel, coverage = _abs_rel(scene_depth.depth, scene.depth)
    assert abs_rel <= 0.05, abs_rel
    assert coverage >= 0.5, coverage
    for i in range(len(scene.images)):  # every frame, not just on average
        frame_rel, frame_cov = _abs_rel(scene_depth.depth[i], scene.depth[i])
        assert frame_rel <= 0.05 and frame_cov >= 0.4, (i, frame_rel, frame_cov)


def test_output_contract(scene, scene_depth, mvs_params):
    n, h, w = scene.depth.shape
    r = scene_depth
    assert r.depth.shape == r.confidence.shape == (n, h, w)
    assert r.depth.dtype == r.confidence.dtype == np.float32
    assert np.all((r.confidence >= 0) & (r.confidence <= 1))
    unconfident = r.confidence < mvs_params.confidence_threshold
    assert np.all(np.isnan(r.depth[unconfident]))
    assert np.all(np.isfinite(r.depth[~unconfident]) | (r.confidence[~unconfident] == 0))
    assert np.all(r.depth[np.isfinite(r.depth)] > 0)
    assert r.inconsistent_fraction.shape == r.median_angle_deg.shape == (n,)
    assert np.all(r.inconsistent_fraction < 0.1)  # a static scene is consistent
    assert r.disagreement_fraction is not None and r.disagreement_fraction.shape == (n,)
    assert np.all((r.disagreement_fraction >= 0) & (r.disagreement_fraction < 0.3))
    assert np.all((r.median_angle_deg >= mvs_params.min_angle_deg) & (r.median_angle_deg <= 45))
    assert len(r.sources) == n and all(0 < len(s) <= mvs_params.num_sources for s in r.sources)
    assert all(i not in s for i, s in enumerate(r.sources))
    true_near, true_far = np.nanmin(scene.depth, axis=(1, 2)), np.nanmax(scene.depth, axis=(1, 2))
    assert np.all(r.depth_range[:, 0] <= true_near) and np.all(r.depth_range[:, 1] >= 0.9 * true_far)


def test_progress_reports_every_frame(scene, mvs_params):
    calls: list[tuple[int, int]] = []
    clip_depth(scene.images[:3], scene.cameras[:3], mvs_params, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]

"""What the faster CPU path must not change: cores, kept volumes and the vectorised source choice."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from mannequin.clips.cameras import Camera
from mannequin.config.curate import MvsParams
from mannequin.curation import mvs_numba
from mannequin.curation.mvs_geometry import build_rig, ray_angle_deg
from mannequin.curation.mvs_sources import _scene_center, select_sources
from tests.helpers.mvs_numba_views import frame_inputs


def _sweep_args(scene, planes: int = 32):
    mvs, src, geometry, inv = frame_inputs(scene)
    eps = (MvsParams().min_texture / 2) ** 2
    return (
        mvs.gray[2].numpy(),
        mvs.gray[src].numpy(),
        geometry.A.numpy(),
        geometry.q.numpy(),
        inv.to(torch.float32).numpy()[:planes],
        5,
        2,
        eps,
        geometry.bound,
    )


def _in_a_worker_thread(fn):
    out = []
    worker = threading.Thread(target=lambda: out.append(fn()))
    worker.start()
    worker.join()
    return out[0]


def test_the_sweep_on_every_core_is_the_sweep_on_one(scene):
    args = _sweep_args(scene)
    assert threading.current_thread() is threading.main_thread() and mvs_numba._parallel()
    on_all = mvs_numba.sweep_planes(*args)
    on_one = _in_a_worker_thread(lambda: (mvs_numba._parallel(), mvs_numba.sweep_planes(*args)))
    assert on_one[0] is False  # a worker thread runs the serial kernel
    np.testing.assert_array_equal(on_all, on_one[1])
    assert (on_all > -1).mean() > 0.8


@pytest.mark.parametrize("paths", [4, 8, None])
def test_kept_volumes_give_what_fresh_ones_give(scene, paths):
    """A thread's kept scratch, first larger then smaller, then larger again: the same answer as fresh arrays."""
    big, small = _sweep_args(scene, 32), _sweep_args(scene, 20)

    def fresh(args):
        volume = mvs_numba.sweep_planes(*args)
        if paths is None:
            return mvs_numba.select_planes(volume, args[4])
        return mvs_numba.sgm_select_planes(volume, args[4], 0.03, 0.25, paths)

    for args in (big, small, big):
        kept = mvs_numba.sweep_and_select(*args, paths, 0.03, 0.25)
        for a, b in zip(kept, fresh(args), strict=True):
            np.testing.assert_array_equal(a, b)


def _greedy_reference(rig, ref: int, center: np.ndarray, params: MvsParams) -> tuple[int, ...]:
    """The rule of ``select_sources`` stated a frame and a choice at a time, in plain Python."""
    centers = rig.centers
    target = float(np.sqrt(params.min_angle_deg * min(params.max_angle_deg, 90.0)))
    eligible = []
    for j in range(len(rig)):
        angle = float(ray_angle_deg(center, centers[ref], centers[j]))
        cam = rig.R[j] @ center + rig.t[j]
        u, v, w = rig.K[j] @ cam
        inside = -0.2 * rig.width <= u / w <= 1.2 * rig.width and -0.2 * rig.height <= v / w <= 1.2 * rig.height
        sees = cam[2] > 0 and inside
        if j != ref and params.min_angle_deg <= angle <= params.max_angle_deg and sees:
            eligible.append((j, angle))
    chosen: list[int] = []
    while eligible and len(chosen) < params.num_sources:

        def key(item):
            j, angle = item
            spread = min((float(ray_angle_deg(center, centers[j], centers[k])) for k in chosen), default=target)
            return (-round(min(spread, target), 1), abs(np.log(angle / target)))

        best = min(eligible, key=key)
        chosen.append(best[0])
        eligible.remove(best)
    return tuple(chosen)


def _wandering_rig(n: int, seed: int):
    """``n`` cameras on a noisy arc around a point 4 units ahead, looking at it, some turned away."""
    rng = np.random.default_rng(seed)
    K = np.array([[80.0, 0, 48], [0, 80.0, 36], [0, 0, 1]])
    cams = []
    for i in range(n):
        a = np.radians(-40 + 80 * i / max(n - 1, 1)) + rng.normal(0, 0.02)
        c = np.array([4 * np.sin(a), rng.normal(0, 0.1), 4 - 4 * np.cos(a)])
        look = np.array([0.0, 0.0, 4.0]) - c if i % 7 else np.array([1.0, 0.0, -1.0])  # every 7th looks away
        z = look / np.linalg.norm(look)
        x = np.cross([0.0, 1.0, 0.0], z)
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        cams.append(Camera(K, R, -R @ c, 96, 72))
    return build_rig(cams, 96, 72, 1.0)


@pytest.mark.parametrize("num_sources", [1, 4, 6])
def test_vectorised_source_choice_is_the_plain_greedy_rule(num_sources):
    params = MvsParams(num_sources=num_sources)
    sizes = []
    for seed, n in ((0, 9), (1, 40), (2, 120)):
        rig = _wandering_rig(n, seed)
        for ref in range(0, n, max(1, n // 12)):
            for depth in (2.0, 4.0):
                center = _scene_center(rig, ref, depth)
                chosen = select_sources(rig, ref, center, params)
                assert chosen == _greedy_reference(rig, ref, center, params), (seed, n, ref, depth)
                assert ref not in chosen
                sizes.append(len(chosen))
    assert max(sizes) == num_sources  # the comparison covers full choices

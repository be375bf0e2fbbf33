"""The renderer's portable math: known values, and within a few units in the last place of the C library."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mannequin.sample import portable_math as pm


def _ulps(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.spacing(np.abs(want))))


def test_known_values() -> None:
    assert float(pm.sin(0.0)) == 0.0 and float(pm.cos(0.0)) == 1.0
    assert float(pm.exp(0.0)) == 1.0 and float(pm.log(1.0)) == 0.0 and float(pm.log2(1024.0)) == 10.0
    assert float(pm.sin(math.pi / 6)) == pytest.approx(0.5, abs=3e-16)
    assert float(pm.cos(math.pi / 3)) == pytest.approx(0.5, abs=3e-16)
    assert float(pm.tan(math.pi / 4)) == pytest.approx(1.0, abs=2e-16)
    assert float(pm.exp(1.0)) == pytest.approx(math.e, abs=5e-16)
    assert float(pm.log(math.e)) == pytest.approx(1.0, abs=2e-16)
    angles = pm.atan2([0.0, 1.0, 0.0, -1.0, 1.0, -1.0, 0.0], [1.0, 0.0, -1.0, 0.0, 1.0, -1.0, 0.0])
    np.testing.assert_allclose(angles, [0, math.pi / 2, math.pi, -math.pi / 2, math.pi / 4, -3 * math.pi / 4, 0])
    np.testing.assert_allclose(pm.acos([1.0, 0.0, -1.0, 0.5]), [0.0, math.pi / 2, math.pi, math.pi / 3])
    assert (math.pi / 2, math.pi) == (pm.HALF_PI, pm.PI)


def test_within_a_few_ulps_of_the_c_library() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, 30, 20000), rng.uniform(-1e5, 1e5, 2000)])
    s, c = pm.sin_cos(x)
    want_s, want_c = np.array([math.sin(v) for v in x]), np.array([math.cos(v) for v in x])
    far = (np.abs(want_s) > 1e-3) & (np.abs(want_c) > 1e-3)  # near a zero the relative error of any sine is large
    assert _ulps(s[far], want_s[far]) <= 4 and _ulps(c[far], want_c[far]) <= 4
    assert np.max(np.abs(s - want_s)) < 5e-16 and np.max(np.abs(c - want_c)) < 5e-16
    e = rng.uniform(-60, 60, 20000)
    assert _ulps(pm.exp(e), np.array([math.exp(v) for v in e])) <= 2
    p = np.exp(rng.uniform(-40, 40, 20000))
    assert _ulps(pm.log(p), np.array([math.log(v) for v in p])) <= 4
    assert np.max(np.abs(pm.log2(p) - np.array([math.log2(v) for v in p]))) < 1e-14
    yy, xx = rng.normal(size=(2, 20000))
    assert np.max(np.abs(pm.atan2(yy, xx) - np.array([math.atan2(a, b) for a, b in zip(yy, xx)]))) < 1e-15
    z = rng.uniform(-1, 1, 20000)
    assert np.max(np.abs(pm.acos(z) - np.array([math.acos(v) for v in z]))) < 2e-15


def test_vector_helpers_agree_with_numpy() -> None:
    rng = np.random.default_rng(1)
    a, b, m = rng.normal(size=(50, 3)), rng.normal(size=3), rng.normal(size=(3, 3))
    np.testing.assert_allclose(pm.dot3(a, b), a @ b, rtol=1e-14)
    np.testing.assert_allclose(pm.matmul3(a, m), a @ m, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(pm.matvec3(m, b), m @ b, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(pm.cross3(a, b), np.cross(a, b), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(pm.norm3(a), np.linalg.norm(a, axis=1), rtol=1e-15)


def test_out_of_range_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="exact argument reduction"):
        pm.sin(1e8)
    with pytest.raises(ValueError, match="positive"):
        pm.log(0.0)

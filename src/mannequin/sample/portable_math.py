"""Math whose bits do not depend on the CPU: the sample renderer's sines, arctangents, logarithms and dot products.

numpy picks a SIMD implementation of ``sin``, ``arctan2``, ``log2`` and friends at run time (its own AVX2 kernels,
Intel's SVML on AVX-512, the C library elsewhere), and OpenBLAS picks a matrix kernel per CPU (``@``,
``np.linalg.norm`` of a vector, ``np.linalg.inv``). Each is accurate, but they differ in the last bit, so the same
seed rendered a sample with other bytes on another CPU: ``poses.txt`` prints every bit of a pose.

Here every function is built from operations that IEEE 754 rounds exactly on every CPU (``+ - * /``, ``sqrt``,
``floor``, ``frexp``/``ldexp``, comparisons), applied element-wise by numpy in a fixed order: an argument reduction,
then a Taylor polynomial in Horner form. They are accurate to a few units in the last place (the tests hold them
to the C library's results), which is all a renderer needs; what they buy is the same bits on every machine.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

# pi and ln 2 to 60 digits: every constant below is derived from them with exact rational arithmetic
_PI = Fraction("3.14159265358979323846264338327950288419716939937510582097494459")
_LN2 = Fraction("0.693147180559945309417232121458176568075500134360255254120680009")
_SPLIT_BITS = 30  # k * (a constant of 30 significant bits) is exact for |k| < 2**23
MAX_REDUCED = 2.0**22  # largest |x| / (pi/2) (or x / ln 2) the reductions keep exact


def _split(value: Fraction, parts: int) -> tuple[float, ...]:
    """``value`` as a sum of ``parts`` floats, all but the last carrying at most ``_SPLIT_BITS`` significant bits."""
    out: list[float] = []
    rest = value
    for _ in range(parts - 1):
        scale = Fraction(2) ** (_SPLIT_BITS - 1 - _exponent(rest))
        out.append(float(Fraction(round(rest * scale)) / scale))
        rest -= Fraction(out[-1])
    out.append(float(rest))
    return tuple(out)


def _exponent(value: Fraction) -> int:
    """The e with 2**e <= |value| < 2**(e+1), exactly."""
    value = abs(value)
    e = value.numerator.bit_length() - value.denominator.bit_length()
    return e if Fraction(2) ** e <= value else e - 1


def _taylor(terms: int, coefficient) -> tuple[float, ...]:
    """Coefficients ``coefficient(k)`` for k = terms-1 .. 0 (highest degree first, for Horner), rounded once."""
    return tuple(float(coefficient(k)) for k in range(terms - 1, -1, -1))


PI = float(_PI)
HALF_PI = float(_PI / 2)
QUARTER_PI = float(_PI / 4)
TAN_EIGHTH_PI = 0.41421356237309503  # tan(pi/8) = sqrt(2) - 1, where atan switches to its pi/4 identity
_HALF_PI_PARTS = _split(_PI / 2, 3)
_TWO_OVER_PI = float(2 / _PI)
_LN2_PARTS = _split(_LN2, 2)
_INV_LN2 = float(1 / _LN2)
_SQRT_HALF = 0.7071067811865476
# sin r = r * S(r^2), cos r = C(r^2) for |r| <= pi/4; exp r = E(r) for |r| <= ln2/2;
# atan v = v * A(v^2) for |v| <= 0.2; atanh s = s * H(s^2) for |s| <= 0.18: every series truncated below 1e-22
_SIN = _taylor(12, lambda k: Fraction((-1) ** k, math.factorial(2 * k + 1)))
_COS = _taylor(12, lambda k: Fraction((-1) ** k, math.factorial(2 * k)))
_EXP = _taylor(21, lambda k: Fraction(1, math.factorial(k)))
_ATAN = _taylor(16, lambda k: Fraction((-1) ** k, 2 * k + 1))
_ATANH = _taylor(16, lambda k: Fraction(1, 2 * k + 1))


def _horner(coefficients: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    acc = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        acc = acc * x + c
    return acc


def _float(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _check_range(x: np.ndarray, limit: float, name: str) -> None:
    finite = x[np.isfinite(x)]
    if finite.size and float(np.max(np.abs(finite))) > limit:
        raise ValueError(f"{name}: |x| above {limit:g} is outside the exact argument reduction")


def sin_cos(x) -> tuple[np.ndarray, np.ndarray]:
    """``(sin x, cos x)`` element-wise, for |x| up to about 6.5 million."""
    x = _float(x)
    _check_range(x, MAX_REDUCED * HALF_PI, "sin_cos")
    n = np.floor(x * _TWO_OVER_PI + 0.5)  # x = n pi/2 + r, |r| <= pi/4 (a hair more after rounding)
    p1, p2, p3 = _HALF_PI_PARTS
    r = ((x - n * p1) - n * p2) - n * p3
    r2 = r * r
    s = r * _horner(_SIN, r2)
    c = _horner(_COS, r2)
    quadrant = np.mod(n, 4.0)
    sin = np.where(quadrant == 0, s, np.where(quadrant == 1, c, np.where(quadrant == 2, -s, -c)))
    cos = np.where(quadrant == 0, c, np.where(quadrant == 1, -s, np.where(quadrant == 2, -c, s)))
    return sin, cos


def sin(x) -> np.ndarray:
    """``sin x`` element-wise (see :func:`sin_cos`)."""
    return sin_cos(x)[0]


def cos(x) -> np.ndarray:
    """``cos x`` element-wise (see :func:`sin_cos`)."""
    return sin_cos(x)[1]


def tan(x) -> np.ndarray:
    """``tan x`` element-wise, as sin over cos."""
    s, c = sin_cos(x)
    return s / c


def exp(x) -> np.ndarray:
    """``e ** x`` element-wise, for |x| below 700."""
    x = _float(x)
    _check_range(x, 700.0, "exp")
    k = np.floor(x * _INV_LN2 + 0.5)  # x = k ln2 + r, |r| <= ln2 / 2
    r = (x - k * _LN2_PARTS[0]) - k * _LN2_PARTS[1]
    return np.ldexp(_horner(_EXP, r), k.astype(np.int64))


def _log_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x = m * 2**e`` with m in [sqrt(1/2), sqrt(2)); returns ``(e, log m)``. Needs x > 0 and finite."""
    m, e = np.frexp(x)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)  # log m = 2 atanh s, |s| <= 0.172
    return e, 2.0 * s * _horner(_ATANH, s * s)


def log(x) -> np.ndarray:
    """Natural logarithm element-wise, for positive finite x."""
    x = _float(x)
    if np.any(~(x > 0)) or not np.all(np.isfinite(x)):
        raise ValueError("log: x must be positive and finite")
    e, log_m = _log_parts(x)
    return e * _LN2_PARTS[0] + (e * _LN2_PARTS[1] + log_m)


def log2(x) -> np.ndarray:
    """Base-2 logarithm element-wise, for positive finite x."""
    x = _float(x)
    if np.any(~(x > 0)) or not np.all(np.isfinite(x)):
        raise ValueError("log2: x must be positive and finite")
    e, log_m = _log_parts(x)
    return e + log_m * _INV_LN2


def _atan_unit(a: np.ndarray) -> np.ndarray:
    """atan a for a in [0, 1]."""
    upper = a > TAN_EIGHTH_PI
    u = np.where(upper, (a - 1.0) / (a + 1.0), a)  # atan a = pi/4 + atan((a-1)/(a+1)), |u| <= tan(pi/8)
    v = u / (1.0 + np.sqrt(1.0 + u * u))  # atan u = 2 atan v, |v| <= 0.2
    return np.where(upper, QUARTER_PI, 0.0) + 2.0 * (v * _horner(_ATAN, v * v))


def atan2(y, x) -> np.ndarray:
    """The angle of the point (x, y), in [-pi, pi], element-wise (0 at the origin; NaN in, NaN out)."""
    y, x = np.broadcast_arrays(_float(y), _float(x))
    ay, ax = np.abs(y), np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        steep = ay > ax
        ratio = np.where(steep, ax / ay, ay / ax)  # in [0, 1]
        ratio = np.where((ax == 0) & (ay == 0), 0.0, ratio)
    angle = _atan_unit(ratio)
    angle = np.where(steep, HALF_PI - angle, angle)  # the angle of (|x|, |y|)
    angle = np.where(x < 0, PI - angle, angle)
    angle = np.where(y < 0, -angle, angle)
    return np.where(np.isnan(x) | np.isnan(y), np.nan, angle)


def acos(z) -> np.ndarray:
    """``arccos z`` element-wise for z in [-1, 1] (values outside are clipped onto it)."""
    z = np.clip(_float(z), -1.0, 1.0)
    return atan2(np.sqrt((1.0 - z) * (1.0 + z)), z)


def hypot(a, b) -> np.ndarray:
    """``sqrt(a*a + b*b)`` element-wise."""
    a, b = _float(a), _float(b)
    return np.sqrt(a * a + b * b)


def dot3(a, b) -> np.ndarray:
    """The dot product of 3-vectors along the last axis (either may be one vector), summed x, y, z in order."""
    a, b = _float(a), _float(b)
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def norm3(v) -> np.ndarray:
    """The length of 3-vectors along the last axis."""
    return np.sqrt(dot3(v, v))


def cross3(a, b) -> np.ndarray:
    """The cross product of 3-vectors along the last axis."""
    a, b = _float(a), _float(b)
    return np.stack(
        [
            a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
            a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
            a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
        ],
        axis=-1,
    )


def matmul3(a, m) -> np.ndarray:
    """``a @ m`` for row 3-vectors ``a`` (..., 3) and a 3x3 matrix ``m``, without BLAS: one :func:`dot3` each."""
    a, m = _float(a), _float(m)
    return np.stack([dot3(a, m[:, j]) for j in range(3)], axis=-1)


def matvec3(m, v) -> np.ndarray:
    """``m @ v`` for a 3x3 matrix and a 3-vector, without BLAS."""
    m, v = _float(m), _float(v)
    return np.array([float(dot3(m[i], v)) for i in range(3)])

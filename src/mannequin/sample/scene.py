"""Analytic scene geometry for the sample renderer: planes, boxes, spheres and vertical cylinders.

World frame: metres, y up, the floor at y = 0. Every primitive answers two vectorised questions:
``intersect(origin, dirs)`` gives the ray parameter of the nearest front-facing hit (inf on a miss) for
unit directions, and ``surface(points)`` gives the outward normals and the surface coordinates in metres
used to look up its texture, so textures stick to surfaces whatever the viewpoint. The arithmetic is
:mod:`~mannequin.sample.portable_math` (no BLAS, no SIMD-dispatched ufuncs): the same bits on every CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mannequin.sample import portable_math as pm

EPS = 1e-6


@dataclass(frozen=True)
class Material:
    """Texture ``texture`` (index into the bank) of ``texel_m`` metres per texel, tinted and offset."""

    texture: int
    texel_m: float
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)


def _yaw_matrix(yaw: float) -> np.ndarray:
    s, c = (float(v) for v in pm.sin_cos(yaw))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@dataclass(frozen=True)
class Plane:
    """One face of the room, seen from inside: points X with ``normal . X = offset``; ``normal`` faces the room."""

    normal: tuple[float, float, float]
    offset: float
    u_axis: tuple[float, float, float]
    v_axis: tuple[float, float, float]
    material: Material

    def intersect(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        n = np.asarray(self.normal)
        denom = pm.dot3(d, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (self.offset - pm.dot3(n, o)) / denom
        return np.where((denom < -EPS) & (t > EPS), t, np.inf)

    def surface(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        normals = np.broadcast_to(np.asarray(self.normal, dtype=np.float64), x.shape)
        uv = np.stack([pm.dot3(x, self.u_axis), pm.dot3(x, self.v_axis)], axis=1)
        return normals, uv

    def moved(self, delta: np.ndarray) -> Plane:
        return self


@dataclass(frozen=True)
class Box:
    """A box of half-sizes ``half`` centred at ``center``, turned by ``yaw`` radians about the vertical."""

    center: tuple[float, float, float]
    half: tuple[float, float, float]
    yaw: float
    material: Material

    def _local(self, p: np.ndarray) -> np.ndarray:
        return pm.matmul3(p - np.asarray(self.center), _yaw_matrix(self.yaw))

    def intersect(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        rot = _yaw_matrix(self.yaw)
        ol = pm.matvec3(rot.T, o - np.asarray(self.center))
        dl = pm.matmul3(d, rot)
        tnear = np.full(len(d), -np.inf)
        tfar = np.full(len(d), np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            for axis, h in enumerate(self.half):  # slab test, one axis at a time on contiguous columns
                inv = 1.0 / dl[:, axis]
                t1 = (-h - ol[axis]) * inv
                t2 = (h - ol[axis]) * inv
                np.maximum(tnear, np.minimum(t1, t2), out=tnear)
                np.minimum(tfar, np.maximum(t1, t2), out=tfar)
        return np.where((tnear <= tfar) & (tnear > EPS), tnear, np.inf)

    def surface(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.asarray(self.half)
        local = self._local(x)
        rel = local / h
        axis = np.argmax(np.abs(rel), axis=1)
        rows = np.arange(len(x))
        n_local = np.zeros_like(local)
        n_local[rows, axis] = np.sign(rel[rows, axis])
        normals = pm.matmul3(n_local, _yaw_matrix(self.yaw).T)
        # the two coordinates that run along the face, measured from a box corner
        other = np.array([[1, 2], [0, 2], [0, 1]])[axis]
        shifted = local + h
        uv = np.stack([shifted[rows, other[:, 0]], shifted[rows, other[:, 1]]], axis=1)
        return normals, uv

    def moved(self, delta: np.ndarray) -> Box:
        return replace(self, center=tuple(np.asarray(self.center) + delta))


@dataclass(frozen=True)
class Sphere:
    center: tuple[float, float, float]
    radius: float
    material: Material

    def intersect(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        oc = o - np.asarray(self.center)
        b = pm.dot3(d, oc)
        c = float(pm.dot3(oc, oc)) - self.radius * self.radius
        disc = b * b - c
        with np.errstate(invalid="ignore"):
            t = -b - np.sqrt(disc)
        return np.where((disc >= 0) & (t > EPS), t, np.inf)

    def surface(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = x - np.asarray(self.center)
        normals = rel / self.radius
        azimuth = pm.atan2(rel[:, 0], rel[:, 2])
        polar = pm.acos(rel[:, 1] / self.radius)
        return normals, np.stack([azimuth * self.radius, polar * self.radius], axis=1)

    def moved(self, delta: np.ndarray) -> Sphere:
        return replace(self, center=tuple(np.asarray(self.center) + delta))


@dataclass(frozen=True)
class Cylinder:
    """A closed vertical cylinder: base centre ``base`` (x, y0, z), ``radius``, ``height``."""

    base: tuple[float, float, float]
    radius: float
    height: float
    material: Material

    def intersect(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        bx, y0, bz = self.base
        y1 = y0 + self.height
        ox, oz = o[0] - bx, o[2] - bz
        a = d[:, 0] * d[:, 0] + d[:, 2] * d[:, 2]
        b = d[:, 0] * ox + d[:, 2] * oz
        c = ox * ox + oz * oz - self.radius * self.radius
        disc = b * b - a * c
        with np.errstate(divide="ignore", invalid="ignore"):
            ts = (-b - np.sqrt(disc)) / a
            ys = o[1] + ts * d[:, 1]
            side = np.where((disc >= 0) & (a > EPS) & (ts > EPS) & (ys >= y0) & (ys <= y1), ts, np.inf)
            cap_y = np.where(d[:, 1] < 0, y1, y0)  # a ray going down meets the top, going up the bottom
            tc = (cap_y - o[1]) / d[:, 1]
            cx = ox + tc * d[:, 0]
            cz = oz + tc * d[:, 2]
            outside_slab = (o[1] > y1) | (o[1] < y0)
            cap = np.where(
                outside_slab & (tc > EPS) & (cx * cx + cz * cz <= self.radius * self.radius) & (np.abs(d[:, 1]) > EPS),
                tc,
                np.inf,
            )
        return np.minimum(side, cap)

    def surface(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bx, y0, bz = self.base
        rel = x - np.array([bx, 0.0, bz])
        radial = pm.hypot(rel[:, 0], rel[:, 2])
        top = np.abs(rel[:, 1] - (y0 + self.height)) < 1e-5
        bottom = np.abs(rel[:, 1] - y0) < 1e-5
        on_cap = (top | bottom) & (radial < self.radius * (1 - 1e-4))
        normals = np.zeros_like(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            normals[:, 0] = rel[:, 0] / self.radius
            normals[:, 2] = rel[:, 2] / self.radius
        normals[on_cap] = 0.0
        normals[on_cap & top, 1] = 1.0
        normals[on_cap & bottom, 1] = -1.0
        azimuth = pm.atan2(rel[:, 0], rel[:, 2]) * self.radius
        uv = np.stack([np.where(on_cap, rel[:, 0], azimuth), np.where(on_cap, rel[:, 2], rel[:, 1])], axis=1)
        return normals, uv

    def moved(self, delta: np.ndarray) -> Cylinder:
        return replace(self, base=tuple(np.asarray(self.base) + delta))


Primitive = Plane | Box | Sphere | Cylinder


@dataclass(frozen=True)
class SceneObject:
    """Primitives that move together by ``motion`` metres over the clip (zero for a frozen scene)."""

    parts: tuple[Primitive, ...]
    motion: tuple[float, float, float] = (0.0, 0.0, 0.0)
    kind: str = "object"

    @property
    def moving(self) -> bool:
        return any(m != 0.0 for m in self.motion)

    def at(self, s: float) -> tuple[Primitive, ...]:
        """The parts at clip time ``s`` in [0, 1]."""
        if not self.moving:
            return self.parts
        delta = np.asarray(self.motion) * s
        return tuple(p.moved(delta) for p in self.parts)


@dataclass(frozen=True)
class Light:
    """A fixed directional light (``direction`` points towards the light) plus ambient light."""

    direction: tuple[float, float, float] = (0.3, 0.85, -0.4)
    ambient: float = 0.45
    diffuse: float = 0.6


@dataclass(frozen=True)
class Scene:
    """A room (its walls, floor and ceiling) with objects and figures, lit by one light."""

    size: tuple[float, float, float]  # room width (x), height (y), depth (z); x in [-w/2, w/2], z in [0, depth]
    objects: tuple[SceneObject, ...]
    light: Light = field(default_factory=Light)

    def primitives(self, s: float) -> tuple[Primitive, ...]:
        """All primitives at clip time ``s``."""
        return tuple(p for obj in self.objects for p in obj.at(s))


def room_planes(size: tuple[float, float, float], materials: list[Material]) -> SceneObject:
    """The six inward-facing faces of a room: floor, ceiling, left, right, back and front walls."""
    w, h, dz = size
    x, y, z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
    planes = (
        Plane((0.0, 1.0, 0.0), 0.0, x, z, materials[0]),  # floor y = 0
        Plane((0.0, -1.0, 0.0), -h, x, z, materials[1]),  # ceiling y = h
        Plane((1.0, 0.0, 0.0), -w / 2, z, y, materials[2]),  # left wall x = -w/2
        Plane((-1.0, 0.0, 0.0), -w / 2, z, y, materials[3]),  # right wall x = w/2
        Plane((0.0, 0.0, -1.0), -dz, x, y, materials[4]),  # far wall z = dz
        Plane((0.0, 0.0, 1.0), 0.0, x, y, materials[5]),  # near wall z = 0
    )
    return SceneObject(planes, kind="room")


def figure(
    x: float, z: float, yaw: float, scale: float, clothes: Material, skin: Material, legs: Material
) -> tuple[Primitive, ...]:
    """A standing human-like figure (legs, torso, arms, neck, head) on the floor at (x, z), ``scale`` ~ 1."""
    rot = _yaw_matrix(yaw)

    def at(dx: float, y: float, dz: float = 0.0) -> np.ndarray:
        return np.array([x, 0.0, z]) + pm.matvec3(rot, np.array([dx * scale, y * scale, dz * scale]))

    leg_r, arm_r = 0.075 * scale, 0.05 * scale
    parts: list[Primitive] = []
    for side in (-1.0, 1.0):
        p = at(side * 0.1, 0.0)
        parts.append(Cylinder((p[0], 0.0, p[2]), leg_r, 0.85 * scale, legs))
        a = at(side * 0.27, 0.78)
        parts.append(Cylinder((a[0], a[1], a[2]), arm_r, 0.62 * scale, clothes))
    torso = at(0.0, 1.12)
    parts.append(Box(tuple(torso), (0.2 * scale, 0.3 * scale, 0.12 * scale), yaw, clothes))
    neck = at(0.0, 1.42)
    parts.append(Cylinder((neck[0], neck[1], neck[2]), 0.05 * scale, 0.1 * scale, skin))
    head = at(0.0, 1.62)
    parts.append(Sphere(tuple(head), 0.115 * scale, skin))
    return tuple(parts)

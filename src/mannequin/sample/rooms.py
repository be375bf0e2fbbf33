"""Random furnished rooms for the sample dataset: textured walls, objects and human-like figures."""

from __future__ import annotations

import numpy as np

from mannequin.sample import portable_math as pm
from mannequin.sample.scene import (
    Box,
    Cylinder,
    Light,
    Material,
    Primitive,
    Scene,
    SceneObject,
    Sphere,
    figure,
    room_planes,
)
from mannequin.sample.textures import PHOTOS, PROCEDURAL, TILE

_NAMES = PHOTOS + PROCEDURAL
_COLOUR_PHOTOS = {"coffee", "chelsea", "astronaut", "rocket", "immunohistochemistry", "hubble_deep_field"}
FLOOR = ("gravel", "wood", "checker", "noise", "brick", "grass", "stripes")
WALL = ("brick", "page", "text", "stripes", "noise", "coffee", "camera", "moon", "blobs", "coins", "wood")
CEILING = ("noise", "page", "moon", "gravel", "blobs")
THINGS = _NAMES
CLOTHES = ("stripes", "checker", "noise", "blobs", "astronaut", "rocket", "coffee", "chelsea", "immunohistochemistry")
SKIN = ("moon", "gravel", "coins")  # grey photos, so the skin tint sets the hue


def _material(rng: np.random.Generator, names: tuple[str, ...], period_m: tuple[float, float]) -> Material:
    name = str(rng.choice(names))
    tint = rng.uniform(0.85, 1.0, 3) if name in _COLOUR_PHOTOS else rng.uniform(0.45, 1.0, 3)
    period = rng.uniform(*period_m)
    return Material(
        texture=_NAMES.index(name),
        texel_m=float(period / (2 * TILE)),
        tint=tuple(float(c) for c in tint),
        offset=tuple(float(o) for o in rng.uniform(0.0, 10.0, 2)),
    )


def _skin(rng: np.random.Generator) -> Material:
    base = np.array([0.95, 0.75, 0.6]) * rng.uniform(0.55, 1.0)
    mat = _material(rng, SKIN, (0.2, 0.5))
    return Material(mat.texture, mat.texel_m, tuple(float(c) for c in np.clip(base * rng.uniform(0.9, 1.1, 3), 0, 1)))


def random_scene(
    rng: np.random.Generator,
    size: tuple[float, float, float],
    camera_centres: np.ndarray,
    moving: bool = False,
    walking: bool = False,
) -> Scene:
    """A furnished room of ``size`` (width, height, depth) whose objects keep clear of ``camera_centres`` (N, 3).

    With ``moving`` (a defect for curation), every figure walks (the first, placed near the camera, 1-2 m; the
    others 0.6-1.5 m) and two objects slide 0.5-1 m during the clip. With ``walking`` (the paper-like test and
    labeled clips) only people move: the first figure, placed near the camera, walks and each other one walks
    with probability 1/2; no object slides.
    """
    width, height, depth = size
    walls = [_material(rng, WALL, (1.2, 3.0)) for _ in range(2)]
    room = room_planes(
        size,
        [
            _material(rng, FLOOR, (0.8, 2.5)),
            _material(rng, CEILING, (1.5, 3.5)),
            walls[0],
            walls[0],
            walls[1],
            walls[int(rng.integers(0, 2))],
        ],
    )
    z_min = float(camera_centres[:, 2].max()) + 1.0
    placed: list[tuple[float, float, float]] = []  # (x, z, radius) footprints

    def place(radius: float, near: bool = False) -> tuple[float, float] | None:
        z_max = min(depth - radius - 0.15, z_min + 2.5) if near else depth - radius - 0.15
        for _ in range(30):
            x = rng.uniform(-width / 2 + radius + 0.1, width / 2 - radius - 0.1)
            z = rng.uniform(z_min + radius, max(z_max, z_min + radius + 0.01))
            clear_cam = np.all(pm.hypot(camera_centres[:, 0] - x, camera_centres[:, 2] - z) > radius + 0.8)
            clear_obj = all(pm.hypot(px - x, pz - z) > radius + pr for px, pz, pr in placed)
            if clear_cam and clear_obj:
                placed.append((x, z, radius))
                return float(x), float(z)
        return None

    objects: list[SceneObject] = [room]
    n_figures = int(rng.integers(1, 4))
    for k in range(n_figures):
        spot = place(0.35, near=(moving or walking) and k == 0)
        if spot is None:
            continue
        parts = figure(
            spot[0],
            spot[1],
            yaw=float(rng.uniform(-0.8, 0.8) + np.pi),
            scale=float(rng.uniform(0.85, 1.1)),
            clothes=_material(rng, CLOTHES, (0.3, 0.9)),
            skin=_skin(rng),
            legs=_material(rng, CLOTHES, (0.3, 0.9)),
        )
        motion = (0.0, 0.0, 0.0)
        if moving or (walking and (k == 0 or rng.random() < 0.5)):  # no extra draw unless walking
            direction = -1.0 if spot[0] > 0 else 1.0
            span = (1.0, 2.0) if not any(o.moving for o in objects) else (0.6, 1.5)
            motion = (float(direction * rng.uniform(*span)), 0.0, float(rng.uniform(-0.4, 0.4)))
        objects.append(SceneObject(parts, motion, kind="figure"))
    for _ in range(int(rng.integers(4, 9))):
        shape = str(rng.choice(["box", "box", "sphere", "cylinder"]))
        mat = _material(rng, THINGS, (0.3, 1.2))
        part: Primitive
        if shape == "box":
            half = (rng.uniform(0.15, 0.5), rng.uniform(0.15, 0.9), rng.uniform(0.15, 0.5))
            spot = place(float(pm.hypot(half[0], half[2])))
            if spot is None:
                continue
            part = Box((spot[0], half[1], spot[1]), tuple(float(h) for h in half), float(rng.uniform(0, np.pi)), mat)
        elif shape == "sphere":
            r = float(rng.uniform(0.15, 0.45))
            spot = place(r)
            if spot is None:
                continue
            y = r if rng.random() < 0.6 else float(rng.uniform(r + 0.5, height - r - 0.3))
            part = Sphere((spot[0], y, spot[1]), r, mat)
        else:
            r = float(rng.uniform(0.1, 0.35))
            spot = place(r)
            if spot is None:
                continue
            part = Cylinder((spot[0], 0.0, spot[1]), r, float(rng.uniform(0.3, 1.5)), mat)
        motion = (0.0, 0.0, 0.0)
        if moving and sum(o.moving and o.kind != "figure" for o in objects) < 2:
            motion = (float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0)), 0.0, 0.0)
        objects.append(SceneObject((part,), motion))
    light = Light(
        direction=(float(rng.uniform(-0.5, 0.5)), float(rng.uniform(0.6, 1.0)), float(rng.uniform(-0.6, 0.2))),
        ambient=float(rng.uniform(0.45, 0.6)),
        diffuse=float(rng.uniform(0.45, 0.6)),
    )
    return Scene(size=size, objects=tuple(objects), light=light)


def random_room_size(rng: np.random.Generator) -> tuple[float, float, float]:
    """Width, height and depth of a room in metres."""
    return float(rng.uniform(4.0, 7.0)), float(rng.uniform(2.5, 3.2)), float(rng.uniform(5.5, 9.0))

"""Handheld-like camera trajectories for the sample renderer.

A trajectory maps clip time ``s`` in [0, 1] to a camera centre (world metres, y up) and a world-to-camera
rotation whose axes are x right, y down, z forward (as in ``poses.txt``). Kinds:

- ``sweep``: sideways move; ``arc``: around a point of interest; ``forward``: walk in; ``diagonal``: mixed;
- ``rotation``: the camera only turns (no translation); ``static``: no motion at all;
- ``fast``: a long sweep with a strong pan (used, with sub-frame rendering, for motion blur).

The moving kinds carry a small smooth jitter in position and angle, like a hand-held phone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mannequin.sample import portable_math as pm

MOVING_KINDS = ("sweep", "arc", "forward", "diagonal")


def look_rotation(yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    """World-to-camera rotation for a camera looking along (yaw, pitch) in a y-up world (yaw 0 looks along +z).

    Portable math throughout (:mod:`~mannequin.sample.portable_math`): ``poses.txt`` prints every bit of it."""
    (sy, cy), (sp, cp), (sr, cr) = ((float(v) for v in pm.sin_cos(a)) for a in (yaw, pitch, roll))
    f = np.array([sy * cp, sp, cy * cp])
    r = pm.cross3(f, [0.0, 1.0, 0.0])
    r = r / pm.norm3(r)
    d = pm.cross3(f, r)
    r, d = cr * r + sr * d, -sr * r + cr * d
    return np.stack([r, d, f])


@dataclass(frozen=True)
class Trajectory:
    kind: str
    start: tuple[float, float, float]  # centre at s = 0.5
    yaw: float
    pitch: float
    length: float  # metres of travel (arc: along the arc)
    pan: float  # radians of yaw change over the clip
    focus_distance: float  # arc: distance to the point it turns around
    jitter_pos: tuple[tuple[float, float, float], ...]  # (amplitude m, cycles per clip, phase) per axis
    jitter_ang: tuple[tuple[float, float, float], ...]  # (amplitude rad, cycles per clip, phase) yaw/pitch/roll

    def _jitter(self, terms: tuple[tuple[float, float, float], ...], s: float) -> np.ndarray:
        return np.array([a * float(pm.sin(2 * pm.PI * f * s + p)) for a, f, p in terms]) if terms else np.zeros(3)

    def pose(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Camera centre (3,) and world-to-camera rotation (3, 3) at clip time ``s``."""
        c0 = np.asarray(self.start, dtype=np.float64)
        k = s - 0.5
        yaw, pitch = self.yaw + k * self.pan, self.pitch
        sin_yaw, cos_yaw = (float(v) for v in pm.sin_cos(self.yaw))
        fwd = np.array([sin_yaw, 0.0, cos_yaw])
        right = np.array([cos_yaw, 0.0, -sin_yaw])
        if self.kind in ("sweep", "fast"):
            centre = c0 + k * self.length * right
        elif self.kind == "forward":
            centre = c0 + k * self.length * (0.85 * fwd + 0.5 * right)
        elif self.kind == "diagonal":
            centre = c0 + k * self.length * (0.7 * right + 0.5 * fwd + np.array([0.0, 0.25, 0.0]))
        elif self.kind == "arc":
            focus = c0 + self.focus_distance * fwd
            angle = k * self.length / self.focus_distance
            yaw = self.yaw + angle
            centre = focus - self.focus_distance * np.array([float(pm.sin(yaw)), 0.0, float(pm.cos(yaw))])
        elif self.kind in ("rotation", "static"):
            centre = c0
        else:
            raise ValueError(f"unknown trajectory kind {self.kind!r}")
        if self.kind not in ("rotation", "static"):
            centre = centre + self._jitter(self.jitter_pos, s)
        dyaw, dpitch, droll = self._jitter(self.jitter_ang, s)
        return centre, look_rotation(yaw + dyaw, pitch + dpitch, droll)


def random_trajectory(rng: np.random.Generator, kind: str, room: tuple[float, float, float]) -> Trajectory:
    """Draw a trajectory of ``kind`` for a camera in the near part of a room of ``room`` = (width, height, depth)."""
    width, height, _ = room
    start = (
        rng.uniform(-0.15, 0.15) * width if kind != "fast" else 0.0,
        rng.uniform(1.2, min(1.7, height - 0.6)),
        rng.uniform(0.9, 1.6),
    )
    yaw = rng.uniform(-0.6, 0.6) if kind != "fast" else rng.uniform(-0.3, 0.3)
    pitch = rng.uniform(-0.3, 0.05)
    length = {"sweep": rng.uniform(0.4, 1.5), "arc": rng.uniform(0.5, 1.5), "forward": rng.uniform(0.6, 1.2)}.get(
        kind, rng.uniform(0.5, 1.2)
    )
    pan = rng.uniform(-0.15, 0.15)
    if kind == "rotation":
        length, pan = 0.0, rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.55)
    elif kind == "static":
        length, pan = 0.0, 0.0
    elif kind == "fast":
        length, pan = rng.uniform(2.0, 2.6), rng.choice([-1.0, 1.0]) * rng.uniform(1.8, 2.4)
    if kind == "static":
        jitter_pos: tuple[tuple[float, float, float], ...] = ()
        jitter_ang: tuple[tuple[float, float, float], ...] = ()
    else:
        jitter_pos = tuple(
            (float(rng.uniform(0.004, 0.015)), float(rng.uniform(0.5, 2.5)), float(rng.uniform(0, 6.3)))
            for _ in range(3)
        )
        jitter_ang = tuple(
            (float(rng.uniform(0.002, 0.008)), float(rng.uniform(0.5, 2.5)), float(rng.uniform(0, 6.3)))
            for _ in range(3)
        )
    # keep the whole path at least 0.6 m from the side walls
    room_half = width / 2 - 0.6
    if kind in ("sweep", "fast", "diagonal", "forward", "arc"):
        length = min(length, 2 * (room_half - abs(start[0])) / 1.1)
    return Trajectory(
        kind=kind,
        start=tuple(float(v) for v in start),
        yaw=float(yaw),
        pitch=float(pitch),
        length=float(length),
        pan=float(pan),
        focus_distance=float(rng.uniform(2.5, 4.0)),
        jitter_pos=jitter_pos,
        jitter_ang=jitter_ang,
    )

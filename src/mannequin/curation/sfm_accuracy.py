"""How far estimated camera poses are from true ones, after a similarity alignment (evo's Umeyama).

SfM poses come in an arbitrary frame and scale, so the estimated camera path is aligned to the true one
(rotation, translation, scale) before the errors are taken: the absolute trajectory error (RMSE of the
camera centres) relative to the true path length, and each camera's rotation error in degrees relative
to the first frame (the rotation part of evo's origin alignment).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mannequin.clips.cameras import Camera


@dataclass(frozen=True)
class PoseErrors:
    """Errors of aligned estimated poses against true poses."""

    frames: int
    ate: float  # RMSE of the aligned camera centres, true units
    path_length: float  # of the true camera path
    rotation_deg: np.ndarray  # (frames,) per-camera rotation error after alignment
    scale: float  # true units per estimated unit

    @property
    def ate_ratio(self) -> float:
        """ATE as a share of the true path length."""
        return self.ate / self.path_length if self.path_length > 0 else float("inf")

    @property
    def max_rotation_deg(self) -> float:
        return float(self.rotation_deg.max()) if self.rotation_deg.size else 0.0


def _path(cameras: Sequence[Camera]):
    from evo.core.trajectory import PosePath3D

    return PosePath3D(poses_se3=[np.linalg.inv(c.extrinsic) for c in cameras])  # camera-to-world


def pose_errors(estimated: Sequence[Camera], true: Sequence[Camera]) -> PoseErrors:
    """Align ``estimated`` to ``true`` (same frames, same order) by a similarity and measure what is left."""
    from evo.core import metrics

    if len(estimated) != len(true) or len(true) < 3:
        raise ValueError(f"need the same 3+ frames on both sides, got {len(estimated)} and {len(true)}")
    ref, est = _path(true), _path(estimated)
    aligned = copy.deepcopy(est)
    _, _, scale = aligned.align(ref, correct_scale=True)
    ape = metrics.APE(metrics.PoseRelation.translation_part)
    ape.process_data((ref, aligned))
    # a short clip's path is often nearly straight, which leaves Umeyama's turn about it undetermined:
    # rotations are compared relative to the first frame instead (well defined for any path)
    origin = copy.deepcopy(est)
    origin.align_origin(ref)
    rot = metrics.APE(metrics.PoseRelation.rotation_angle_deg)
    rot.process_data((ref, origin))
    centres = np.array([c.center for c in true])
    length = float(np.linalg.norm(np.diff(centres, axis=0), axis=1).sum())
    return PoseErrors(
        frames=len(true),
        ate=float(ape.get_statistic(metrics.StatisticsType.rmse)),
        path_length=length,
        rotation_deg=np.asarray(rot.error, dtype=np.float64),
        scale=float(scale),
    )

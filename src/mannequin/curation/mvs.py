"""Plane-sweep multi-view stereo for a clip of a static scene: depth and a per-pixel confidence.

For each reference frame:

1. choose source frames with a useful triangulation angle, spread out (``mvs_sources``);
2. find the depth range from sparse SIFT points triangulated with the known poses (``mvs_sources``);
3. sweep fronto-parallel planes uniform in inverse depth, score them with windowed ZNCC averaged
   over the best-k source views, take the winner with a parabolic sub-plane refinement; a cost-curve
   confidence comes from the winning score and its margin over the best competing peak (``mvs_cost``);
4. check each depth against the source frames' depth maps, forward and backward (``mvs_consistency``).

Poses are first divided by a scale read from the poses alone (``mvs_geometry.pose_scale``), and the
depth multiplied back, so scaling every translation by s scales the depth by s and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mannequin.clips.cameras import Camera
from mannequin.config.curate import MvsParams
from mannequin.curation import mvs_cost, mvs_numba
from mannequin.curation.mvs_consistency import forward_backward, pixel_grid
from mannequin.curation.mvs_cost import local_std, sweep_geometry, to_gray, zncc_at_depth
from mannequin.curation.mvs_geometry import Rig, build_rig, pose_scale
from mannequin.curation.mvs_sources import FramePlan, SparseCache, plan_frame

#: A source view agrees with a depth when its windowed ZNCC there reaches this value.
AGREEMENT_ZNCC = 0.5
#: A neighbour's depth takes part in the consistency check where its cost-curve confidence reaches
#: this fraction of the confidence threshold.
NEIGHBOUR_CONFIDENCE_FACTOR = 0.5


@dataclass(frozen=True)
class ClipDepth:
    """MVS of every frame of a clip; depths are in the units of the pose translations.

    - ``depth`` (N,H,W) float32, NaN where unconfident;
    - ``confidence`` (N,H,W) float32 in [0,1];
    - ``inconsistent_fraction`` (N,): among pixels with a confident cost curve that could be checked
      against at least one neighbour's depth, the fraction consistent with none (moving things); 0 if none;
    - ``median_angle_deg`` (N,): median over confident pixels of the largest triangulation angle to a
      source view; 0 if none;
    - ``disagreement_fraction`` (N,): among confident pixels seen by at least 2 source views, the fraction
      where at least one of them does not match the image at that depth (ZNCC < 0.5): a photometric sign of
      motion, complementary to ``inconsistent_fraction`` (slow motion can stay geometrically consistent); 0 if none;
    - ``depth_range`` (N,2) swept near and far depth; ``sources`` the source frames of each frame.
    """

    depth: np.ndarray
    confidence: np.ndarray
    inconsistent_fraction: np.ndarray
    median_angle_deg: np.ndarray
    depth_range: np.ndarray
    sources: list[list[int]]
    disagreement_fraction: np.ndarray | None = None


def resolve_backend(name: str, device: torch.device) -> str:
    """``auto`` picks the compiled (numba) sweep on the CPU and torch on CUDA; numba needs the CPU."""
    if name == "auto":
        return "torch" if device.type == "cuda" else "numba"
    if name == "numba" and device.type != "cpu":
        raise ValueError(f"backend 'numba' runs on the CPU, not on {device.type}")
    return name


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is a ``ValueError``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch sees no CUDA GPU")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r} (expected auto, cpu or cuda)")
    return torch.device(name)


@dataclass(frozen=True)
class _Photometric:
    depth: torch.Tensor  # normalised units, NaN where no estimate
    confidence: torch.Tensor


class _ClipMvs:
    """Shared state of one clip: normalised rig, gray images, sparse cache, per-frame plans and results."""

    def __init__(self, images: np.ndarray, cameras: Sequence[Camera], params: MvsParams, device: torch.device) -> None:
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images must be (N,H,W,3) uint8, got {images.shape} {images.dtype}")
        if len(cameras) != len(images):
            raise ValueError(f"{len(images)} images but {len(cameras)} cameras")
        self.params = params
        self.device = device
        self.backend = resolve_backend(params.backend, device)
        if self.backend == "torch" and params.sgm_paths != 4:
            raise ValueError(f"sgm_paths {params.sgm_paths} needs the numba backend (torch aggregates 4 paths)")
        self.scale = pose_scale(cameras)
        self.rig: Rig = build_rig(cameras, images.shape[2], images.shape[1], self.scale)
        self.gray = to_gray(images, device)
        self.sparse = SparseCache(images, self.rig, params.max_features)
        self.plans: dict[int, FramePlan] = {}
        self.photo: dict[int, _Photometric] = {}

    def plan(self, i: int) -> FramePlan:
        if i not in self.plans:
            self.plans[i] = plan_frame(self.sparse, i, self.params)
        return self.plans[i]

    def photometric(self, i: int) -> _Photometric:
        if i in self.photo:
            return self.photo[i]
        plan, rig, p = self.plan(i), self.rig, self.params
        H, W = rig.height, rig.width
        if not plan.sources:
            nan = torch.full((H, W), float("nan"), device=self.device)
            self.photo[i] = _Photometric(nan, torch.zeros((H, W), device=self.device))
            return self.photo[i]
        src = list(plan.sources)
        rel = [rig.relative(i, j) for j in src]
        geometry = sweep_geometry(
            rig.K[i], rig.K[src], np.stack([r for r, _ in rel]), np.stack([t for _, t in rel]), H, W, self.device
        )
        inv = torch.linspace(1.0 / plan.far, 1.0 / plan.near, p.planes, dtype=torch.float64, device=self.device)
        eps = (p.min_texture / 2) ** 2
        if self.backend == "numba":
            inv_np, _, conf_np = mvs_numba.sweep_and_select(
                self.gray[i].numpy(),
                self.gray[src].numpy(),
                geometry.A.numpy(),
                geometry.q.numpy(),
                inv.to(torch.float32).numpy(),
                p.window,
                p.best_k,
                eps,
                geometry.bound,
                p.sgm_paths if p.aggregation == "sgm" else None,
                p.sgm_p1,
                p.sgm_p2,
            )
            inv_depth, conf = torch.from_numpy(inv_np), torch.from_numpy(conf_np)
        else:
            scores = mvs_cost.sweep_scores(
                self.gray[i], self.gray[src][:, None], geometry, inv, p.window, p.best_k, eps
            )
            if p.aggregation == "sgm":
                scores = mvs_cost.aggregate_paths(scores, p.sgm_p1, p.sgm_p2)
            inv_depth, _, conf = mvs_cost.winner_take_all(scores, inv.to(torch.float32))
        textured = local_std(self.gray[i], p.window) >= p.min_texture
        conf = torch.where(textured, conf, torch.zeros_like(conf))
        depth = torch.where(inv_depth > 0, 1.0 / inv_depth.clamp_min(1e-12), torch.full_like(inv_depth, float("nan")))
        self.photo[i] = _Photometric(depth, conf)
        return self.photo[i]

    def finish(self, i: int) -> tuple[np.ndarray, np.ndarray, float, float, float]:
        """Depth (pose units) and confidence of frame i, its inconsistent fraction, median angle, disagreement."""
        p, rig = self.params, self.rig
        photo = self.photometric(i)
        neighbours = [j for j in self.plan(i).sources if self.plan(j).sources]
        confident = photo.confidence >= p.confidence_threshold
        confidence = photo.confidence
        inconsistent = 0.0
        if p.geometric_consistency and neighbours:
            n_checked = torch.zeros_like(photo.confidence)
            n_consistent = torch.zeros_like(photo.confidence)
            for j in neighbours:
                other = self.photometric(j)
                usable = other.confidence >= NEIGHBOUR_CONFIDENCE_FACTOR * p.confidence_threshold
                nb_depth = torch.where(usable, other.depth, torch.full_like(other.depth, float("nan")))
                R, t = rig.relative(i, j)
                bounds = (p.consistency_max_reproj_px, p.consistency_max_rel_depth)
                if self.backend == "numba":
                    checked, consistent = mvs_numba.forward_backward(
                        photo.depth.numpy(), rig.K[i], nb_depth.numpy(), rig.K[j], R, t, *bounds
                    )
                    n_checked += torch.from_numpy(checked).float()
                    n_consistent += torch.from_numpy(consistent).float()
                else:
                    check = forward_backward(photo.depth, rig.K[i], nb_depth, rig.K[j], R, t, *bounds)
                    n_checked += check.checked.float()
                    n_consistent += check.consistent.float()
            geometric = (2 * n_consistent / n_checked.clamp_min(1)).clamp(0, 1)
            confidence = photo.confidence * geometric
            checkable = confident & (n_checked > 0)
            if bool(checkable.any()):
                inconsistent = float((checkable & (n_consistent == 0)).sum() / checkable.sum())
        keep = (confidence >= p.confidence_threshold) & (confidence > 0) & torch.isfinite(photo.depth)
        depth = torch.where(keep, photo.depth, torch.full_like(photo.depth, float("nan")))
        angle = self._median_angle(i, depth)
        disagreement = self._disagreement(i, depth)
        out_depth = (depth.cpu().numpy().astype(np.float64) * self.scale).astype(np.float32)
        out_conf = confidence.clamp(0, 1).cpu().numpy().astype(np.float32)
        return out_depth, out_conf, inconsistent, angle, disagreement

    def _disagreement(self, i: int, depth: torch.Tensor) -> float:
        """Fraction of finite pixels seen by 2+ sources where some source does not match at that depth."""
        sources = self.plan(i).sources
        if len(sources) < 2 or not bool(torch.isfinite(depth).any()):
            return 0.0
        rig, p = self.rig, self.params
        seen = torch.zeros_like(depth)
        agree = torch.zeros_like(depth)
        for j in sources:
            R, t = rig.relative(i, j)
            args = (rig.K[i], rig.K[j], R, t)
            eps = (p.min_texture / 2) ** 2
            if self.backend == "numba":
                zncc = torch.from_numpy(
                    mvs_numba.zncc_at_depth(
                        self.gray[i].numpy(), self.gray[j].numpy(), *args, depth.numpy(), p.window, eps
                    )
                )
            else:
                zncc = zncc_at_depth(self.gray[i], self.gray[j], *args, depth, p.window, eps)
            seen += torch.isfinite(zncc).float()
            agree += (zncc >= AGREEMENT_ZNCC).float()
        checked = torch.isfinite(depth) & (seen >= 2)
        if not bool(checked.any()):
            return 0.0
        return float((checked & (agree < seen)).sum() / checked.sum())

    def _median_angle(self, i: int, depth: torch.Tensor) -> float:
        """Median over finite pixels of the largest triangulation angle to a source camera, degrees."""
        mask = torch.isfinite(depth).reshape(-1)
        sources = self.plan(i).sources
        if not bool(mask.any()) or not sources:
            return 0.0
        rig = self.rig
        if self.backend == "numba":
            centers = [-(R.T @ t) for R, t in (rig.relative(i, j) for j in sources)]
            return mvs_numba.median_angle_deg(depth.numpy(), rig.K[i], np.stack(centers))
        pix = pixel_grid(rig.height, rig.width, depth.device)[:, mask]
        f64 = {"dtype": torch.float64, "device": depth.device}
        X = torch.linalg.solve(torch.as_tensor(rig.K[i], **f64), pix) * depth.reshape(-1)[mask].to(torch.float64)
        best = torch.zeros(X.shape[1], **f64)
        for j in sources:
            R, t = rig.relative(i, j)
            c = -torch.as_tensor(R.T @ t, **f64)  # source centre in reference coordinates
            a, b = -X, c[:, None] - X
            cos = (a * b).sum(0) / (a.norm(dim=0) * b.norm(dim=0)).clamp_min(1e-300)
            best = torch.maximum(best, torch.rad2deg(torch.arccos(cos.clamp(-1, 1))))
        return float(best.median())


def clip_depth(
    images: np.ndarray,
    cameras: list[Camera],
    params: MvsParams,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> ClipDepth:
    """MVS depth and confidence of every frame of a clip, with geometric consistency between frames.

    ``progress(done, total)`` is called after each frame's plane sweep.
    """
    with torch.no_grad():
        mvs = _ClipMvs(images, cameras, params, resolve_device(device))
        n = len(images)
        for i in range(n):
            mvs.photometric(i)
            if progress is not None:
                progress(i + 1, n)
        results = [mvs.finish(i) for i in range(n)]
    return ClipDepth(
        depth=np.stack([r[0] for r in results]),
        confidence=np.stack([r[1] for r in results]),
        inconsistent_fraction=np.array([r[2] for r in results], dtype=np.float64),
        median_angle_deg=np.array([r[3] for r in results], dtype=np.float64),
        depth_range=np.array([[mvs.plans[i].near, mvs.plans[i].far] for i in range(n)]) * mvs.scale,
        sources=[list(mvs.plans[i].sources) for i in range(n)],
        disagreement_fraction=np.array([r[4] for r in results], dtype=np.float64),
    )


def frame_depth(
    images: np.ndarray, cameras: list[Camera], index: int, params: MvsParams, device: str = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (H,W float32, NaN where unconfident) and confidence of frame ``index`` (its sources' depth maps
    are computed too, for the consistency check)."""
    if not 0 <= index < len(images):
        raise IndexError(f"frame {index} out of range 0..{len(images) - 1}")
    with torch.no_grad():
        mvs = _ClipMvs(images, cameras, params, resolve_device(device))
        depth, confidence, *_ = mvs.finish(index)
    return depth, confidence

"""The photometric loss of monodepth2 (Godard et al. 2019) with known cameras: pure functions on plain tensors.

A target frame's predicted depth lifts each pixel to 3D; the known relative pose and the source frame's intrinsics
project it into each source frame, whose colour is sampled there (kornia's unprojection and projection, bilinear
``grid_sample`` with border padding). The error of each warped source is ``a (1 - SSIM) / 2 + (1 - a) |L1|``
(kornia's SSIM, 3x3 window), and each pixel keeps its smallest error over the sources (occlusions: a pixel hidden
in one source is usually seen in another).

Auto-masking: a pixel that an **unwarped** source already explains at least as well as the warped ones (a static
camera, something moving with the camera, a textureless wall) carries no information about depth. As in
monodepth2 each pixel's loss is the minimum of the warped and the unwarped errors (ties, to :data:`AUTOMASK_TIE`,
go to the unwarped one): such pixels then cost their unwarped error, a constant, and so give no gradient, while a
depth that makes the warp a no-op (infinite depth on a translating camera) is never cheaper than the true one.
Dropping them from the average instead would be a shortcut: that depth would then cost nothing.

Scale: poses from SLAM or SfM come in unknown units, and the net's depth is scale-free like its MVS targets. The
depth is therefore normalised to median 1 over the pixels where a reference depth in pose units is known (the
curated MVS depth: only its median is used), and the translations are divided by that reference's median there:
the loss is the same for any unit of the poses and any scale of the prediction (:func:`anchor_depth`).

Nothing here knows the config or the registry; :mod:`mannequin.learning.objectives.photometric` wires it in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from kornia.geometry.camera.perspective import project_points
from kornia.geometry.conversions import normalize_pixel_coordinates
from kornia.geometry.depth import depth_to_3d_v2
from kornia.geometry.linalg import transform_points
from kornia.metrics import ssim

#: the SSIM window (monodepth2's 3x3)
SSIM_WINDOW = 3
#: errors closer than this are a tie, which auto-masking gives to the unwarped source: resampling a still camera's
#: frame through any depth moves it by rounding alone (errors about 1e-7 apart), and such pixels must not count as
#: explained by the warp. (monodepth2 adds noise of 1e-5 to the unwarped error instead, which splits ties at random.)
AUTOMASK_TIE = 1e-4


def warp_source(
    source: torch.Tensor, depth: torch.Tensor, K: torch.Tensor, source_K: torch.Tensor, source_pose: torch.Tensor
) -> torch.Tensor:
    """``source`` (N, C, H, W) resampled onto the target's pixel grid through the target's ``depth`` (N, 1, H, W).

    ``K`` and ``source_K`` (N, 3, 3) are the target's and the source's pixel intrinsics (pixel centres at integer
    coordinates, as :class:`mannequin.clips.cameras.Camera` and kornia use them); ``source_pose`` (N, 4, 4) takes
    target-camera points to source-camera points, in the units of ``depth``. Samples off the image take the
    border's colour (monodepth2's padding): a depth that sends pixels out of view is not excused from the loss.
    """
    h, w = depth.shape[-2:]
    points = depth_to_3d_v2(depth[:, 0], K)  # (N, H, W, 3) in the target camera
    in_source = transform_points(source_pose[:, None], points)
    pixels = project_points(in_source, source_K[:, None, None])  # (N, H, W, 2), x then y
    grid = normalize_pixel_coordinates(pixels, h, w)
    return F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=True)


def photometric_error(image: torch.Tensor, target: torch.Tensor, ssim_weight: float) -> torch.Tensor:
    """(N, 1, H, W) per-pixel error ``a (1 - SSIM) / 2 + (1 - a) |image - target|``, both means over channels."""
    l1 = (image - target).abs().mean(dim=1, keepdim=True)
    if ssim_weight == 0:
        return l1
    dssim = ((1 - ssim(image, target, SSIM_WINDOW)) / 2).clamp(0, 1).mean(dim=1, keepdim=True)
    return ssim_weight * dssim + (1 - ssim_weight) * l1


def masked_median(x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image median of ``x`` (B, 1, H, W) over ``valid`` (B, 1, H, W) bool, and whether it had any pixel (B,).

    An image without a valid pixel gets 1 (its median is unknown; the caller leaves it out)."""
    medians, found = [], []
    for xb, vb in zip(x, valid, strict=True):
        values = xb[vb]
        found.append(values.numel() > 0)
        medians.append(values.median() if values.numel() else xb.new_ones(()))
    return torch.stack(medians), torch.tensor(found, device=x.device)


def anchor_depth(pred_log: torch.Tensor, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The predicted depth in units of the scene's median depth, and that median in pose units.

    ``pred_log`` (B, 1, H, W) is log depth at any scale; ``reference`` (B, 1, H, W) is a depth in pose units, NaN
    where unknown. Returns ``(depth, pose_scale, anchored)``: ``exp(pred_log - median)`` with the median taken over
    the pixels where ``reference`` is known (so 1 there), the reference's median over the same pixels (B,), and
    whether the image had such pixels (B,). Divide the translations by ``pose_scale`` and the warp is in the same
    units as ``depth``: multiplying the poses and the reference by any factor, or the prediction, changes nothing.
    """
    known = torch.isfinite(reference) & (reference > 0)
    pred_median, anchored = masked_median(pred_log, known)
    ref_median, _ = masked_median(torch.log(reference.clamp_min(1e-30)).nan_to_num(0.0), known)
    depth = torch.exp(pred_log - pred_median.view(-1, 1, 1, 1))
    return depth, torch.exp(ref_median).detach(), anchored


def scale_poses(poses: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``poses`` (B, S, 4, 4) with their translations divided by ``scale`` (B,)."""
    out = poses.clone()
    out[..., :3, 3] = poses[..., :3, 3] / scale.view(-1, 1, 1).to(poses.dtype)
    return out


@dataclass
class PhotometricTerms:
    """What one photometric evaluation found, per target pixel (B, 1, H, W) unless said otherwise."""

    loss: torch.Tensor  # scalar: the mean of ``per_pixel`` over ``counted``
    per_pixel: torch.Tensor  # each pixel's loss: the smallest warped error, or the unwarped one where auto-masked
    warped_error: torch.Tensor  # the smallest error over the warped sources
    identity_error: torch.Tensor  # the smallest error over the unwarped sources
    automasked: torch.Tensor  # bool: an unwarped source explains the pixel at least as well (auto-masking)
    counted: torch.Tensor  # bool: pixels in the average (not masked out by the clip's masks, anchored image)
    warped: torch.Tensor  # (B, S, C, H, W) the warped sources


def photometric_terms(
    target: torch.Tensor,
    sources: torch.Tensor,
    depth: torch.Tensor,
    K: torch.Tensor,
    source_K: torch.Tensor,
    source_pose: torch.Tensor,
    *,
    ssim_weight: float = 0.85,
    automask: bool = True,
    counted: torch.Tensor | None = None,
) -> PhotometricTerms:
    """monodepth2's per-pixel minimum reprojection loss of ``sources`` (B, S, C, H, W) warped into ``target``
    (B, C, H, W) through ``depth`` (B, 1, H, W), with auto-masking.

    ``K`` (B, 3, 3), ``source_K`` (B, S, 3, 3), ``source_pose`` (B, S, 4, 4) target-to-source, in ``depth``'s units.
    ``counted`` (B, 1, H, W) bool: the pixels that count (default all); the others (moving people) are left out.
    """
    b, s = sources.shape[:2]
    flat = sources.flatten(0, 1)

    def repeat(x: torch.Tensor) -> torch.Tensor:  # one copy of the target's tensors per source
        return x.repeat_interleave(s, dim=0)

    warped = warp_source(flat, repeat(depth), repeat(K), source_K.flatten(0, 1), source_pose.flatten(0, 1))
    warped_errors = photometric_error(warped, repeat(target), ssim_weight).view(b, s, *depth.shape[-2:])
    warped_error = warped_errors.amin(dim=1, keepdim=True)
    identity_errors = photometric_error(flat, repeat(target), ssim_weight).view(b, s, *depth.shape[-2:])
    identity_error = identity_errors.amin(dim=1, keepdim=True).detach()
    if automask:
        automasked = identity_error <= warped_error + AUTOMASK_TIE
        per_pixel = torch.where(automasked, identity_error, warped_error)
    else:
        automasked = torch.zeros_like(warped_error, dtype=torch.bool)
        per_pixel = warped_error
    counted = torch.ones_like(automasked) if counted is None else counted.bool()
    weight = counted.to(per_pixel.dtype)
    loss = (per_pixel * weight).sum() / weight.sum().clamp_min(1.0)
    return PhotometricTerms(loss, per_pixel, warped_error, identity_error, automasked, counted,
                            warped.view(b, s, *warped.shape[1:]))  # fmt: skip


def edge_aware_smoothness(disparity: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """monodepth2's smoothness: ``|d_x| exp(-|I_x|) + |d_y| exp(-|I_y|)`` of the mean-normalised ``disparity``
    (B, 1, h, w), with ``image`` (B, C, h, w) gradients averaged over channels: depth may change where the image
    does. Mean-normalising makes it scale-free (a smaller depth scale cannot lower it)."""
    d = disparity / disparity.mean(dim=(2, 3), keepdim=True).clamp_min(1e-7)
    dx = (d[..., :, 1:] - d[..., :, :-1]).abs()
    dy = (d[..., 1:, :] - d[..., :-1, :]).abs()
    ix = (image[..., :, 1:] - image[..., :, :-1]).abs().mean(dim=1, keepdim=True)
    iy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean(dim=1, keepdim=True)
    return (dx * torch.exp(-ix)).mean() + (dy * torch.exp(-iy)).mean()

"""``pretrain.objective``: one sub-block per pretext objective, named as the objective is registered.

Each objective of :data:`mannequin.learning.objectives.OBJECTIVES` reads its own block (``pretrain.objective.<name>``)
and no other; a test checks that the blocks and the registry name the same objectives. The flat keys of earlier
versions (``colorize_k``, a ``temperature`` shared by two objectives) are refused with the key that replaced them
(:data:`RENAMED`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mannequin.config.base import Block


class MvsObjectiveParams(Block):
    """``mvs``: the scale-invariant log loss against curated MVS depth, plus multi-scale gradient matching."""

    gradient_weight: float = Field(0.5, ge=0, description="weight of the gradient-matching term")
    gradient_scales: int = Field(4, ge=1, description="scales of the gradient-matching term")
    smoothness_weight: float = Field(
        0.0,
        ge=0,
        description="weight of an edge-aware smoothness term of the log depth where the MVS target has no confident "
        "pixel (monodepth's: depth may change where the image does); 0 is off (0.1 and 1 measured no sharper: "
        "docs/experiments.md)",
    )


class MaskedParams(Block):
    """``masked``: hide square patches and reconstruct the RGB under them."""

    patch: int = Field(8, ge=1, description="side of a hidden patch (px)")
    ratio: float = Field(0.5, gt=0, lt=1, description="share of the patches hidden")


class ContrastiveParams(Block):
    """``contrastive``: InfoNCE between two frames of a clip over pooled backbone features."""

    temperature: float = Field(0.1, gt=0, description="InfoNCE temperature")
    embed_dim: int = Field(64, ge=2, description="size of the projected embedding")


class ColorizeParams(Block):
    """``colorize``: colourisation as classification over the ab bins of the training frames (Zhang et al. 2016)."""

    bin_frames: int = Field(64, ge=1, description="training frames sampled (evenly) to count the ab bins")
    grid: float = Field(10.0, gt=0, description="ab grid step (10: the paper's 313 bins)")
    lam: float = Field(0.5, ge=0, le=1, description="rebalancing mix with the uniform distribution (the paper's λ)")
    sigma: float = Field(5.0, gt=0, description="soft-encoding and smoothing width (ab units)")
    k: int = Field(5, ge=1, description="nearest bins in each soft target")
    temperature: float = Field(0.38, gt=0, description="annealed-mean decoding temperature (TensorBoard panel)")


class SelfieParams(Block):
    """``selfie``: choose the true patch of each hidden cell among the image's other hidden patches."""

    patch: int = Field(16, ge=4, description="cell size (px)")
    k: int = Field(8, ge=2, description="hidden cells per image (the answer + k-1 distractors)")
    margin: int = Field(2, ge=0, description="candidate interior inset (px), no border shortcut")
    fill: Literal["mean", "noise"] = Field("mean", description="what hidden cells are filled with")
    dim: int = Field(64, ge=2, description="patch and query code size")
    temperature: float = Field(0.1, gt=0, description="temperature of the cosine logits")


class CorrespondenceParams(Block):
    """``correspondence``: do two frames show one clip? A similarity map max-pooled to one logit."""

    dim: int = Field(64, ge=2, description="projection size of the similarity map")
    recolour: bool = Field(True, description="recolour each frame independently (no colour shortcut)")


class PhotometricParams(Block):
    """``photometric``: source frames of the clip warped into each frame through its predicted depth and the clip's
    cameras; monodepth2's loss (Godard et al. 2019) with known poses."""

    sources: int = Field(2, ge=1, description="source frames warped into each target frame")
    min_angle_deg: float = Field(1.0, gt=0, description="smallest triangulation angle of a source frame (as MVS)")
    max_angle_deg: float = Field(30.0, gt=0, description="largest triangulation angle of a source frame (as MVS)")
    ssim_weight: float = Field(0.85, ge=0, le=1, description="share of (1 - SSIM) / 2 in the error; the rest is L1")
    smoothness_weight: float = Field(
        1e-3, ge=0, description="edge-aware smoothness of mean-normalised inverse depth (halved at each coarser scale)"
    )
    automask: bool = Field(True, description="leave out pixels that the unwarped source explains at least as well")
    masks: bool = Field(True, description="leave the clip's masks (people, anything that may move) out of the loss")

    @model_validator(mode="after")
    def _check_angles(self) -> PhotometricParams:
        if self.max_angle_deg <= self.min_angle_deg:
            raise ValueError("max_angle_deg must be larger than min_angle_deg")
        return self


class ObjectiveParams(Block):
    """The knobs of the pretext objectives, one block per registered objective."""

    mvs: MvsObjectiveParams = MvsObjectiveParams()
    masked: MaskedParams = MaskedParams()
    contrastive: ContrastiveParams = ContrastiveParams()
    colorize: ColorizeParams = ColorizeParams()
    selfie: SelfieParams = SelfieParams()
    correspondence: CorrespondenceParams = CorrespondenceParams()
    photometric: PhotometricParams = PhotometricParams()


_OLD = "pretrain.objective."
#: flat keys of earlier params files -> the key (or keys) that replaced them
RENAMED: dict[str, tuple[str, ...]] = {
    _OLD + "gradient_weight": (_OLD + "mvs.gradient_weight",),
    _OLD + "gradient_scales": (_OLD + "mvs.gradient_scales",),
    _OLD + "mask_patch": (_OLD + "masked.patch",),
    _OLD + "mask_ratio": (_OLD + "masked.ratio",),
    _OLD + "temperature": (_OLD + "contrastive.temperature", _OLD + "selfie.temperature"),
    _OLD + "embed_dim": (_OLD + "contrastive.embed_dim",),
    _OLD + "colorize_bin_frames": (_OLD + "colorize.bin_frames",),
    _OLD + "colorize_grid": (_OLD + "colorize.grid",),
    _OLD + "colorize_lambda": (_OLD + "colorize.lam",),
    _OLD + "colorize_sigma": (_OLD + "colorize.sigma",),
    _OLD + "colorize_k": (_OLD + "colorize.k",),
    _OLD + "colorize_temperature": (_OLD + "colorize.temperature",),
    _OLD + "selfie_patch": (_OLD + "selfie.patch",),
    _OLD + "selfie_k": (_OLD + "selfie.k",),
    _OLD + "selfie_margin": (_OLD + "selfie.margin",),
    _OLD + "selfie_fill": (_OLD + "selfie.fill",),
    _OLD + "selfie_dim": (_OLD + "selfie.dim",),
    _OLD + "correspondence_dim": (_OLD + "correspondence.dim",),
    _OLD + "correspondence_recolour": (_OLD + "correspondence.recolour",),
}

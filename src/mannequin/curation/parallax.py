"""The parallax input of the Mannequin Challenge model: depth from nearby frames, masked where things move.

For each frame, the plane sweep of :mod:`mannequin.curation.mvs` runs with ``curate.masks.parallax_sources`` source
views (chosen by ``mvs_sources.select_sources``: first the frame whose triangulation angle over the scene is nearest
the target angle within ``min_angle_deg..max_angle_deg``, so it has enough baseline, then frames that see the scene
from other directions), in the clip's pose units. Each pixel keeps the depth its **best** source scores (``best_k``
1): where the scene is hidden from one source by an occlusion, another may see it. The paper's input has one source;
three (the default) cover a third more of the frame almost as accurately (docs/experiments.md). Inside the mask
(people, or anything else that may move) the depth is removed (NaN) and the confidence set to 0, because parallax
depth is wrong on what moves between the frames.

The network never sees the pose scale: it gets ``log depth - shift``, the shift being the median log depth over
the confident pixels, returned separately so that a prediction can be put back in pose units
(``depth = exp(x + shift)``). Scaling every pose translation by s scales the depth by s, adds log s to the
shift and leaves the normalised input unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mannequin.clips.cameras import Camera
from mannequin.clips.clip import Clip
from mannequin.clips.masks import has_masks, read_masks
from mannequin.config.curate import MvsParams
from mannequin.config.masks import MaskParams

#: Channels added to RGB, in order.
CHANNELS = ("parallax", "confidence", "mask")
#: mask sources that mark people (a user's own masks, the person segmenter): the others assume a frozen clip
PERSON_SOURCES = ("given", "segmenter")


def sweep_params(mvs: MvsParams, masks: MaskParams | None = None) -> MvsParams:
    """The parallax input's plane sweep: ``mvs`` with ``masks.parallax_sources`` source views, each pixel scored by
    its best one, and ``masks.parallax_planes`` planes (``masks`` default: ``MaskParams()``), validated."""
    masks = masks if masks is not None else MaskParams()
    update = {"num_sources": masks.parallax_sources, "best_k": 1, "planes": masks.parallax_planes}
    return MvsParams.model_validate({**mvs.model_dump(), **update})


def apply_mask(depth: np.ndarray, confidence: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Depth NaN and confidence 0 inside ``mask`` and wherever the depth is unknown (new arrays, float32)."""
    depth = np.asarray(depth, np.float32).copy()
    confidence = np.asarray(confidence, np.float32).copy()
    if mask is not None:
        depth[mask] = np.nan
    known = np.isfinite(depth) & (depth > 0)
    depth[~known] = np.nan
    confidence[~known] = 0.0
    return depth, confidence


def mask_channels(channels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``channels`` (..., H, W, 3) in :data:`CHANNELS` order with ``mask`` (H, W or broadcastable) removed: parallax
    and confidence 0 inside, the mask channel 1 (a new float32 array)."""
    out = np.array(channels, dtype=np.float32, copy=True)
    inside = np.broadcast_to(np.asarray(mask, bool), out.shape[:-1])
    out[..., 0][inside] = 0.0
    out[..., 1][inside] = 0.0
    out[..., 2][inside] = 1.0
    return out


def normalise_depth(depth: np.ndarray) -> tuple[np.ndarray, float]:
    """``(log depth - shift, shift)``: the shift is the median log depth over the known (finite, > 0) pixels.

    Unknown pixels are 0 in the output; with no known pixel the shift is 0.
    """
    known = np.isfinite(depth) & (depth > 0)
    if not known.any():
        return np.zeros(depth.shape, np.float32), 0.0
    log = np.log(depth[known].astype(np.float64))
    shift = float(np.median(log))
    out = np.zeros(depth.shape, np.float32)
    out[known] = (log - shift).astype(np.float32)
    return out, shift


def denormalise_depth(normalised: np.ndarray, shift: float) -> np.ndarray:
    """The inverse of :func:`normalise_depth` on known pixels: depth in pose units."""
    return np.exp(np.asarray(normalised, np.float64) + shift).astype(np.float32)


@dataclass(frozen=True)
class ParallaxInput:
    """The parallax input of every frame of a clip, ready to store with a shard.

    - ``parallax`` (N,H,W) float32: log depth minus ``shift``, 0 where there is no depth (masked or unconfident);
    - ``confidence`` (N,H,W) float32 in [0,1]: the sweep's confidence, 0 inside the mask and where depth is NaN;
    - ``mask`` (N,H,W) bool: what may move (True inside);
    - ``shift`` (N,) float64: median log depth (pose units) of the confident pixels, 0 where there are none;
    - ``depth`` (N,H,W) float32: the masked depth in pose units (NaN where none), for baselines and audits;
    - ``source`` (N,) int64: the first source frame of each frame's sweep, -1 where none had enough baseline;
    - ``frames`` (N,) int64 or None: the clip's frame indices (pose lines) these rows belong to, when known;
    - ``mask_source``: where the masks came from (``given | segmenter | motion | none``), "" when not recorded.
    """

    parallax: np.ndarray
    confidence: np.ndarray
    mask: np.ndarray
    shift: np.ndarray
    depth: np.ndarray
    source: np.ndarray
    frames: np.ndarray | None = None
    mask_source: str = ""

    def __len__(self) -> int:
        return len(self.parallax)

    def take(self, rows: Sequence[int] | np.ndarray) -> ParallaxInput:
        """The rows ``rows`` (positions, not frame indices) of every array."""
        rows = np.asarray(rows, dtype=np.int64)
        frames = None if self.frames is None else self.frames[rows]
        return ParallaxInput(
            self.parallax[rows], self.confidence[rows], self.mask[rows], self.shift[rows], self.depth[rows],
            self.source[rows], frames, self.mask_source,
        )  # fmt: skip

    def at_frames(self, frame_indices: Sequence[int]) -> ParallaxInput:
        """The rows of the clip's frames ``frame_indices`` (a frame not stored is a ``KeyError`` naming it)."""
        if self.frames is None:
            raise KeyError("this parallax input does not record its frame indices")
        row_of = {int(f): r for r, f in enumerate(self.frames)}
        missing = [int(f) for f in frame_indices if int(f) not in row_of]
        if missing:
            raise KeyError(f"frame {missing[0]} has no parallax input")
        return self.take([row_of[int(f)] for f in frame_indices])

    def resized(self, width: int, height: int) -> ParallaxInput:
        """Every per-pixel array at ``width`` x ``height`` by nearest neighbour (as a predictor resizes it)."""
        if self.parallax.shape[1:] == (height, width):
            return self
        import cv2

        def fit(a: np.ndarray) -> np.ndarray:
            return np.stack([cv2.resize(x, (width, height), interpolation=cv2.INTER_NEAREST) for x in a])

        return replace(
            self, parallax=fit(self.parallax), confidence=fit(self.confidence),
            mask=fit(self.mask.astype(np.uint8)) > 0, depth=fit(self.depth),
        )  # fmt: skip

    def channels_last(self) -> np.ndarray:
        """(N, H, W, 3) float32 in :data:`CHANNELS` order (what ``DepthPredictor.predict(parallax=...)`` takes)."""
        return np.stack([self.parallax, self.confidence, self.mask.astype(np.float32)], axis=-1)

    def channels(self) -> np.ndarray:
        """(N, 3, H, W) float32 in :data:`CHANNELS` order: normalised depth, confidence, mask (0/1)."""
        return np.stack([self.parallax, self.confidence, self.mask.astype(np.float32)], axis=1)


def sweep_parallax(
    images: np.ndarray, cameras: Sequence[Camera], sweep: MvsParams | None = None, device: str = "cpu"
) -> Any:
    """The parallax input's plane sweep of every frame, unmasked (a :class:`mannequin.curation.mvs.ClipDepth`);
    ``sweep`` as :func:`sweep_params` makes it (default: from the default params)."""
    from mannequin.curation.mvs import clip_depth

    params = sweep if sweep is not None else sweep_params(MvsParams())
    return clip_depth(np.asarray(images), list(cameras), params, device=device)


def masked_parallax(sweep: Any, masks: np.ndarray | None) -> ParallaxInput:
    """The parallax input of a ``sweep`` (:func:`sweep_parallax`) with ``masks`` (N,H,W) removed."""
    shape = sweep.depth.shape
    if masks is not None and np.shape(masks) != shape:
        raise ValueError(f"masks must be {shape} like the images, got {np.shape(masks)}")
    n = shape[0]
    mask = np.zeros(shape, bool) if masks is None else np.asarray(masks, bool)
    depth = np.empty(shape, np.float32)
    confidence = np.empty(shape, np.float32)
    parallax = np.empty(shape, np.float32)
    shift = np.zeros(n, np.float64)
    for i in range(n):
        depth[i], confidence[i] = apply_mask(sweep.depth[i], sweep.confidence[i], mask[i])
        parallax[i], shift[i] = normalise_depth(depth[i])
    source = np.array([s[0] if s else -1 for s in sweep.sources], dtype=np.int64)
    return ParallaxInput(parallax, confidence, mask, shift, depth, source)


def clip_parallax(
    images: np.ndarray,
    cameras: Sequence[Camera],
    masks: np.ndarray | None,
    sweep: MvsParams | None = None,
    device: str = "cpu",
) -> ParallaxInput:
    """The parallax input of every frame: a pure function of (images, cameras, masks, params).

    ``images`` (N,H,W,3) uint8, ``cameras`` at that size, ``masks`` (N,H,W) bool or ``None`` (nothing masked);
    ``sweep`` the sweep's params as :func:`sweep_params` makes them (default: from the default params).
    """
    images = np.asarray(images)
    if masks is not None and np.shape(masks) != images.shape[:3]:
        raise ValueError(f"masks must be {images.shape[:3]} like the images, got {np.shape(masks)}")
    return masked_parallax(sweep_parallax(images, cameras, sweep, device), masks)


def clip_masks(
    clip: Clip,
    params: MaskParams,
    images: np.ndarray,
    cameras: Sequence[Camera],
    mvs_depth: np.ndarray | None,
    indices: Sequence[int] | None = None,
    max_width: int | None = None,
) -> tuple[np.ndarray, str]:
    """The masks of a clip's frames ``indices`` at the size of ``images``, and the source used (``params.resolve``).

    ``given``: the clip's ``masks/`` (:func:`mannequin.clips.masks.read_masks`); ``motion``: from ``mvs_depth``
    (N,H,W, NaN where unconfident) by :func:`mannequin.curation.motion.motion_masks`; ``segmenter``: the person
    segmenter on the frames read again at up to ``params.segmenter.max_width`` (small people need the pixels),
    scaled down to ``images`` and united with the motion masks where ``mvs_depth`` is given; ``none``: nothing.
    """
    from mannequin.curation.segmenter_model import is_installed

    source = params.resolve(has_masks(clip.path), clip.path, is_installed())
    shape = np.shape(images)[:3]
    if source == "given":
        masks = read_masks(clip, indices, max_width)
        assert masks is not None  # resolve() said the folder exists
    elif source == "motion" or (source == "segmenter" and mvs_depth is not None):
        from mannequin.curation.motion import motion_masks

        if mvs_depth is None:
            raise ValueError("motion masks need the clip's MVS depth")
        masks = motion_masks(
            mvs_depth, images, cameras, dilate_px=params.motion_dilate_px, fill_px=params.motion_fill_px
        )
    else:
        masks = np.zeros(shape, bool)
    if source == "segmenter":
        masks = masks | segmenter_masks(clip, params, indices, (shape[2], shape[1]))
    if masks.shape != np.shape(images)[:3]:
        raise ValueError(f"masks {masks.shape} do not match the images {np.shape(images)[:3]}")
    return masks, source


def segmenter_masks(clip: Clip, params: MaskParams, indices: Sequence[int] | None, size: tuple[int, int]) -> np.ndarray:
    """The person segmenter's masks of the pose lines ``indices`` (all by default), at ``size`` (width, height)."""
    import cv2

    from mannequin.curation.segmenter import PersonSegmenter

    segmenter = PersonSegmenter(params.segmenter)
    frames, _ = clip.read_frames(indices, params.segmenter.max_width)
    found = segmenter.masks(frames)
    if found.shape[1:] == (size[1], size[0]):
        return found
    return np.stack([cv2.resize(m.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0 for m in found])


def parallax_for_clip(
    clip: Clip,
    params: MaskParams,
    mvs: MvsParams,
    images: np.ndarray,
    cameras: Sequence[Camera],
    indices: Sequence[int],
    frames: Sequence[int] | None = None,
    mvs_depth: np.ndarray | None = None,
    max_width: int | None = None,
    device: str = "cpu",
) -> ParallaxInput:
    """The parallax input of a clip's frames ``indices`` (read as ``images``, ``cameras``), masked from the source
    ``params`` says (:func:`clip_masks`), with its ``frames`` (default ``indices``) and ``mask_source`` recorded.

    ``motion`` masks come from ``mvs_depth`` (curation's multi-view depth) where given, and from the parallax
    sweep's own depth otherwise (the ``parallax`` stage, which runs no other sweep).
    """
    sweep = sweep_parallax(images, cameras, sweep_params(mvs, params), device)
    evidence = mvs_depth if mvs_depth is not None else sweep.depth
    masks, source = clip_masks(clip, params, images, cameras, evidence, indices, max_width)
    inputs = masked_parallax(sweep, masks)
    frames = np.asarray(indices if frames is None else frames, dtype=np.int64)
    return replace(inputs, frames=frames, mask_source=source)

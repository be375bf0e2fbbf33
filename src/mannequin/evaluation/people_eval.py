"""The evaluation of where the people are, beside the per-model metrics: ``<metrics>/people/``.

For every test clip it reads the masks (``masks/``, optional) and runs the sweep of the parallax input once
(:func:`mannequin.curation.parallax.sweep_parallax` with :func:`~mannequin.curation.parallax.sweep_params` of
``curate.mvs`` and ``curate.masks``, as the ``parallax`` stage does): its depth, unmasked, is the raw parallax
baseline. The input of ``rgb+parallax`` models is the ``parallax`` stage's stored one (what they were fine-tuned
with), else that sweep with the clip's masks applied. Each model's predictions and the baseline are scored per
pixel group and clip set (:mod:`mannequin.evaluation.regions`). One moving-people test frame is kept for the
report's figure.

Files (no paths, no timestamps: the same models and data give the same bytes):

- ``people/regions.json``: ``{"models": {name: RegionScores.summary()}, "clips": {test clip_id: moving | frozen |
  unknown}, "flicker": {name: {"mean", "pairs", "warp"}}, ...}``: ``flicker`` is the
  :func:`mannequin.evaluation.flicker.clip_flicker` of each model, the raw parallax depth and the truth itself
  (``truth``: the figure's floor) over consecutive ground-truth frames, outside the masks, median-aligned to the
  truth per frame and warped by the clip's poses, averaged over every clip's pairs;
- ``people/frame.npz``: ``clip_id``, ``frame_index``, ``image`` (H,W,3) uint8, ``depth`` truth (metres, NaN
  invalid), ``mask`` bool, ``parallax`` the masked parallax depth (pose units, NaN where none), ``models`` (K,) str
  and ``predictions`` (K,H,W) float32, each model's prediction after its alignment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.curation.parallax import ParallaxInput, masked_parallax, sweep_parallax, sweep_params
from mannequin.evaluation.alignment import align, apply_fit
from mannequin.evaluation.examples import save_npz
from mannequin.evaluation.flicker import clip_flicker
from mannequin.evaluation.metrics import valid_mask
from mannequin.evaluation.regions import PARALLAX, RegionScores, clip_people, score_groups, score_paper
from mannequin.evaluation.testset import HeldOutClip

PEOPLE_DIR = "people"
REGIONS_FILE = "regions.json"
FRAME_FILE = "frame.npz"
RGB, RGB_PARALLAX = "rgb", "rgb+parallax"
#: the flicker figure of the sensor depth itself, beside the models' and the raw parallax's
TRUTH = "truth"


def model_inputs(predictor: Any) -> str:
    """``rgb`` or ``rgb+parallax``: the predictor's ``inputs`` (else its ``model.json``'s; else ``rgb``)."""
    meta = getattr(predictor, "meta", None) or {}
    return str(getattr(predictor, "inputs", None) or meta.get("inputs") or RGB)


def stored_input(store: Path | None, clip: HeldOutClip) -> ParallaxInput | None:
    """The clip's parallax input from the ``parallax`` stage's store at its ground-truth frames (None without)."""
    from mannequin.curation.parallax_store import read_parallax

    if store is None or not store.is_dir():
        return None
    stored = read_parallax(store, clip.clip_id)
    if stored is None:
        return None
    try:
        stored = stored.at_frames(clip.frame_indices)
    except KeyError:
        return None  # stored from other frames (e.g. SfM poses): compute it instead
    h, w = clip.images.shape[1:3]
    return stored.resized(w, h)  # stored at curate.max_width: nearest, as the predictor resizes it


@dataclass(frozen=True)
class ClipInputs:
    """What the people evaluation knows of one test clip."""

    people: str | None  # moving | frozen | None (unknown)
    masks: np.ndarray | None  # (N,H,W) bool at the frames' size, None without masks/
    raw: ParallaxInput  # the unmasked sweep of the parallax input (the baseline)
    model_input: ParallaxInput  # with the mask applied (what an rgb+parallax model sees)
    cameras: list | None = None  # the frames' cameras, at their size

    def channels(self) -> np.ndarray:
        """(N,H,W,3) float32 in :data:`mannequin.curation.parallax.CHANNELS` order, for ``predict(parallax=...)``."""
        return self.model_input.channels_last()


@dataclass
class PeopleEvaluation:
    """Scores by pixel group for every model and the raw parallax, and the figure's frame."""

    data_dir: Path
    mvs: Any  # MvsParams of the sweep (``sweep_params``)
    min_depth: float
    max_depth: float
    device: str = "cpu"
    store: Path | None = None  # the parallax stage's output: the rgb+parallax models' input where it holds the clip
    people: dict[str, str] = field(default_factory=dict)
    scores: dict[str, RegionScores] = field(default_factory=dict)
    frame: dict[str, Any] | None = None
    clips: dict[str, str] = field(default_factory=dict)  # the test clips seen, with their people ("unknown")
    flicker: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # per name, (mean, pairs) per clip
    _frame_slot: int | None = None

    @classmethod
    def for_data(
        cls,
        data_dir: str | Path,
        curate: Any,
        min_depth: float,
        max_depth: float,
        store: str | Path | None = None,
    ) -> PeopleEvaluation:
        """From the ``curate`` block (``mvs``, ``masks``, ``device``), as the parallax stage sweeps."""
        mvs = sweep_params(curate.mvs, curate.masks)
        device = "cpu" if curate.device == "auto" else curate.device
        store = None if store is None else Path(store)
        return cls(Path(data_dir), mvs, min_depth, max_depth, device, store, clip_people(data_dir))

    def clip_inputs(self, clip: HeldOutClip) -> ClipInputs:
        """Masks and parallax of a test clip's ground-truth frames (the sweep runs once per clip)."""
        from mannequin.clips.clip import open_clip
        from mannequin.clips.masks import read_masks

        opened = open_clip(self.data_dir / "clips" / clip.clip_id)
        w = clip.images.shape[2]
        masks = read_masks(opened, clip.frame_indices, max_width=w)
        cameras = opened.cameras_for(clip.frame_indices, max_width=w)
        sweep = sweep_parallax(clip.images, cameras, self.mvs, self.device)
        raw = masked_parallax(sweep, None)
        model_input = stored_input(self.store, clip) or masked_parallax(sweep, masks)
        inputs = ClipInputs(self.people.get(clip.clip_id), masks, raw, model_input, cameras)
        self.clips[clip.clip_id] = inputs.people or "unknown"
        self._frame_slot = None
        if self.frame is None and inputs.people == "moving" and masks is not None:
            self._frame_slot = int(np.argmax(masks.reshape(len(masks), -1).mean(axis=1)))
            k = self._frame_slot
            self.frame = {
                "clip_id": np.array(clip.clip_id),
                "frame_index": np.array(clip.frame_indices[k], np.int64),
                "image": clip.images[k],
                "depth": clip.depth[k].astype(np.float32),
                "mask": masks[k],
                "parallax": inputs.model_input.depth[k].astype(np.float32),
                "models": [],
                "predictions": [],
            }
        return inputs

    def add_model(self, name: str, inputs: str, alignment: str, clip: HeldOutClip, c: ClipInputs, preds) -> None:
        """Score one model's predictions of a clip by pixel group."""
        run = self.scores.setdefault(name, RegionScores(name, inputs, alignment))
        self.add_flicker(name, clip, c, preds)
        for k, (pred, gt) in enumerate(zip(preds, clip.depth, strict=True)):
            human = None if c.masks is None else c.masks[k]
            groups = score_groups(pred, gt, human, alignment, self.min_depth, self.max_depth)
            run.add(c.people, groups, score_paper(pred, gt, human, self.min_depth, self.max_depth))
            if k == self._frame_slot and self.frame is not None:
                mask = valid_mask(gt, self.min_depth, self.max_depth)
                fit = align(pred[mask], gt[mask], alignment, self.min_depth, self.max_depth)[1]
                aligned = apply_fit(pred, fit, alignment, self.min_depth, self.max_depth)
                self.frame["models"].append(name)
                self.frame["predictions"].append(aligned.astype(np.float32))

    def add_baseline(self, clip: HeldOutClip, c: ClipInputs) -> None:
        """Score the raw (unmasked) parallax depth, median-aligned, wherever it has depth."""
        run = self.scores.setdefault(PARALLAX, RegionScores(PARALLAX, "parallax", "median"))
        self.add_flicker(PARALLAX, clip, c, c.raw.depth)
        self.add_flicker(TRUTH, clip, c, clip.depth)  # the floor: what warping and occlusions leave of exact depth
        for k, gt in enumerate(clip.depth):
            human = None if c.masks is None else c.masks[k]
            groups = score_groups(c.raw.depth[k], gt, human, "median", self.min_depth, self.max_depth)
            run.add(c.people, groups, score_paper(c.raw.depth[k], gt, human, self.min_depth, self.max_depth))

    def add_flicker(self, name: str, clip: HeldOutClip, c: ClipInputs, depth: np.ndarray) -> None:
        """The flicker of one clip's depth (a model's predictions or the raw parallax), warped by its poses."""
        out = clip_flicker(depth, clip.images, c.masks, c.cameras, clip.depth)
        if out["mean"] is not None:
            self.flicker.setdefault(name, []).append((out["mean"], out["pairs"]))

    def flicker_summary(self) -> dict[str, dict[str, Any]]:
        """Per name, the flicker averaged over every pair of every clip (``mean``), the ``pairs`` and the warp."""
        out = {}
        for name, parts in sorted(self.flicker.items()):
            pairs = sum(n for _, n in parts)
            out[name] = {"mean": sum(m * n for m, n in parts) / pairs, "pairs": pairs, "warp": "poses"}
        return out

    def result(self) -> dict[str, Any]:
        """The JSON-ready ``regions.json``."""
        return {
            "flicker": self.flicker_summary(),
            "clips": dict(sorted(self.clips.items())),
            "min_depth": self.min_depth,
            "max_depth": self.max_depth,
            "models": {name: self.scores[name].summary() for name in sorted(self.scores)},
        }

    def write(self, out_dir: str | Path) -> None:
        """``<out>/people/regions.json`` and, when a moving-people frame was seen, ``<out>/people/frame.npz``."""
        folder = Path(out_dir) / PEOPLE_DIR
        text = json.dumps(self.result(), indent=2, sort_keys=True, allow_nan=False) + "\n"
        atomic_write_text(folder / REGIONS_FILE, text)
        if self.frame is not None:
            f = dict(self.frame)
            f["models"] = np.array(f["models"], dtype=str)
            preds = f["predictions"]
            f["predictions"] = np.stack(preds) if preds else np.zeros((0, *f["depth"].shape), np.float32)
            save_npz(folder / FRAME_FILE, **f)

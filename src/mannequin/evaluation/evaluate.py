"""Scoring depth predictors on the held-out test frames, and the ``metrics/<model>.json`` they produce.

Any object with ``.predict(images (N,H,W,3) uint8) -> (N,H,W) float depth`` and a ``.meta`` dict (the model's
``model.json``) can be evaluated; the CLI passes :class:`mannequin.learning.predict.DepthPredictor` instances.

Averages are **per image** (Monodepth2): each metric is computed over the valid pixels of a frame, then averaged
over frames; a clip's entry averages its own frames. Frames without a valid ground-truth pixel are skipped and
counted. The output holds no paths and no timestamps, so the same models and data give the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from mannequin.atomic import atomic_write_text
from mannequin.clips.ids import is_valid_name
from mannequin.errors import InputError
from mannequin.evaluation.alignment import apply_fit
from mannequin.evaluation.examples import EXAMPLES_DIR, FRAMES_FILE, mvs_for_frame, save_npz
from mannequin.evaluation.metrics import UNCERTAINTY_FIELDS, mean_metrics, score_image, uncertainty_ranking, valid_mask
from mannequin.evaluation.people_eval import RGB_PARALLAX, ClipInputs, PeopleEvaluation, model_inputs
from mannequin.evaluation.testset import HeldOutClip

MODEL_FILE = "model.json"
_BUDGETED = re.compile(r"^(?P<init>.+)-(?P<budget>\d+)$")


class Predictor(Protocol):
    """What evaluation needs of a model."""

    meta: dict

    def predict(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelInfo:
    """Who a model is: ``name`` is ``<kind>-<directory name>`` (e.g. ``finetune-scratch-4``, ``pretrain-mvs``)."""

    name: str
    kind: str
    init: str | None = None
    budget: int | None = None
    objective: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "init": self.init,
            "budget": self.budget,
            "objective": self.objective,
        }


def model_info(model_dir: str | Path, meta: Mapping[str, Any]) -> ModelInfo:
    """Name a model from its directory and ``model.json``.

    ``kind`` is ``meta["kind"]`` (else the parent directory's name). A fine-tuned model's ``init`` and ``budget``
    come from its directory name ``<init>-<budget>`` (else from ``meta``); a pretrained model's ``objective`` is its
    directory name, so ``models/pretrain/mvs-uncurated`` is the objective ``mvs-uncurated``.
    """
    model_dir = Path(model_dir)
    kind = str(meta.get("kind") or model_dir.parent.name)
    name = f"{kind}-{model_dir.name}"
    if not is_valid_name(name):  # it names the metrics files: it must not leave --out
        shown = name if len(name) <= 60 else name[:60] + "..."
        raise InputError(model_dir / MODEL_FILE, f"model name {shown!r} is not a safe file name", "bad_model")
    if kind == "finetune":
        m = _BUDGETED.match(model_dir.name)
        init = m.group("init") if m else meta.get("init")
        budget = int(m.group("budget")) if m else meta.get("budget")
        return ModelInfo(name, kind, init=init, budget=None if budget is None else int(budget))
    return ModelInfo(name, kind, objective=model_dir.name)


def find_model_dirs(root: str | Path) -> list[Path]:
    """Model directories (holding ``model.json``) at most two levels under ``root``, sorted; ``root`` itself counts."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "no such models directory", "missing_models")
    found = {p.parent for pattern in (MODEL_FILE, f"*/{MODEL_FILE}", f"*/*/{MODEL_FILE}") for p in root.glob(pattern)}
    return sorted(d for d in found if not any(part.startswith(".") for part in d.relative_to(root).parts))


def alignment_for(info: ModelInfo, table: Mapping[str, str]) -> str:
    """The alignment for a model: by its name first, then by its kind, else ``none``."""
    return str(table.get(info.name, table.get(info.kind, "none")))


@dataclass
class ModelRun:
    """One model being evaluated, and what it has scored so far."""

    info: ModelInfo
    predictor: Predictor
    alignment: str
    scores: dict[str, list[dict]] = field(default_factory=dict)
    skipped: int = 0
    example_depth: list[np.ndarray] = field(default_factory=list)
    #: per image, how well the predictor's spread ranks its errors (models with ``predict_spread`` only)
    uncertainty: list[dict] = field(default_factory=list)


def predict_clip(
    predictor: Predictor, images: np.ndarray, batch_size: int, parallax: np.ndarray | None = None
) -> np.ndarray:
    """Predictions (N,H,W) float32 at the frames' resolution, in batches of ``batch_size``; ``parallax`` (N,H,W,3),
    the parallax channels of an ``rgb+parallax`` model, goes with its frames."""
    n, h, w = images.shape[:3]
    out = np.empty((n, h, w), dtype=np.float32)
    for start in range(0, n, batch_size):
        extra = {} if parallax is None else {"parallax": parallax[start : start + batch_size]}
        batch = np.asarray(predictor.predict(images[start : start + batch_size], **extra), dtype=np.float32)
        if batch.ndim != 3 or batch.shape[0] != min(batch_size, n - start):
            raise ValueError(f"predict returned shape {batch.shape} for {min(batch_size, n - start)} images")
        for k, depth in enumerate(batch):
            if depth.shape != (h, w):
                depth = cv2.resize(depth, (w, h), interpolation=cv2.INTER_LINEAR)
            out[start + k] = depth
    return out


def predict_spread(
    predictor: Predictor, images: np.ndarray, batch_size: int, parallax: np.ndarray | None = None
) -> np.ndarray | None:
    """Per-pixel uncertainty (N,H,W) of a predictor that has ``predict_spread`` (a ``bins`` model), else None."""
    fn = getattr(predictor, "predict_spread", None)
    if fn is None:
        return None
    n, h, w = images.shape[:3]
    parts = []
    for start in range(0, n, batch_size):
        extra = {} if parallax is None else {"parallax": parallax[start : start + batch_size]}
        part = fn(images[start : start + batch_size], **extra)
        if part is None:
            return None
        parts.append(np.asarray(part, dtype=np.float32))
    out = np.concatenate(parts)
    if out.shape[1:] != (h, w):
        out = np.stack([cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR) for x in out])
    return out


def _example_slot(clip: HeldOutClip) -> int:
    return len(clip.frame_indices) // 2


def evaluate_models(
    runs: list[ModelRun],
    clips: Iterable[HeldOutClip],
    *,
    min_depth: float,
    max_depth: float,
    batch_size: int = 8,
    examples: int = 3,
    curated_dir: str | Path | None = None,
    example_mvs: Callable[[str, int], np.ndarray] | None = None,
    progress: int | None = None,
    people: PeopleEvaluation | None = None,
) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
    """Score every model on every clip; returns ``{model name: result}`` and the example frames.

    Each clip is loaded once and shown to every model. The examples are the middle ground-truth frame of each of
    the first ``examples`` clips (in clip-id order), resized to the first example's size. Their MVS target comes
    from a curated shard holding the frame, else from ``example_mvs(clip_id, frame_index)`` when given.
    With ``progress`` (the number of clips expected), a progress bar over clips x models goes to stderr.
    With ``people``, every clip's masks and parallax input are computed once, ``rgb+parallax`` models get the
    parallax channels, and every model and the raw parallax are scored by pixel group (``people.write`` saves them).
    """
    from tqdm import tqdm

    ex: dict[str, list] = {"clip_ids": [], "frame_indices": [], "images": [], "depth": [], "mvs": []}
    # closed even when a clip fails: its last state must not print after the error line
    with tqdm(total=(progress or 0) * len(runs), desc="evaluate", unit="model-clip", disable=progress is None) as bar:
        for clip in clips:
            want_example = len(ex["clip_ids"]) < examples
            slot = _example_slot(clip)
            if want_example:
                shape = ex["images"][0].shape[:2] if ex["images"] else clip.depth.shape[1:]
                ex["clip_ids"].append(clip.clip_id)
                ex["frame_indices"].append(clip.frame_indices[slot])
                ex["images"].append(_resize(clip.images[slot], shape, cv2.INTER_AREA))
                ex["depth"].append(_resize(clip.depth[slot], shape, cv2.INTER_NEAREST))
                mvs = mvs_for_frame(curated_dir, clip.clip_id, clip.frame_indices[slot], clip.depth.shape[1:])
                if example_mvs is not None and not np.isfinite(mvs).any():
                    mvs = _resize(example_mvs(clip.clip_id, clip.frame_indices[slot]), mvs.shape, cv2.INTER_NEAREST)
                ex["mvs"].append(_resize(mvs, shape, cv2.INTER_NEAREST))
            extra = people.clip_inputs(clip) if people is not None else None
            for run in runs:
                parallax = parallax_channels(run, clip.clip_id, extra)
                try:
                    preds = predict_clip(run.predictor, clip.images, batch_size, parallax)
                except ValueError as exc:
                    raise ValueError(f"{run.info.name} on {clip.clip_id}: {exc}") from None
                if people is not None and extra is not None:
                    people.add_model(run.info.name, model_inputs(run.predictor), run.alignment, clip, extra, preds)
                clip_scores = run.scores.setdefault(clip.clip_id, [])
                spreads = predict_spread(run.predictor, clip.images, batch_size, parallax)
                for k, (pred, gt) in enumerate(zip(preds, clip.depth, strict=True)):
                    try:
                        score = score_image(pred, gt, run.alignment, min_depth, max_depth)
                    except ValueError as exc:
                        raise ValueError(
                            f"{run.info.name} on {clip.clip_id} frame {clip.frame_indices[k]}: {exc}"
                        ) from None
                    if score is None:
                        run.skipped += 1
                    else:
                        clip_scores.append(score)
                        if spreads is not None:
                            mask = valid_mask(gt, min_depth, max_depth)
                            aligned = apply_fit(pred, score, run.alignment, min_depth, max_depth)
                            run.uncertainty.append(uncertainty_ranking(gt[mask], aligned[mask], spreads[k][mask]))
                    if want_example and k == slot:
                        fit = score or {"scale": 1.0}
                        aligned = apply_fit(pred, fit, run.alignment, min_depth, max_depth).astype(np.float32)
                        run.example_depth.append(_resize(aligned, ex["images"][0].shape[:2], cv2.INTER_LINEAR))
                bar.set_postfix_str(f"{run.info.name} on {clip.clip_id}", refresh=False)
                bar.update()
            if people is not None and extra is not None:
                people.add_baseline(clip, extra)
    results = {run.info.name: summarise(run, min_depth, max_depth) for run in runs}
    example_arrays = {
        "clip_ids": np.array(ex["clip_ids"], dtype=str),
        "frame_indices": np.array(ex["frame_indices"], dtype=np.int64),
    }
    for key in ("images", "depth", "mvs"):
        example_arrays[key] = np.stack(ex[key]) if ex[key] else np.zeros((0, 0, 0), dtype=np.float32)
    return results, example_arrays


def parallax_channels(run: ModelRun, clip_id: str, extra: ClipInputs | None) -> np.ndarray | None:
    """The parallax channels an ``rgb+parallax`` model needs for a clip (None for an ``rgb`` model)."""
    if model_inputs(run.predictor) != RGB_PARALLAX:
        return None
    if extra is None:
        raise ValueError(f"{run.info.name} takes rgb+parallax, but no parallax input was computed for {clip_id}")
    return extra.channels()


def _resize(a: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    if a.shape[:2] == tuple(shape):
        return np.asarray(a)
    return cv2.resize(np.asarray(a), (shape[1], shape[0]), interpolation=interpolation)


def summarise(run: ModelRun, min_depth: float, max_depth: float) -> dict[str, Any]:
    """The JSON-ready result of one model: overall and per-clip per-image means, counts, alignment."""
    all_scores = [s for scores in run.scores.values() for s in scores]
    if not all_scores:
        raise ValueError(f"{run.info.name}: no test frame with valid ground truth")
    clips = {
        clip_id: {
            "metrics": mean_metrics(scores),
            "num_frames": len(scores),
            "num_pixels": int(sum(s["n_pixels"] for s in scores)),
        }
        for clip_id, scores in sorted(run.scores.items())
        if scores
    }
    return {
        "model": run.info.as_dict(),
        "alignment": run.alignment,
        "averaging": "per_image",
        "min_depth": min_depth,
        "max_depth": max_depth,
        "metrics": mean_metrics(all_scores),
        "num_clips": len(clips),
        "num_frames": len(all_scores),
        "num_frames_skipped": run.skipped,
        "num_pixels": int(sum(s["n_pixels"] for s in all_scores)),
        "alignment_scale_median": float(np.median([s["scale"] for s in all_scores])),
        "clips": clips,
        **(
            {"uncertainty": {k: float(np.mean([u[k] for u in run.uncertainty])) for k in UNCERTAINTY_FIELDS}}
            if run.uncertainty
            else {}
        ),
    }


def dumps(result: Mapping[str, Any]) -> str:
    """Stable JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(result, indent=2, sort_keys=True, allow_nan=False) + "\n"


def write_results(
    out_dir: str | Path, results: Mapping[str, dict], examples: Mapping[str, np.ndarray] | None, runs: list[ModelRun]
) -> list[Path]:
    """Write ``<out>/<model>.json`` per model and, when given, the example files; returns the JSON paths."""
    out_dir = Path(out_dir)
    paths = []
    for name, result in sorted(results.items()):
        path = out_dir / f"{name}.json"
        atomic_write_text(path, dumps(result))
        paths.append(path)
    if examples is not None and len(examples["clip_ids"]):
        save_npz(out_dir / EXAMPLES_DIR / FRAMES_FILE, **examples)
        for run in runs:
            save_npz(out_dir / EXAMPLES_DIR / f"{run.info.name}.npz", depth=np.stack(run.example_depth))
    return paths


def load_predictor(model_dir: str | Path) -> Predictor:
    """The project's predictor for a model directory (imported here so that torch loads only when needed)."""
    from mannequin.learning.predict import DepthPredictor

    return DepthPredictor.load(model_dir)


def evaluate_dirs(
    model_dirs: list[Path],
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    alignment: Mapping[str, str],
    min_depth: float,
    max_depth: float,
    batch_size: int = 8,
    examples: int = 3,
    curated_dir: str | Path | None = None,
    mvs_curate_params: Any = None,
    loader=load_predictor,
    progress: bool = False,
    people_curate: Any = None,
    parallax_store: str | Path | None = None,
) -> dict[str, dict]:
    """Evaluate the models in ``model_dirs`` on ``data_dir``'s test clips and write their metrics to ``out_dir``.

    ``loader(model_dir)`` builds a predictor (injected in tests). With ``mvs_curate_params`` (a ``CurateParams``),
    example frames without a curated MVS target get one computed for the picture. ``progress``: a bar on stderr.
    With ``people_curate`` (the ``curate`` block), the people evaluation runs too (``<out>/people/``), the
    rgb+parallax models reading their input from ``parallax_store`` where it holds it. With ``curated_dir``, each
    pretrained model's result also gets its ``target_gap`` (:mod:`mannequin.evaluation.target_gap`).
    """
    from functools import partial

    from mannequin.clips.depth_png import sensor_depth_indices
    from mannequin.evaluation.examples import computed_mvs
    from mannequin.evaluation.testset import held_out_clip_ids, iter_held_out_clips

    if not model_dirs:
        raise InputError(out_dir, "no model to evaluate (no model.json found)", "missing_models")
    runs = []
    for model_dir in model_dirs:
        predictor = loader(model_dir)
        info = model_info(model_dir, getattr(predictor, "meta", {}) or {})
        runs.append(ModelRun(info, predictor, alignment_for(info, alignment)))
    names = [r.info.name for r in runs]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(out_dir, f"two models are both named {dup!r}", "duplicate_model")
    clips = iter_held_out_clips(data_dir)
    people = None
    if people_curate is not None:
        people = PeopleEvaluation.for_data(data_dir, people_curate, min_depth, max_depth, parallax_store)
    results, ex = evaluate_models(
        runs,
        clips,
        min_depth=min_depth,
        max_depth=max_depth,
        batch_size=batch_size,
        examples=examples,
        curated_dir=curated_dir,
        example_mvs=None if mvs_curate_params is None else partial(computed_mvs, data_dir, curate=mvs_curate_params),
        progress=sum(1 for c in held_out_clip_ids(data_dir) if sensor_depth_indices(data_dir, c)) if progress else None,
        people=people,
    )
    if curated_dir is not None:
        from mannequin.evaluation.target_gap import target_gap

        for run in runs:
            gap = target_gap(run.predictor, curated_dir, batch_size) if run.info.kind == "pretrain" else None
            if gap is not None:
                results[run.info.name]["target_gap"] = gap
    write_results(out_dir, results, ex, runs)
    if people is not None:
        people.write(out_dir)
    return results

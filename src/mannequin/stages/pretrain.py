"""The pretraining stages of ``dvc.yaml`` (``pretrain@<objective>``, ``pretrain-uncurated``): ``mannequin pretrain``.

One run pretrains on curated shards with an objective (a name or a ``+``-joined mix; ``-parallax`` after it trains the
``rgb+parallax`` net) and exports the model to ``pretrain.out/<name>``, its checkpoints and logs in
``pretrain.runs/pretrain-<name>`` (:func:`mannequin.learning.fit.fit_and_export`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from mannequin.clips.ids import validate_clip_id
from mannequin.config import Params
from mannequin.config.base import PARALLAX_SUFFIX, split_parallax
from mannequin.curation.shards import PARALLAX_NAME
from mannequin.learning.data import PretrainDataModule, ShardFrames
from mannequin.learning.export import BACKBONE_NAME, load_state
from mannequin.learning.fit import SCORE_BATCH, TrainResult, digest, fit_and_export
from mannequin.learning.modules import PretrainModule
from mannequin.learning.nets import load_rgb_backbone
from mannequin.learning.objectives import parse_objectives
from mannequin.learning.source_views import CAMERAS_NAME


def run(
    params: Params,
    objective: str,
    progress: bool = False,
    callbacks: list[pl.Callback] | None = None,
    name: str | None = None,
) -> TrainResult:
    """Pretrain on curated shards with ``objective`` (a name or a ``+``-joined mix) and export the model.

    Folders come from ``params.pretrain`` (the CLI sets its options there as overrides). The model goes to
    ``out/<name>`` (default: the objective), its checkpoints to ``runs/pretrain-<name>``.
    """
    p = params.pretrain
    spec, reads_parallax = split_parallax(objective)
    names = parse_objectives(spec)
    tag = "+".join(names) + (PARALLAX_SUFFIX if reads_parallax else "")
    if reads_parallax:  # ``mvs-parallax``: the same objective, the rgb+parallax net
        p = p.model_copy(update={"net": p.net.model_copy(update={"inputs": "rgb+parallax"})})
    curated, data = Path(p.curated), Path(p.data)
    if name is not None:
        validate_clip_id(name, "--name")  # the same safe-name rule as clip ids: one path component
    out_dir = Path(p.out) / (name or tag)
    run_dir = Path(p.runs) / f"pretrain-{name or tag}"
    parallax_masks = params.curate.masks.random_masks if p.net.inputs == "rgb+parallax" else None

    pl.seed_everything(p.seed, workers=True, verbose=False)
    module = PretrainModule(p, names)
    backbone_bytes = b""
    if p.backbone is not None:
        backbone_path = Path(p.backbone) / BACKBONE_NAME
        load_rgb_backbone(module.net, load_state(backbone_path))
        backbone_bytes = backbone_path.read_bytes()
    views = module.views
    dm = PretrainDataModule(
        curated, data, p.image_size, p.batch_size, p.val_fraction, p.seed, module.needs_pairs, p.num_workers,
        parallax_masks, views,
    )  # fmt: skip
    arrays = ("meta.json", "images.npy", "depth.npy", "confidence.npy")
    arrays += (PARALLAX_NAME,) if parallax_masks is not None or views is not None else ()
    arrays += (CAMERAS_NAME,) if views is not None else ()
    shard_files = [s.path / f for s in dm.shards for f in arrays if (s.path / f).is_file()]
    extra = [] if parallax_masks is None else [parallax_masks, hashlib.sha256(backbone_bytes).hexdigest()]
    run_digest = digest("pretrain", tag, p.model_dump(mode="json", exclude={"curated", "data", "out", "runs"}),
                        *extra, files=shard_files)  # fmt: skip

    def score_sets() -> dict[str, Any]:
        train = ShardFrames(dm.train_set.paths, dm.clip_labels, dm.image_size, dm.pairs, False, parallax_masks, views)
        return {"train": train, **({"val": dm.val_set} if len(dm.val_set) else {})}

    def meta(trainer: pl.Trainer) -> dict[str, Any]:
        info = {
            "kind": "pretrain",
            "objective": tag,
            "objectives": names,
            "weights": module.weights,
            "trains_decoder": module.trains_decoder,
            "net": p.net.model_dump(),
            "image_size": list(p.image_size),
            "seed": p.seed,
            "steps": trainer.global_step,
            "world_size": trainer.world_size,
            "train_clips": dm.train_ids,
            "val_clips": dm.val_ids,
            "train_frames": len(dm.train_set),
            "val_frames": len(dm.val_set),
        }
        if parallax_masks is not None:  # which masks the parallax input had: per clip source, + random ones
            info.update(mask_sources=dm.mask_sources(), random_masks=parallax_masks)
        if views is not None:  # which clips had masks, and which gave no photometric targets (and why)
            info.update(mask_sources=dm.mask_sources(), photometric_skipped=dm.skipped)
        if p.backbone is not None:
            info["backbone"] = Path(p.backbone).name
        return info

    has_val = len(dm.val_set) > 0
    trainer = p.trainer.model_copy(update={"max_steps": p.steps_for(tag)})
    return fit_and_export(
        module, dm, trainer, run_dir, out_dir, run_digest, has_val=has_val, score_sets=score_sets,
        score_batch=SCORE_BATCH, seed=p.seed, meta=meta, progress=progress, callbacks=callbacks,
    )  # fmt: skip
